"""Access helpers for clinic pages: who may see what."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from tenants.accounts.models import Role, User


def clinic_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in as staff of this clinic (every user of a clinic schema has a role)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.role:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def owner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @clinic_staff_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.role != Role.OWNER:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def server_pages(user: User) -> dict[str, str]:
    """The clinic's server pages this person may open, by name (for the app's links to them)."""
    pages = {"home": reverse("home")}
    if user.role == Role.OWNER:
        pages["staff"] = reverse("staff")  # staff, invitations and the clinic's security settings
        pages["reports"] = reverse("reports")
        pages["clinic_settings"] = reverse("clinic_settings")
        pages["devices"] = reverse("devices")
        pages["audit"] = reverse("audit")
        pages["displays"] = reverse("queue_display_links")  # waiting-room display links
        pages["satusehat"] = reverse("satusehat")  # the connection; failures and drug codes link from it
        pages["export"] = reverse("satusehat_export")
    pages["two_factor"] = reverse("mfa_index")
    pages["password"] = reverse("account_change_password")
    return pages
