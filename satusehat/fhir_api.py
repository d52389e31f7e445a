"""FHIR R4 read API for the clinic's own staff: GET /api/fhir/<Type>/<id> and /api/fhir/<Type>?<search>.

Thin views over `satusehat.fhir_read`. Replies are `application/fhir+json` whatever the Accept header
says; `_format` may ask for JSON (`json`, `application/json`, `application/fhir+json`), anything else is
406. A search answers a searchset Bundle of at most `_count` entries (default and most: `MAX_COUNT`),
`total` counting every match, with `next` and `previous` links (`_offset`). A refusal is an
OperationOutcome (400 a bad id or parameter, 403 not signed in or a role that may not read it, 404
nothing of that id at this clinic, 406 a format other than JSON). Patient and Encounter are read by all
staff (an Encounter holds no clinical notes: its diagnoses are bare references, and only for those who
may read diagnoses); Condition, Observation, MedicationRequest and Medication by doctors, nurses and
owners, and each such read is logged as a chart opening, like the chart itself.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import exception_handler as platform_exception_handler
from config.openapi import ForbiddenOutput
from records import access, services
from records.api import DEVICE_HEADER, Pagination, actor_for
from satusehat import fhir, fhir_read

FHIR_JSON = "application/fhir+json"
# What `_format` may ask for (FHIR's short form and both JSON media types): the replies are JSON only.
JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})
# A search page's size, at most: as the record API's pages.
MAX_COUNT = Pagination.max_page_size
# Parameters of every search, beside its own: how the result is given.
RESULT_PARAMETERS = ("_format", "_count", "_offset")


class FhirJsonRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class AlwaysFhirJson(BaseContentNegotiation):
    """FHIR JSON for every client (an Accept of XML or `?format=` changes nothing; `_format` is checked
    by the views)."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None) -> tuple:
        return renderers[0], renderers[0].media_type


# --- OperationOutcome --------------------------------------------------------------------------------

_ISSUE_CODES = {
    400: "invalid",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    429: "throttled",
}


def operation_outcome(message: str, status_code: int, issue_code: str | None = None) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": issue_code or _ISSUE_CODES.get(status_code, "processing"),
                "details": {"text": message},
                "diagnostics": message,
            }
        ],
    }


def _messages(exc: DjangoValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(
            message if name == "non_field_errors" else f"{name}: {message}"
            for name, messages in exc.message_dict.items()
            for message in messages
        )
    return " ".join(exc.messages)


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every refusal as an OperationOutcome; anything else is left to fail loudly (a bug, not input)."""
    if isinstance(exc, DjangoValidationError):
        return Response(operation_outcome(_messages(exc), 400), status=400)
    if isinstance(exc, Http404 | exceptions.NotFound):
        message = _("Nothing with this id at this clinic.")
        return Response(operation_outcome(message, 404), status=404)
    response = platform_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data.get("detail") if isinstance(response.data, dict) else None
    message = str(detail or _("The request cannot be answered."))
    issue_code = "login" if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed) else None
    if isinstance(exc, DjangoPermissionDenied | exceptions.PermissionDenied) and not detail:
        message = _("Your role cannot see this part of the record.")
    response.data = operation_outcome(message, response.status_code, issue_code)
    return response


# --- the schema --------------------------------------------------------------------------------------


class OperationOutcomeIssueOutput(serializers.Serializer):
    severity = serializers.CharField()
    code = serializers.CharField()
    details = serializers.DictField(help_text="`text`: what happened, in the request's language.")
    diagnostics = serializers.CharField()


class OperationOutcomeOutput(serializers.Serializer):
    resourceType = serializers.ChoiceField(["OperationOutcome"])  # noqa: N815 (FHIR's name)
    issue = OperationOutcomeIssueOutput(many=True)


RESOURCE_ID = OpenApiParameter(
    "resource_id",
    str,
    OpenApiParameter.PATH,
    description="The resource's id (the record's UUID; an Observation's is <vital signs UUID>-<LOINC code>).",
)


def _replies() -> dict:
    """What a FHIR operation answers: the resource (or Bundle), or an OperationOutcome."""
    outcome = OperationOutcomeOutput
    return {
        (200, FHIR_JSON): OpenApiTypes.OBJECT,
        (400, FHIR_JSON): outcome,
        (403, FHIR_JSON): outcome,
        # Refused before the view (a suspended clinic, two-factor authentication to set up): the platform's.
        (403, "application/json"): ForbiddenOutput,
        (404, FHIR_JSON): outcome,
        (406, FHIR_JSON): outcome,
    }


def _reference_parameter(name: str, resource_type: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, str, description=f"The {resource_type.lower()}'s UUID, or {resource_type}/<UUID>.", required=False
    )


FORMAT = OpenApiParameter(
    "_format",
    str,
    required=False,
    enum=sorted(JSON_FORMATS),
    description="JSON only (the default); any other format is refused with 406.",
)
COUNT = OpenApiParameter(
    "_count", int, required=False, description=f"Entries per page, 1 to {MAX_COUNT} (the default; more is capped)."
)
OFFSET = OpenApiParameter(
    "_offset", int, required=False, description="Matches to skip (the Bundle's next and previous links give it)."
)
SEARCH_RESULT = [FORMAT, COUNT, OFFSET]

PATIENT = _reference_parameter("patient", "Patient")
ENCOUNTER = _reference_parameter("encounter", "Encounter")
IDENTIFIER = OpenApiParameter(
    "identifier",
    str,
    required=True,
    description=f"{fhir.SYSTEM_NIK}|<NIK>, {fhir.SYSTEM_MRN}|<medical record number>, or a bare value (either).",
)


# --- the views ---------------------------------------------------------------------------------------


class FhirApi(APIView):
    """A FHIR read: FHIR JSON always, refusals as OperationOutcome, the caller's role checked."""

    renderer_classes = [FhirJsonRenderer]
    content_negotiation_class = AlwaysFhirJson
    entity = "patient"  # the record kind whose readers may use it (records.access.READERS)
    parameters: tuple[str, ...] = ()  # the search parameters taken

    def get_exception_handler(self):
        return fhir_exception_handler

    def actor(self, request: Request) -> services.Actor:
        """The caller, who may read this kind of record, asking for a format we give."""
        actor = actor_for(request)
        access.check_can_read(request.user, self.entity)
        self.check_format(request)
        return actor

    def check_format(self, request: Request) -> None:
        """`_format`, when given, asks for JSON (a "+" left unescaped in the query reads as a space)."""
        values = request.query_params.getlist("_format")
        if len(values) > 1:
            raise DjangoValidationError({"_format": [_("Give this parameter once.")]})
        if values and values[0].split(";")[0].strip().lower().replace(" ", "+") not in JSON_FORMATS:
            raise exceptions.NotAcceptable(
                _("Only JSON is served here: use _format=json or _format=application/fhir+json, or leave it out.")
            )

    def whole_number(self, request: Request, name: str, minimum: int, default: int) -> int:
        values = request.query_params.getlist(name)
        if not values:
            return default
        if len(values) > 1:
            raise DjangoValidationError({name: [_("Give this parameter once.")]})
        text = values[0].strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 9 and int(text) >= minimum):
            message = (
                _("Give a whole number of 1 or more (a page holds at most %(max)d).") % {"max": MAX_COUNT}
                if minimum
                else _("Give a whole number of 0 or more.")
            )
            raise DjangoValidationError({name: [message]})
        return int(text)

    def page(self, request: Request) -> tuple[int, int]:
        """The page asked for: how many matches to skip, and how many to give (at most `MAX_COUNT`)."""
        count = min(self.whole_number(request, "_count", 1, MAX_COUNT), MAX_COUNT)
        return self.whole_number(request, "_offset", 0, 0), count

    def search_parameters(self, request: Request) -> dict[str, str | None]:
        """The search's parameters, each given at most once, and the page asked for; any other
        parameter is refused."""
        self.page(request)
        unknown = sorted(set(request.query_params) - set(self.parameters) - set(RESULT_PARAMETERS))
        if unknown:
            name = unknown[0] if len(unknown[0]) <= fhir_read.MAX_PARAMETER_LENGTH else unknown[0][:40] + "…"
            raise DjangoValidationError(
                _("%(name)s is not a search parameter here; use %(allowed)s.")
                % {"name": name.replace("\x00", ""), "allowed": ", ".join(self.parameters)}
            )
        found: dict[str, str | None] = {}
        for name in self.parameters:
            values = request.query_params.getlist(name)
            if len(values) > 1:
                raise DjangoValidationError({name: [_("Give this parameter once.")]})
            found[name] = values[0] if values else None
        return found

    def log_openings(self, actor: services.Actor, found: fhir_read.Found) -> None:
        for patient in found.patients:
            services.chart_opened(patient=patient, actor=actor)

    def refs(self, request: Request) -> fhir.LocalRefs:
        return fhir.LocalRefs(getattr(request, "tenant", None))

    def page_url(self, request: Request, offset: int, count: int) -> str:
        query = request.query_params.copy()
        query["_offset"] = str(offset)
        query["_count"] = str(count)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    def bundle(self, request: Request, resources: list[dict]) -> Response:
        """One page of the matches as a searchset Bundle: `total` counts them all, the links page on."""
        offset, count = self.page(request)
        entries = [
            {
                "fullUrl": request.build_absolute_uri(f"/api/fhir/{resource['resourceType']}/{resource['id']}"),
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources[offset : offset + count]
        ]
        links = [{"relation": "self", "url": request.build_absolute_uri()}]
        if offset + count < len(resources):
            links.append({"relation": "next", "url": self.page_url(request, offset + count, count)})
        if offset > 0:
            links.append({"relation": "previous", "url": self.page_url(request, max(offset - count, 0), count)})
        body = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(resources),
            "link": links,
            "entry": entries,
        }
        return Response(body, status=status.HTTP_200_OK)

    def encounters(self, request: Request, encounters: list[dict]) -> list[dict]:
        """The Encounters as this caller's role may see them (`fhir_read.encounter_for_reader`)."""
        may_read = access.can_read(request.user, "diagnosis")
        return [fhir_read.encounter_for_reader(encounter, may_read) for encounter in encounters]


class PatientReadApi(FhirApi):
    @extend_schema(
        operation_id="fhir_patient_read",
        summary="A patient as a FHIR Patient",
        parameters=[RESOURCE_ID, FORMAT, DEVICE_HEADER],
        responses=_replies(),
        tags=["fhir"],
    )
    def get(self, request: Request, resource_id: str) -> Response:
        self.actor(request)
        return Response(fhir_read.read_patient(resource_id))


class PatientSearchApi(FhirApi):
    parameters = ("identifier",)

    @extend_schema(
        operation_id="fhir_patient_search",
        summary="Find patients by NIK or medical record number (a FHIR searchset Bundle)",
        parameters=[IDENTIFIER, *SEARCH_RESULT, DEVICE_HEADER],
        responses=_replies(),
        tags=["fhir"],
    )
    def get(self, request: Request) -> Response:
        self.actor(request)
        identifier = self.search_parameters(request)["identifier"]
        if identifier is None:
            raise DjangoValidationError({"identifier": [_("Search by identifier (NIK or medical record number).")]})
        return self.bundle(request, fhir_read.search_patients(identifier))


class EncounterReadApi(FhirApi):
    entity = "visit"

    @extend_schema(
        operation_id="fhir_encounter_read",
        summary="A visit as a FHIR Encounter (no clinical notes)",
        parameters=[RESOURCE_ID, FORMAT, DEVICE_HEADER],
        responses=_replies(),
        tags=["fhir"],
    )
    def get(self, request: Request, resource_id: str) -> Response:
        self.actor(request)
        (encounter,) = self.encounters(request, [fhir_read.read_encounter(resource_id, self.refs(request))])
        return Response(encounter)


class EncounterSearchApi(FhirApi):
    entity = "visit"
    parameters = ("patient",)

    @extend_schema(
        operation_id="fhir_encounter_search",
        summary="A patient's visits as FHIR Encounters (a searchset Bundle)",
        parameters=[PATIENT, *SEARCH_RESULT, DEVICE_HEADER],
        responses=_replies(),
        tags=["fhir"],
    )
    def get(self, request: Request) -> Response:
        self.actor(request)
        patient = self.search_parameters(request)["patient"]
        if patient is None:
            raise DjangoValidationError({"patient": [_("Search by patient.")]})
        found = fhir_read.search_encounters(patient, self.refs(request))
        return self.bundle(request, self.encounters(request, found))


def clinical_views(resource_type: str, entity: str, read: Any, search: Any | None) -> list[type[FhirApi]]:
    """The read (and search) views of one clinical resource: readers of `entity` only, logged."""

    class ReadApi(FhirApi):
        @extend_schema(
            operation_id=f"fhir_{resource_type.lower()}_read",
            summary=f"One FHIR {resource_type} (doctors, nurses and owners; logged as a chart opening)",
            parameters=[RESOURCE_ID, FORMAT, DEVICE_HEADER],
            responses=_replies(),
            tags=["fhir"],
        )
        def get(self, request: Request, resource_id: str) -> Response:
            actor = self.actor(request)
            found = read(resource_id, self.refs(request))
            self.log_openings(actor, found)
            return Response(found.resources[0])

    ReadApi.entity = entity
    ReadApi.__name__ = ReadApi.__qualname__ = f"{resource_type}ReadApi"
    views: list[type[FhirApi]] = [ReadApi]
    if search is None:
        return views

    class SearchApi(FhirApi):
        parameters = ("patient", "encounter")

        @extend_schema(
            operation_id=f"fhir_{resource_type.lower()}_search",
            summary=f"A patient's or a visit's FHIR {resource_type} resources (logged as a chart opening)",
            parameters=[PATIENT, ENCOUNTER, *SEARCH_RESULT, DEVICE_HEADER],
            responses=_replies(),
            tags=["fhir"],
        )
        def get(self, request: Request) -> Response:
            actor = self.actor(request)
            given = self.search_parameters(request)
            found = search(given["patient"], given["encounter"], self.refs(request))
            self.log_openings(actor, found)
            return self.bundle(request, found.resources)

    SearchApi.entity = entity
    SearchApi.__name__ = SearchApi.__qualname__ = f"{resource_type}SearchApi"
    views.append(SearchApi)
    return views


ConditionReadApi, ConditionSearchApi = clinical_views(
    "Condition", "diagnosis", fhir_read.read_condition, fhir_read.search_conditions
)
ObservationReadApi, ObservationSearchApi = clinical_views(
    "Observation", "vitals", fhir_read.read_observation, fhir_read.search_observations
)
MedicationRequestReadApi, MedicationRequestSearchApi = clinical_views(
    "MedicationRequest", "prescription", fhir_read.read_medication_request, fhir_read.search_medication_requests
)
(MedicationReadApi,) = clinical_views("Medication", "prescription", fhir_read.read_medication, None)
