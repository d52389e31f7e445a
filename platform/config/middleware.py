"""Request routing by host: the clinic of the request's host, bad hosts, and suspended clinics."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_tenants.middleware.main import TenantMainMiddleware

from config.sentry import tag_clinic


class ClinicMiddleware(TenantMainMiddleware):
    """Pick the clinic schema from the Host header.

    A host outside the platform domain is refused with 400 (django-tenants would answer 404); an unknown
    subdomain gets the friendly page of `config.views.unknown_clinic`.
    """

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        request.get_host()  # raises DisallowedHost -> 400 for hosts outside ALLOWED_HOSTS
        response = super().process_request(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            tag_clinic(tenant.schema_name)
        return response


def _is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class SuspendedClinicMiddleware:
    """A suspended clinic's pages show a notice and its API and sync refuse; its data is untouched."""

    allowed_prefixes = ("/static/", "/healthz", "/i18n/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is None or not tenant.is_suspended:
            return self.get_response(request)
        if request.path.startswith(self.allowed_prefixes):
            return self.get_response(request)
        message = _("This clinic's account is suspended. Its records are kept safe; please contact the platform.")
        if _is_api_path(request.path):
            return JsonResponse({"error": "clinic_suspended", "detail": message}, status=403)
        return render(request, "clinic_suspended.html", {"message": message}, status=403)
