"""What a request gets when it cannot be handled as sent: a body over the limit (413) and a database out
of reach (503 with Retry-After), as JSON on the API and as a page elsewhere, never a bare 500.

A device treats 5xx as "try again later" and 4xx as an answer, so a database that is away must say
503, and a body too big must say so before anything reads it.
"""

import sys
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from config.middleware import is_api_path

RETRY_AFTER_SECONDS = 30


def _is_api(request: HttpRequest) -> bool:
    return is_api_path(request.path)


def in_their_language(request: HttpRequest) -> None:
    """For an answer made before LocaleMiddleware has run (or after it failed)."""
    translation.activate(translation.get_language_from_request(request))


class RequestSizeLimitMiddleware:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused with 413 naming the limit, before anything
    reads it (Django would answer an HTML 400 from deep inside, which a device retries forever)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is None or length <= limit:
            return self.get_response(request)
        in_their_language(request)
        detail = _("Send at most %(size)s at a time (this request is %(sent)s).") % {
            "size": _megabytes(limit),
            "sent": _megabytes(length),
        }
        if _is_api(request):
            return JsonResponse({"error": "too_large", "detail": detail, "max_bytes": limit}, status=413)
        return render(request, "413.html", {"detail": detail}, status=413)


def _megabytes(size: int) -> str:
    return f"{number_format(size / 1024 / 1024, 1)} MB"  # 4,0 MB in Indonesian


# PostgreSQL's errors that time mends: the connection (class 08), a serialization failure or deadlock
# (the transaction was rolled back whole), too many connections, a server shutting down or starting.
_TRANSIENT = {"40001", "40P01", "53300", "57P01", "57P02", "57P03"}


def _database_away(error: BaseException | None) -> bool:
    """A connection lost or refused, or a transaction PostgreSQL rolled back that a retry can pass; not
    a statement that will fail again (a timeout, a limit), which stays a 500."""
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    code = getattr(error.__cause__, "pgcode", None)
    return code is None or code.startswith("08") or code in _TRANSIENT


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler: a lost or refused database connection is 503 with Retry-After (nothing was
    saved, try again); anything else is a 500 in the API's shape or the error page."""
    in_their_language(request)
    if _database_away(sys.exc_info()[1]):
        detail = _("The clinic's records are out of reach for a moment. Nothing was saved; try again shortly.")
        if _is_api(request):
            response: HttpResponse = JsonResponse({"error": "unavailable", "detail": detail}, status=503)
        else:
            response = render(request, "503.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if _is_api(request):
        return JsonResponse({"detail": _("Something went wrong. The error has been recorded.")}, status=500)
    return render(request, "500.html", status=500)
