"""Reads for accounts: staff lists, invitations, practitioners, the owners' log, and the access helper for
staff pages."""

from allauth.mfa.models import Authenticator
from django.db.models import QuerySet
from django.utils import timezone

from tenants.accounts.models import Invitation, OwnerAction, Role, User
from tenants.accounts.services import hash_token


def staff_list() -> QuerySet[User]:
    return User.objects.exclude(role="").order_by("full_name")


def invitations_pending() -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def invitation_get_by_token(token: str) -> Invitation | None:
    """The pending invitation behind a link's token, or None (unknown, used, revoked or expired)."""
    invitation = Invitation.objects.filter(token_hash=hash_token(token)).first()
    if invitation is None or not invitation.is_pending:
        return None
    return invitation


def user_has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def staff_member_get(*, user_id: int) -> User | None:
    return staff_list().filter(pk=user_id).first()


def invitation_get(*, invitation_id: int) -> Invitation | None:
    """An invitation of this clinic that is still open (not accepted, not revoked), expired or not."""
    return (
        Invitation.objects.filter(pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .first()
    )


def invitations_revoked_recently(*, limit: int = 10) -> QuerySet[Invitation]:
    """Invitations revoked (by an owner or replaced), newest first: the staff page says their links are dead."""
    return Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=False).order_by("-revoked_at")[:limit]


def practitioners() -> QuerySet[User]:
    """The clinic's doctors and nurses (active or not): whose SIP numbers the clinic keeps."""
    return User.objects.filter(role__in=[Role.DOCTOR, Role.NURSE]).order_by("full_name", "pk")


def nik_holders() -> QuerySet[User]:
    """The clinic's owners, doctors and nurses (active or not): whose NIKs SATUSEHAT knows them by."""
    return User.objects.filter(role__in=[Role.OWNER, Role.DOCTOR, Role.NURSE]).order_by("full_name", "pk")


def owner_actions(*, limit: int = 20) -> QuerySet[OwnerAction]:
    return OwnerAction.objects.select_related("by", "member", "invitation").order_by("-at", "-id")[:limit]


def device_revocations(device_ids: list[str]) -> dict[str, OwnerAction]:
    """Who revoked each of these devices (the latest revocation), by device id."""
    found: dict[str, OwnerAction] = {}
    actions = OwnerAction.objects.filter(kind=OwnerAction.Kind.DEVICE_REVOKED, device_id__in=device_ids)
    for action in actions.select_related("by").order_by("at", "id"):
        found[action.device_id] = action
    return found
