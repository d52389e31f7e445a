"""The clinical record's JSON API: thin views over records.selectors and records.services.

One module, one view class per operation; the per-kind views (visit, vitals, diagnosis, prescription)
are made by `kind_views` so every kind gets the same create/read/change/void/history operations.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records import access, icd10, selectors, services
from records.models import Patient
from records.serializers import (
    DEVICE_ID_HELP,
    DEVICE_ID_SCHEMA,
    OUTPUTS,
    ChartAccessOutput,
    ChartOutput,
    Icd10Output,
    PatientCreatedOutput,
    PatientOutput,
    RevisionOutput,
    VoidInput,
    input_serializer,
    serialize_chart,
    serialize_record,
)


class Pagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


# Every operation here reads the header (`actor_for`); the schema's common error replies are added by
# config.openapi.ClinicAutoSchema.
DEVICE_HEADER = OpenApiParameter(
    "X-Device-Id", DEVICE_ID_SCHEMA, OpenApiParameter.HEADER, description=f"{DEVICE_ID_HELP} Optional."
)
RECORD_ID = OpenApiParameter(
    "record_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The record's UUID (404 for any other text)."
)


def actor_for(request: Request) -> services.Actor:
    """The signed-in staff member and the device named by the `X-Device-Id` header, if any."""
    if not request.user.role:
        raise PermissionDenied(_("Only staff of this clinic can use its records."))
    device_id = request.headers.get("X-Device-Id", "")
    if device_id:
        services.check_device_id(device_id, field="X-Device-Id")
    return services.Actor(user=request.user, device_id=device_id)


def body_of(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise ValidationError(_("Send a JSON object."))
    return dict(request.data)


def _split_meta(body: dict[str, Any]) -> tuple[dict[str, Any], str, int | None]:
    """The fields to write, the amendment reason and the base version, from one request body."""
    reason = str(body.pop("reason", "") or "")
    version = body.pop("version", None)
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ValidationError({"version": [_("A whole number.")]})
    return body, reason, version


def _duplicate_warnings(patient: Patient) -> list[dict[str, Any]]:
    matches = selectors.patient_possible_duplicates(
        nik=patient.nik, full_name=patient.full_name, birth_date=patient.birth_date, exclude_id=patient.pk
    )
    if not matches:
        return []
    return [
        {
            "code": "possible_duplicate",
            "message": _("A patient with the same NIK, or the same name and birth date, is already registered."),
            "patients": PatientOutput(matches, many=True).data,
        }
    ]


# --- patients -----------------------------------------------------------------------------------------


class PatientListApi(APIView):
    pagination_class = Pagination  # read by the schema, which documents the paginated reply

    @extend_schema(
        summary="Search and page through patients",
        parameters=[
            OpenApiParameter("q", str, description="Name (any part), medical record number or NIK (from the start)"),
            OpenApiParameter("include_voided", bool),
            DEVICE_HEADER,
        ],
        responses=PatientOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        actor_for(request)
        query = request.query_params.get("q", "")
        if "\x00" in query:
            raise ValidationError({"q": [_("The text holds a NUL character.")]})
        patients = selectors.patient_search(
            query=query,
            include_voided=request.query_params.get("include_voided") in ("1", "true"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(patients, request, view=self)
        return paginator.get_paginated_response(PatientOutput(page, many=True).data)

    @extend_schema(
        summary="Register a patient (warns about a likely duplicate)",
        request=input_serializer("patient"),
        parameters=[DEVICE_HEADER],
        responses={201: PatientCreatedOutput},
    )
    def post(self, request: Request) -> Response:
        actor = actor_for(request)
        data, reason, _version = _split_meta(body_of(request))
        record_id = data.pop("id", None)
        patient = services.record_create(
            entity="patient", actor=actor, data=data, record_id=_uuid_or_none(record_id), reason=reason
        )
        payload = {**serialize_record("patient", patient, request.user), "warnings": _duplicate_warnings(patient)}
        return Response(payload, status=status.HTTP_201_CREATED)


class PatientChartApi(APIView):
    @extend_schema(
        summary="A patient's chart: every visit with the parts your role may see (logged)",
        parameters=[RECORD_ID, DEVICE_HEADER],
        responses=ChartOutput,
    )
    def get(self, request: Request, record_id: str) -> Response:
        actor = actor_for(request)
        patient = selectors.record_get(entity="patient", record_id=record_id, user=request.user)
        visits = selectors.patient_chart(patient=patient, user=request.user)
        services.chart_opened(patient=patient, actor=actor)
        return Response(serialize_chart(patient, visits, request.user))


def _uuid_or_none(value: Any) -> Any:
    if value in (None, ""):
        return None
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ValidationError({"id": [_("Not a valid UUID.")]}) from exc


# --- every kind -----------------------------------------------------------------------------------------


def kind_views(entity: str) -> dict[str, type[APIView]]:
    """Create, read/change, void and history views for one kind of record."""
    title = entity.title()
    output = OUTPUTS[entity]

    class CreateApi(APIView):
        @extend_schema(
            summary=f"Create a {entity} record",
            request=input_serializer(entity),
            parameters=[DEVICE_HEADER],
            responses={201: output},
            tags=[entity],
        )
        def post(self, request: Request) -> Response:
            actor = actor_for(request)
            data, reason, _version = _split_meta(body_of(request))
            record_id = _uuid_or_none(data.pop("id", None))
            instance = services.record_create(entity=entity, actor=actor, data=data, record_id=record_id, reason=reason)
            return Response(serialize_record(entity, instance, request.user), status=status.HTTP_201_CREATED)

    class DetailApi(APIView):
        @extend_schema(
            summary=f"Read a {entity} record", parameters=[RECORD_ID, DEVICE_HEADER], responses=output, tags=[entity]
        )
        def get(self, request: Request, record_id: str) -> Response:
            actor_for(request)
            instance = selectors.record_get(entity=entity, record_id=record_id, user=request.user)
            return Response(serialize_record(entity, instance, request.user))

        @extend_schema(
            summary=f"Change a {entity} record (an amendment with a reason once the visit is finished)",
            request=input_serializer(entity),
            parameters=[RECORD_ID, DEVICE_HEADER],
            responses=output,
            tags=[entity],
        )
        def patch(self, request: Request, record_id: str) -> Response:
            actor = actor_for(request)
            instance = selectors.record_get(entity=entity, record_id=record_id, user=request.user)
            changes, reason, version = _split_meta(body_of(request))
            instance = services.record_update(
                instance=instance, actor=actor, changes=changes, reason=reason, base_version=version
            )
            return Response(serialize_record(entity, instance, request.user))

    class VoidApi(APIView):
        @extend_schema(
            summary=f"Void a {entity} record with a reason",
            request=VoidInput,
            parameters=[RECORD_ID, DEVICE_HEADER],
            responses=output,
            tags=[entity],
        )
        def post(self, request: Request, record_id: str) -> Response:
            actor = actor_for(request)
            instance = selectors.record_get(entity=entity, record_id=record_id, user=request.user)
            reason = str(body_of(request).get("reason", "") or "")
            instance = services.record_void(instance=instance, actor=actor, reason=reason)
            return Response(serialize_record(entity, instance, request.user))

    class RevisionsApi(APIView):
        @extend_schema(
            summary=f"History of a {entity} record",
            parameters=[RECORD_ID, DEVICE_HEADER],
            responses=RevisionOutput(many=True),
            tags=[entity],
        )
        def get(self, request: Request, record_id: str) -> Response:
            actor_for(request)
            instance = selectors.record_get(entity=entity, record_id=record_id, user=request.user)
            revisions = selectors.record_revisions(entity=entity, record_id=instance.pk)
            return Response(redact_history(RevisionOutput(revisions, many=True).data, request.user))

    views = {"create": CreateApi, "detail": DetailApi, "void": VoidApi, "revisions": RevisionsApi}
    for operation, view in views.items():
        view.__name__ = view.__qualname__ = f"{title}{operation.title()}Api"
    return views


_REDACTED_FOR_FRONT_DESK = (*access.VISIT_CLINICAL_FIELDS, "void_reason")


def redact_history(rows: list[dict[str, Any]], user: Any) -> list[dict[str, Any]]:
    """Front desk sees who changed a visit's administrative part and when: never the SOAP text, the
    reasons a clinician gave, nor the rows that changed only what it may not see."""
    if access.can_read_clinical(user):
        return rows
    visible = []
    for row in rows:
        if row["entity"] == "visit":
            for side in ("before", "after"):
                if row[side]:
                    row[side] = {k: v for k, v in row[side].items() if k not in _REDACTED_FOR_FRONT_DESK}
            row["reason"] = ""
            if row["action"] in ("update", "amend") and row["before"] == row["after"]:
                continue
        visible.append(row)
    return visible


# --- audit and ICD-10 -----------------------------------------------------------------------------------


class AuditApi(APIView):
    pagination_class = Pagination  # read by the schema, which documents the paginated reply

    @extend_schema(
        summary="The clinic's audit trail: every change and every chart opened (owners only)",
        parameters=[
            OpenApiParameter("kind", str, enum=["changes", "chart_access"], description="`changes` by default."),
            DEVICE_HEADER,
        ],
        responses=PolymorphicProxySerializer(
            component_name="AuditEntry",
            serializers=[RevisionOutput, ChartAccessOutput],
            resource_type_field_name=None,
            many=True,
        ),
    )
    def get(self, request: Request) -> Response:
        actor_for(request)
        if not access.can_read_audit(request.user):
            raise PermissionDenied(_("Only the clinic's owner reads the audit trail."))
        kind = request.query_params.get("kind", "changes")
        paginator = self.pagination_class()
        if kind == "chart_access":
            page = paginator.paginate_queryset(selectors.audit_chart_accesses(), request, view=self)
            return paginator.get_paginated_response(ChartAccessOutput(page, many=True).data)
        page = paginator.paginate_queryset(selectors.audit_revisions(), request, view=self)
        return paginator.get_paginated_response(RevisionOutput(page, many=True).data)


class Icd10SearchApi(APIView):
    @extend_schema(
        summary="Search ICD-10 (WHO 2019 and the 2010 codes Indonesia uses) by code or words, Indonesian or English",
        parameters=[
            OpenApiParameter(
                "q", str, required=True, description="A code's beginning (j06, A09.0) or words (demam, ISPA, typhoid)."
            ),
            DEVICE_HEADER,
        ],
        responses=Icd10Output(many=True),
    )
    def get(self, request: Request) -> Response:
        actor_for(request)
        results = icd10.search(request.query_params.get("q", ""), limit=20)
        return Response(Icd10Output(results, many=True).data)
