"""Two-factor enforcement: a clinic's staff when the owner requires it, operators when settings do."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from tenants.accounts.selectors import user_has_totp
from tenants.models import Clinic


def _two_factor_required(tenant: Clinic, user: object) -> bool:
    if tenant.schema_name == get_public_schema_name():
        return settings.OPERATORS_REQUIRE_TWO_FACTOR and getattr(user, "is_staff", False)
    return tenant.require_two_factor


class RequireTwoFactorMiddleware:
    exempt_prefixes = ("/accounts/", "/static/", "/i18n/", "/healthz", "/favicon.ico")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        user = getattr(request, "user", None)
        if (
            tenant is not None
            and _two_factor_required(tenant, user)
            and user is not None
            and user.is_authenticated
            and not request.path.startswith(self.exempt_prefixes)
            and not user_has_totp(user)
        ):
            if request.path.startswith("/api/"):
                detail = _("This clinic requires two-factor authentication. Set it up in your account first.")
                return JsonResponse({"error": "two_factor_required", "detail": detail}, status=403)
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
