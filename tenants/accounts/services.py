"""Writes for accounts: creating staff, inviting them, accepting an invitation."""

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

from tenants.accounts.models import Invitation, Role, User

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


def user_set_active(*, user: User, active: bool, by: User) -> User:
    if user.pk == by.pk and not active:
        raise ValidationError(_("You cannot deactivate your own account."))
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user
