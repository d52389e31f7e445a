"""The OpenAPI schema's error replies: every status an operation can answer, declared in one place.

`ClinicAutoSchema` (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) adds to each operation the replies that come
from the platform rather than from the view (config/api_errors.py, config/resilience.py, DRF itself),
by what the operation takes, unless the view declared that status itself:

- 400 `{"errors": {field: messages}}` when it takes a body or any query or header parameter;
- 403 `{"detail", "error"?}` always (not signed in, another role's operation, a failed CSRF check, a
  suspended clinic, two-factor authentication not set up); a suspended clinic adds `code`,
  `clinic_name` and `contact` (config/suspension.py);
- 404 `{"detail"}` when its path names something, or its list is paged (a page past the end);
- 409 `{"detail", "version"?}` on a PATCH (a stale version) and on a create (a client-made id taken);
- 413 `{"error": "too_large", ...}` on every POST, PUT and PATCH (a body over the size limit);
- 415 `{"detail"}` when it takes a body (one that is not JSON);
- 503 `{"error": "unavailable", ...}` with Retry-After everywhere (the database out of reach).
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentRegistry
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from config.resilience import RETRY_AFTER_SECONDS

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@extend_schema_field(
    {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
        "description": "Messages a person understands (one text for a body that is not JSON).",
    }
)
class _Messages(serializers.JSONField):
    pass


class BadRequestOutput(serializers.Serializer):
    errors = serializers.DictField(
        child=_Messages(),
        help_text="By field; `non_field_errors` for the whole, `detail` for a body that cannot be read.",
    )


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


class SupportContactOutput(serializers.Serializer):
    email = serializers.CharField(help_text="The platform's support address (SUPPORT_EMAIL).")
    phone = serializers.CharField(allow_null=True, help_text="The platform's support phone (SUPPORT_PHONE), if any.")


class ForbiddenOutput(serializers.Serializer):
    detail = serializers.CharField(help_text="What happened, in the request's language.")
    error = serializers.ChoiceField(
        ["clinic_suspended", "two_factor_required"],
        required=False,
        help_text="Set when the whole clinic's API is closed to this person (config/middleware.py, tenants).",
    )
    code = serializers.ChoiceField(
        ["clinic_suspended"],
        required=False,
        help_text="The clinic is suspended (not a signed-out session): `clinic_name` and `contact` come with it.",
    )
    clinic_name = serializers.CharField(required=False, help_text="With clinic_suspended: the clinic's name.")
    contact = SupportContactOutput(required=False, help_text="With clinic_suspended: whom to contact.")


class ConflictOutput(serializers.Serializer):
    detail = serializers.CharField()
    version = serializers.IntegerField(required=False, help_text="A stale version: the record's version now.")


class TooLargeOutput(serializers.Serializer):
    error = serializers.ChoiceField(["too_large"])
    detail = serializers.CharField()
    max_bytes = serializers.IntegerField(help_text="The largest body taken, in bytes.")


class UnavailableOutput(serializers.Serializer):
    error = serializers.ChoiceField(["unavailable"])
    detail = serializers.CharField()


DESCRIPTIONS = {
    "400": "The request cannot be taken as sent: what to correct, by field.",
    "403": "Not signed in at this clinic, the role may not do this, or the clinic is suspended.",
    "404": "Nothing of that id at this clinic (or a page past the end).",
    "409": "The record changed since the version sent, or a record with this id exists.",
    "413": "The body is over the size limit; nothing was read.",
    "415": "The body is not JSON.",
    "503": "The clinic's records are out of reach for a moment; nothing was saved. Try again.",
}

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "example": RETRY_AFTER_SECONDS},
    }
}


class ClinicAutoSchema(AutoSchema):
    # After the operation is built, since which replies apply depends on its parameters and body; each
    # reply is then made by drf-spectacular's own `_get_response_for_code`, so components register as usual.
    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: ComponentRegistry
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code, serializer in self.error_serializers(operation).items():
            if code not in responses:  # what the view declared itself wins
                response = OpenApiResponse(serializer, description=DESCRIPTIONS[code])
                responses[code] = self._get_response_for_code(response, code)
        if "503" in responses:
            responses["503"].setdefault("headers", {}).update(RETRY_AFTER)
        return operation

    def error_serializers(self, operation: dict[str, Any]) -> dict[str, type[serializers.Serializer]]:
        """The platform's error replies this operation can get, by status code."""
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        creates = self.method == "POST" and "201" in operation["responses"]
        paged = any(parameter["in"] == "query" and parameter["name"] == "page" for parameter in parameters)
        errors: dict[str, type[serializers.Serializer]] = {}
        if has_body or any(parameter["in"] in ("query", "header") for parameter in parameters):
            errors["400"] = BadRequestOutput
        errors["403"] = ForbiddenOutput
        if any(parameter["in"] == "path" for parameter in parameters) or paged:
            errors["404"] = DetailOutput
        if self.method == "PATCH" or creates:
            errors["409"] = ConflictOutput
        if self.method in BODY_METHODS:
            errors["413"] = TooLargeOutput
        if has_body:
            errors["415"] = DetailOutput
        errors["503"] = UnavailableOutput
        return errors
