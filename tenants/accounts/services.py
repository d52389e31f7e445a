"""Writes for accounts: creating staff, inviting them, accepting an invitation, and what an owner
changes about staff and the clinic (each recorded in the owners' log, `OwnerAction`)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.accounts.models import Invitation, OwnerAction, Role, User
from tenants.models import Clinic

INVITATION_LIFETIME = timedelta(days=7)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _normalize_email(email: str) -> str:
    return email.strip().lower()


@transaction.atomic
def user_create(
    *, email: str, full_name: str, role: str, password: str, is_staff: bool = False, is_superuser: bool = False
) -> User:
    """Create a user in the current schema with a verified primary email (for allauth)."""
    email = _normalize_email(email)
    if role and role not in Role.values:
        raise ValidationError({"role": [_("Unknown role.")]})
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": [_("Someone with this email address already has an account here.")]})
    user = User(email=email, full_name=full_name.strip(), role=role, is_staff=is_staff, is_superuser=is_superuser)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


def operator_create(*, email: str, full_name: str, password: str) -> User:
    """A platform operator: a user of the public schema (console and admin), never of a clinic."""
    with schema_context(get_public_schema_name()):
        return user_create(
            email=email, full_name=full_name, role="", password=password, is_staff=True, is_superuser=True
        )


@dataclass(frozen=True)
class InvitationSent:
    invitation: Invitation
    token: str


@transaction.atomic
def invitation_create(*, invited_by: User, email: str, role: str, full_name: str = "") -> InvitationSent:
    """Record an invitation and return its secret token (only its hash is stored)."""
    email = _normalize_email(email)
    if role not in Role.values:
        raise ValidationError({"role": [_("Unknown role.")]})
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": [_("Someone with this email address already has an account here.")]})
    # A new invitation replaces any earlier pending one for the same address.
    Invitation.objects.filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        full_name=full_name.strip(),
        role=role,
        token_hash=hash_token(token),
        invited_by=invited_by,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    owner_action_record(kind=OwnerAction.Kind.INVITED, by=invited_by, invitation=invitation, after={"role": role})
    return InvitationSent(invitation=invitation, token=token)


def invitation_send_email(*, sent: InvitationSent, clinic_name: str, accept_url: str) -> None:
    context = {
        "clinic_name": clinic_name,
        "accept_url": accept_url,
        "inviter": sent.invitation.invited_by.full_name,
        "role": Role(sent.invitation.role).label,
        "expires_at": sent.invitation.expires_at,
    }
    subject = _("You are invited to join %(clinic)s") % {"clinic": clinic_name}
    body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, None, [sent.invitation.email])


@transaction.atomic
def invitation_accept(*, invitation: Invitation, full_name: str, password: str) -> User:
    """Create the invited person's account with the invitation's role; the link then stops working."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError(_("This invitation has already been used or has expired."))
    user = user_create(email=invitation.email, full_name=full_name, role=invitation.role, password=password)
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, by: User) -> User:
    if user.pk == by.pk and not active:
        raise ValidationError(_("You cannot deactivate your own account."))
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    kind = OwnerAction.Kind.REACTIVATED if active else OwnerAction.Kind.DEACTIVATED
    owner_action_record(kind=kind, by=by, member=user, before={"active": not active}, after={"active": active})
    return user


def owner_action_record(
    *,
    kind: str,
    by: User,
    member: User | None = None,
    invitation: Invitation | None = None,
    device_id: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> OwnerAction:
    """One line of the owners' log (call it inside the transaction of the change it records)."""
    return OwnerAction.objects.create(
        kind=kind, by=by, member=member, invitation=invitation, device_id=device_id, before=before, after=after
    )


@transaction.atomic
def invitation_resend(*, invitation: Invitation, by: User) -> InvitationSent:
    """A new secret and a new week for a pending invitation: the link sent before stops working."""
    invitation = Invitation.objects.select_for_update().select_related("invited_by").get(pk=invitation.pk)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise ValidationError(_("This invitation was already accepted or revoked; invite the person again."))
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(token)
    invitation.expires_at = timezone.now() + INVITATION_LIFETIME
    invitation.save(update_fields=["token_hash", "expires_at"])
    owner_action_record(kind=OwnerAction.Kind.INVITATION_RESENT, by=by, invitation=invitation)
    return InvitationSent(invitation=invitation, token=token)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: User) -> Invitation:
    """The invitation's link stops working (already accepted ones cannot be revoked: deactivate the person)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation was already accepted; deactivate the person instead."))
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        owner_action_record(kind=OwnerAction.Kind.INVITATION_REVOKED, by=by, invitation=invitation)
    return invitation


@transaction.atomic
def user_set_role(*, user: User, role: str, by: User) -> User:
    """A new role for a staff member. Their devices rebuild what they hold on their next sync (a pull
    by a device whose `pulled_as_role` differs answers `reset`). The clinic always keeps an owner."""
    if role not in Role.values:
        raise ValidationError({"role": [_("Unknown role.")]})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.role == role:
        return user
    if user.role == Role.OWNER:
        # Locks the owners' rows, so two owners demoting each other at once cannot leave none.
        owners = list(
            User.objects.select_for_update().filter(role=Role.OWNER, is_active=True).values_list("pk", flat=True)
        )
        if owners == [user.pk] or not owners:
            raise ValidationError(
                {"role": [_("%(name)s is the clinic's only owner. Make someone else an owner first.") % {"name": user}]}
            )
    before = user.role
    user.role = role
    user.save(update_fields=["role"])
    owner_action_record(
        kind=OwnerAction.Kind.ROLE_CHANGED, by=by, member=user, before={"role": before}, after={"role": role}
    )
    return user


CLINIC_SETTINGS_FIELDS = (
    "name",
    "address",
    "phone",
    "licence_number",
    "queue_per_practitioner",
    "display_first_names",
)


@transaction.atomic
def clinic_settings_update(
    *, clinic: Clinic, by: User, values: dict, sip_numbers: dict[int, str], niks: dict[int, str] | None = None
) -> Clinic:
    """The clinic's details and queue options (its row in the public schema) and practitioners' SIP
    numbers and NIKs, saved together or not at all; what changed goes to the owners' log."""
    before = {name: getattr(clinic, name) for name in CLINIC_SETTINGS_FIELDS}
    changed = [name for name in CLINIC_SETTINGS_FIELDS if name in values and values[name] != before[name]]
    for name in changed:
        setattr(clinic, name, values[name])
    if changed:
        clinic.save(update_fields=changed)
    sip_before: dict[str, str] = {}
    sip_after: dict[str, str] = {}
    for member in User.objects.filter(pk__in=sip_numbers).select_for_update():
        number = sip_numbers[member.pk].strip()
        if member.sip_number != number:
            sip_before[str(member.pk)], sip_after[str(member.pk)] = member.sip_number, number
            member.sip_number = number
            member.save(update_fields=["sip_number"])
    nik_before: dict[str, str] = {}
    nik_after: dict[str, str] = {}
    for member in User.objects.filter(pk__in=niks or {}).select_for_update():
        nik = (niks or {})[member.pk].strip()
        if member.nik != nik:
            nik_before[str(member.pk)], nik_after[str(member.pk)] = member.nik, nik
            member.nik = nik
            member.save(update_fields=["nik"])
    if nik_after:
        from satusehat.models import Reason
        from satusehat.outbox import queue_failed

        queue_failed(Reason.PRACTITIONER)
    if changed or sip_after or nik_after:
        owner_action_record(
            kind=OwnerAction.Kind.SETTINGS_CHANGED,
            by=by,
            before={
                **{name: before[name] for name in changed},
                **({"sip_numbers": sip_before} if sip_after else {}),
                **({"niks": nik_before} if nik_after else {}),
            },
            after={
                **{name: values[name] for name in changed},
                **({"sip_numbers": sip_after} if sip_after else {}),
                **({"niks": nik_after} if nik_after else {}),
            },
        )
    return clinic
