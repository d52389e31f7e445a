"""Views of the platform layer itself: the health check and the unknown-clinic page."""

from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from config.resilience import in_their_language
from tenants.urls_util import platform_url


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for the platform's load balancer (and Heroku)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def unknown_clinic(request: HttpRequest) -> HttpResponse:
    """No clinic lives at this subdomain: a friendly 404 that points to the platform."""
    in_their_language(request)  # runs inside ClinicMiddleware, before LocaleMiddleware
    return render(
        request,
        "unknown_clinic.html",
        {"host": request.get_host(), "platform_url": platform_url(request)},
        status=404,
    )


def email_management_disabled(request: HttpRequest) -> HttpResponse:
    """A person's sign-in address is the one their invitation (or signup) verified; no adding others."""
    raise Http404
