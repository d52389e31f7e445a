"""One error shape for the JSON API: 400 with field messages, 403 with a reason, 409 for a stale version.

Django's ValidationError and PermissionDenied raised by services become DRF responses here, so views stay
thin and no input a person or a device can send becomes a 500.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ConflictError(Exception):
    """A write made against state that has changed since (answered with 409 and `payload`)."""

    def __init__(self, message: str, **payload: Any) -> None:
        super().__init__(message)
        self.payload = payload


def validation_payload(exc: DjangoValidationError) -> dict[str, Any]:
    if hasattr(exc, "error_dict"):
        return {"errors": exc.message_dict}
    return {"errors": {"non_field_errors": exc.messages}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        return Response(validation_payload(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        detail = str(exc) or "You do not have permission to do this."
        return Response({"detail": detail}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, ConflictError):
        return Response({"detail": str(exc), **exc.payload}, status=status.HTTP_409_CONFLICT)
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_400_BAD_REQUEST and "errors" not in response.data:
        response.data = {"errors": response.data}
    return response
