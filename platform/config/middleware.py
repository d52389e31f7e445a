"""Request routing by host (the clinic of the request's host, bad hosts, suspended clinics), and gzip for JSON."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_tenants.middleware.main import TenantMainMiddleware

from config.sentry import tag_clinic
from config.suspension import support_contact, suspended_answer


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


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class SuspendedClinicMiddleware:
    """A suspended clinic's pages say so (naming the clinic and whom to contact) and its API and sync
    refuse with `403 {"code": "clinic_suspended", ...}`; its data is untouched. Signing out still works,
    so a shared device can be left signed out."""

    allowed_prefixes = ("/static/", "/healthz", "/i18n/", "/favicon.ico", "/accounts/logout/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is None or not tenant.is_suspended:
            return self.get_response(request)
        if request.path.startswith(self.allowed_prefixes):
            return self.get_response(request)
        if is_api_path(request.path):
            return JsonResponse(suspended_answer(tenant.name), status=403)
        context = {"clinic_name": tenant.name, "contact": support_contact()}
        return render(request, "clinic_suspended.html", context, status=403)


class JsonGZipMiddleware(GZipMiddleware):
    """Gzip for the JSON API and sync answers (a pull page of 1,000 records: 611 KB, 78 KB gzipped),
    and for nothing that holds a secret an attacker could probe by reflection (BREACH).

    BREACH reads a secret out of a compressed body whose length an eavesdropper sees, by making the
    victim's browser repeat a request that reflects the attacker's guesses beside it. So:
    - A response that carries the CSRF token is never compressed. Django renews the CSRF cookie on
      every response whose view read the token (`get_token`: the `/api/me/` answer, every page with a
      form), so such a response is recognised by that cookie being set. The session id is only ever in
      headers, which this does not compress.
    - Only JSON is compressed (pages, which hold forms, are not), and only for requests the app itself
      makes (`Sec-Fetch-Site: same-origin`), a typed address (`none`), or, from a browser that sends no
      such header (Safari before 16.4), a request carrying the app's `X-CSRFToken` header, which a
      navigation cannot add and another origin cannot send without a CORS preflight we never allow.
      Another site, or another clinic's subdomain (same-site, so `SameSite=Lax` cookies would go
      along), cannot have the browser fetch a compressed, signed-in answer at all.
    Django's random padding of the gzip header ("Heal the BREACH") stays on as well.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not _is_json(response) or settings.CSRF_COOKIE_NAME in response.cookies:
            return response
        patch_vary_headers(response, ("Sec-Fetch-Site",))
        if not _asked_by_the_app(request):
            patch_vary_headers(response, ("Accept-Encoding",))  # the same request from the app is compressed
            return response
        return super().process_response(request, response)


def _is_json(response: HttpResponse) -> bool:
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _asked_by_the_app(request: HttpRequest) -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    return "X-CSRFToken" in request.headers
