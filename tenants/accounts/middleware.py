"""When a clinic requires two-factor authentication, staff without TOTP must set it up first."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from tenants.accounts.selectors import user_has_totp


class RequireTwoFactorMiddleware:
    exempt_prefixes = ("/accounts/", "/static/", "/i18n/", "/healthz")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        user = getattr(request, "user", None)
        if (
            tenant is not None
            and tenant.require_two_factor
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
