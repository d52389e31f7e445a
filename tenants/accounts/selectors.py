"""Reads for accounts: staff lists, invitations, and the access helper for staff pages."""

from allauth.mfa.models import Authenticator
from django.db.models import QuerySet
from django.utils import timezone

from tenants.accounts.models import Invitation, User
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
