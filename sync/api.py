"""The sync endpoints (push, pull, devices): thin views over sync.services and sync.selectors.

Errors follow SYNC-PROTOCOL.md: 401 when not signed in (no session cookie), 403 for a session that is
not valid at this clinic, a revoked device or a suspended clinic, 400 for a malformed body, 413 for a
batch over the limit. Nothing a device can send becomes a 500.
"""

import re
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records.serializers import DEVICE_ID_HELP, DEVICE_ID_SCHEMA
from records.services import DEVICE_ID, check_device_id, is_storable_name
from records.specs import SPECS
from sync import selectors, services
from sync.models import Device

OPS = {"create", "update", "void", "resolve", "open"}
# The operations on the kinds that are not records: resolving a conflict, opening a patient's chart.
ONLY_OP = {"conflict": "resolve", "chart": "open"}
ENTITIES = [*SPECS, *ONLY_OP]


class SyncApiView(APIView):
    """Signed-in staff of this clinic only; the reply to a missing or foreign session is 401 or 403."""

    permission_classes: list = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.user.is_authenticated:
            if not getattr(request.user, "role", ""):
                raise services.DeviceRefusedError(_("Only staff of this clinic can sync its records."))
            return
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            raise services.DeviceRefusedError(_("This session is not valid at this clinic. Sign in again."))
        raise _NotSignedInError

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _NotSignedInError):
            return Response(
                {"error": "not_signed_in", "detail": _("Sign in again to sync.")}, status=status.HTTP_401_UNAUTHORIZED
            )
        if isinstance(exc, services.DeviceRevokedError):
            body = {"error": "refused", "code": "device_revoked", "detail": str(exc)}
            return Response(body, status=status.HTTP_403_FORBIDDEN)
        if isinstance(exc, services.DeviceRefusedError):
            return Response({"error": "refused", "detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        if isinstance(exc, _TooLargeError):
            return Response(
                {"error": "batch_too_large", "detail": str(exc), "max_batch": services.MAX_BATCH},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        return super().handle_exception(exc)

    def device(self, request: Request, device_id: Any) -> Device:
        check_device_id(device_id)
        return services.device_for(
            device_id=device_id,
            user=request.user,
            user_agent=request.headers.get("User-Agent", ""),
            session_key=request.session.session_key or "",
        )


class _NotSignedInError(Exception):
    pass


class _TooLargeError(Exception):
    pass


_MUTATION_FIELDS = {
    "seq": serializers.IntegerField(min_value=1, help_text="Counts up by one per device; never renumbered."),
    "entity": serializers.ChoiceField(
        ENTITIES, help_text="A kind of record; `conflict` to resolve one; `chart` to report a chart opened."
    ),
    "record_id": serializers.UUIDField(
        help_text="The record's UUID (the conflict's id to resolve one; the patient's for a chart opened)."
    ),
    "op": serializers.ChoiceField(sorted(OPS)),
    "base_version": serializers.IntegerField(min_value=0, help_text="The version the device changed."),
    "fields": serializers.DictField(
        required=False,
        help_text='Only the fields the device changed ({"value"} to resolve; {"opened_at"} for a chart).',
    ),
    "reason": serializers.CharField(
        required=False, help_text="Required for voids and amendments (under 300 characters)."
    ),
}


PUSH_STATUSES = ["applied", "merged", "conflict", "rejected", "duplicate", "gap"]


def _field_errors(**kwargs: Any) -> serializers.DictField:
    return serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages a person understands, by field (`non_field_errors` for the whole).",
        **kwargs,
    )


PUSH_RESULT_FIELDS = {
    "seq": serializers.IntegerField(),
    "status": serializers.ChoiceField(PUSH_STATUSES),
    "version": serializers.IntegerField(required=False, help_text="The record's version after it."),
    "conflict_id": serializers.UUIDField(required=False, help_text="A conflict: the first one kept."),
    "conflict_ids": serializers.ListField(
        child=serializers.UUIDField(), required=False, help_text="A conflict: every field's one."
    ),
    "errors": _field_errors(required=False),
    "last_seq": serializers.IntegerField(required=False, help_text="A gap: the server's last_seq."),
    "original_status": serializers.ChoiceField(
        PUSH_STATUSES, required=False, help_text="A duplicate: what became of the mutation the first time."
    ),
}

PULL_CHANGE_FIELDS = {
    "seq": serializers.IntegerField(),
    "entity": serializers.ChoiceField([*SPECS, "conflict"]),
    "record_id": serializers.UUIDField(),
    "op": serializers.ChoiceField(["upsert", "void"]),
    "version": serializers.IntegerField(),
    "data": serializers.DictField(help_text="The whole record as this user may see it."),
}

_ERROR = inline_serializer(
    "SyncError",
    {
        "error": serializers.ChoiceField(
            ["not_signed_in", "refused", "clinic_suspended", "two_factor_required"],
            required=False,
            help_text="Absent on a 403 for what the role may not do, or for a failed CSRF check.",
        ),
        "detail": serializers.CharField(),
        "code": serializers.CharField(
            required=False,
            help_text="clinic_suspended: the app says so by name (never 'signed out'). device_revoked: the "
            "owner revoked this device; the app stops syncing and keeps its unsent changes for export.",
        ),
        "clinic_name": serializers.CharField(required=False, help_text="The suspended clinic's name."),
        "contact": serializers.DictField(
            required=False, help_text="Whom a suspended clinic's staff contact: email, and phone or null."
        ),
    },
)
_TOO_LARGE = inline_serializer(
    "PushTooLarge",
    {
        "error": serializers.ChoiceField(["batch_too_large", "too_large"]),
        "detail": serializers.CharField(),
        "max_batch": serializers.IntegerField(required=False, help_text="With batch_too_large: mutations."),
        "max_bytes": serializers.IntegerField(required=False, help_text="With too_large: bytes."),
    },
)
# Sync's own replies to who is asking; the rest (400, 404, 413, 503...) are config.openapi's common ones.
ERROR_RESPONSES = {401: _ERROR, 403: _ERROR}
DEVICE_HEADER = OpenApiParameter("X-Device-Id", DEVICE_ID_SCHEMA, OpenApiParameter.HEADER, description=DEVICE_ID_HELP)


class PushApi(SyncApiView):
    @extend_schema(
        summary="Push a batch of a device's mutations (at most 500), applied exactly once in order",
        request=inline_serializer(
            "PushInput",
            {
                "device_id": serializers.CharField(
                    min_length=8, max_length=64, validators=[RegexValidator(DEVICE_ID)], help_text=DEVICE_ID_HELP
                ),
                "mutations": inline_serializer("Mutation", _MUTATION_FIELDS, many=True),
            },
        ),
        responses={
            200: inline_serializer(
                "PushOutput",
                {
                    "last_seq": serializers.IntegerField(),
                    "results": inline_serializer("PushResult", PUSH_RESULT_FIELDS, many=True),
                },
            ),
            413: _TOO_LARGE,
            **ERROR_RESPONSES,
        },
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError(_("Send a JSON object."))
        raw = body.get("mutations")
        if not isinstance(raw, list):
            raise ValidationError({"mutations": [_("Send a list of mutations.")]})
        if len(raw) > services.MAX_BATCH:
            raise _TooLargeError(_("Send at most %(max)d mutations at a time.") % {"max": services.MAX_BATCH})
        mutations = parse_mutations(raw)
        device = self.device(request, body.get("device_id"))
        return Response(services.push(device=device, mutations=mutations))


def parse_mutations(raw: list[Any]) -> list[services.Mutation]:
    """The batch's envelope, checked whole: a mutation without a usable `seq`, or out of order, refuses
    the batch (400) before anything applies, since nothing else can be answered by its number. Any other
    fault of one mutation becomes its own refusal, answered `rejected`, and the ones after it apply."""
    mutations, errors = [], {}
    previous_seq = None
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            errors[str(index)] = [_("A mutation is a JSON object.")]
            continue
        seq = item.get("seq")
        if not _whole(seq, 1):
            errors[str(index)] = [_("seq must be a whole number from 1.")]
            continue
        if previous_seq is not None and seq != previous_seq + 1:
            errors[str(index)] = [_("Mutations must be in order, with seq counting up by one.")]
        previous_seq = seq
        try:
            mutations.append(_parse_mutation(item))
        except ValidationError as exc:
            mutations.append(services.Mutation.refused(seq, exc.message_dict))
    if errors:
        raise ValidationError({"mutations": [f"#{index}: {' '.join(messages)}" for index, messages in errors.items()]})
    return mutations


def _whole(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value < 2**62


def _fits(entity: str, op: str) -> bool:
    if entity in ONLY_OP:
        return op == ONLY_OP[entity]
    return op in OPS and op not in ONLY_OP.values()


MAX_FIELDS = 64  # more than any kind of record has


def _parse_mutation(item: dict[str, Any]) -> services.Mutation:
    """One mutation with a usable seq; a ValidationError keyed by the part at fault otherwise (keys the
    device chose are never repeated back unless they can be stored)."""
    entity, op = item.get("entity"), item.get("op")
    if not isinstance(entity, str) or entity not in ENTITIES:
        raise ValidationError({"entity": [_("Unknown entity.")]})
    if not isinstance(op, str) or not _fits(entity, op):
        raise ValidationError({"op": [_("Unknown operation for this entity.")]})
    try:
        record_id = uuid.UUID(str(item.get("record_id")))
    except ValueError as exc:
        raise ValidationError({"record_id": [_("record_id must be a UUID.")]}) from exc
    base_version = item.get("base_version", 0)
    if not _whole(base_version, 0):
        raise ValidationError({"base_version": [_("base_version must be a whole number from 0.")]})
    fields = item.get("fields", {})
    if not isinstance(fields, dict):
        raise ValidationError({"fields": [_("fields must be a JSON object.")]})
    if len(fields) > MAX_FIELDS:
        raise ValidationError({"fields": [_("Send at most %(max)d fields in one mutation.") % {"max": MAX_FIELDS}]})
    if not all(is_storable_name(name) for name in fields):  # never said back, nor kept in a receipt
        raise ValidationError({"fields": [_("A field name is not one of this record's fields.")]})
    reason = item.get("reason", "")
    if not isinstance(reason, str):
        raise ValidationError({"reason": [_("reason must be text.")]})  # its length and content: records' rules
    return services.Mutation(
        seq=item["seq"],
        entity=entity,
        record_id=record_id,
        op=op,
        base_version=base_version,
        fields=fields,
        reason=reason,
    )


class PullApi(SyncApiView):
    @extend_schema(
        summary="Pull changes after a cursor (one consistent snapshot, filtered by your role)",
        parameters=[
            OpenApiParameter("cursor", int, description="The last seq received; 0 for the full download."),
            OpenApiParameter(
                "limit", int, description=f"At most {selectors.MAX_LIMIT}; {selectors.DEFAULT_LIMIT} by default."
            ),
            OpenApiParameter(
                "device_id", DEVICE_ID_SCHEMA, description=f"{DEVICE_ID_HELP} The device pulling (or X-Device-Id)."
            ),
            DEVICE_HEADER,
            OpenApiParameter(
                "count",
                int,
                description="1 (the default): count `remaining`. 0: leave it null, for the later pages of a "
                "download whose total the client took from its first page (counting reads every later row).",
            ),
            OpenApiParameter(
                "X-Sync-Cursor",
                int,
                OpenApiParameter.HEADER,
                response=[200],
                description="The page's `cursor`, before its body: a client on a slow link asks for the next "
                "page while this one downloads.",
            ),
            OpenApiParameter(
                "X-Sync-More",
                str,
                OpenApiParameter.HEADER,
                response=[200],
                enum=["0", "1"],
                description="`has_more` of the page, as 1 or 0 (and 0 on a reset).",
            ),
        ],
        responses={
            **ERROR_RESPONSES,
            200: inline_serializer(
                "PullOutput",
                {
                    "changes": inline_serializer("PullChange", PULL_CHANGE_FIELDS, many=True),
                    "cursor": serializers.IntegerField(),
                    "has_more": serializers.BooleanField(),
                    "reset": serializers.BooleanField(
                        help_text="Drop the local copy (keep the outbox) and pull from 0."
                    ),
                    "remaining": serializers.IntegerField(
                        allow_null=True,
                        help_text="Changes still to pull after this page (0 when has_more is false; null when "
                        "count=0): for a progress bar.",
                    ),
                },
            ),
        },
    )
    def get(self, request: Request) -> Response:
        cursor = _query_int(request, "cursor", 0, 0)
        limit = min(_query_int(request, "limit", selectors.DEFAULT_LIMIT, 1), selectors.MAX_LIMIT)
        device = self.device(request, request.query_params.get("device_id") or request.headers.get("X-Device-Id"))
        count = request.query_params.get("count", "1")
        if count not in ("0", "1"):
            raise ValidationError({"count": [_("Use 1 to count what remains, or 0 not to.")]})
        page = selectors.pull(device=device, user=request.user, cursor=cursor, limit=limit, count=count == "1")
        more = page.has_more and not page.reset
        return Response(
            page.as_dict(), headers={"X-Sync-Cursor": str(page.cursor), "X-Sync-More": "1" if more else "0"}
        )


_ASCII_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() also takes '²' and Arabic-Indic digits


def _query_int(request: Request, name: str, default: int, minimum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not _ASCII_DIGITS.fullmatch(raw) or len(raw) > 18 or int(raw) < minimum:
        raise ValidationError({name: [_("A whole number from %(min)d.") % {"min": minimum}]})
    return int(raw)


class DeviceOutput(serializers.Serializer):
    id = serializers.CharField()
    user = serializers.EmailField(source="user.email")
    user_name = serializers.CharField(source="user.full_name")
    user_agent = serializers.CharField()
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    last_seq = serializers.IntegerField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class DeviceListApi(SyncApiView):
    @extend_schema(
        summary="The clinic's devices (owner only)", responses={200: DeviceOutput(many=True), **ERROR_RESPONSES}
    )
    def get(self, request: Request) -> Response:
        services.check_can_manage_devices(request.user)
        return Response(DeviceOutput(selectors.devices_of_clinic(), many=True).data)


class DeviceRevokeApi(SyncApiView):
    @extend_schema(
        summary="Revoke a device: its pushes and pulls are refused (owner only)",
        parameters=[OpenApiParameter("device_id", DEVICE_ID_SCHEMA, OpenApiParameter.PATH, description=DEVICE_ID_HELP)],
        request=None,
        responses={200: DeviceOutput, **ERROR_RESPONSES},
    )
    def post(self, request: Request, device_id: str) -> Response:
        services.check_can_manage_devices(request.user)
        device = services.device_get(device_id=device_id)
        return Response(DeviceOutput(services.device_revoke(device=device)).data)
