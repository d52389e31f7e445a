"""FHIR R4 read endpoints for the clinic's own staff (GET /api/fhir/...), in `satusehat.fhir_api`."""

from django.urls import path, register_converter

from satusehat import fhir_api


class AnyId:
    """Whatever a client puts after the resource type, line breaks and slashes included: the view
    answers a malformed id with an OperationOutcome, where a route that did not match would answer
    Django's HTML 404 page."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyId, "fhirid")

urlpatterns = [
    path("Patient", fhir_api.PatientSearchApi.as_view(), name="fhir_patient_search"),
    path("Patient/<fhirid:resource_id>", fhir_api.PatientReadApi.as_view(), name="fhir_patient"),
    path("Encounter", fhir_api.EncounterSearchApi.as_view(), name="fhir_encounter_search"),
    path("Encounter/<fhirid:resource_id>", fhir_api.EncounterReadApi.as_view(), name="fhir_encounter"),
    path("Condition", fhir_api.ConditionSearchApi.as_view(), name="fhir_condition_search"),
    path("Condition/<fhirid:resource_id>", fhir_api.ConditionReadApi.as_view(), name="fhir_condition"),
    path("Observation", fhir_api.ObservationSearchApi.as_view(), name="fhir_observation_search"),
    path("Observation/<fhirid:resource_id>", fhir_api.ObservationReadApi.as_view(), name="fhir_observation"),
    path("MedicationRequest", fhir_api.MedicationRequestSearchApi.as_view(), name="fhir_medicationrequest_search"),
    path(
        "MedicationRequest/<fhirid:resource_id>",
        fhir_api.MedicationRequestReadApi.as_view(),
        name="fhir_medicationrequest",
    ),
    path("Medication/<fhirid:resource_id>", fhir_api.MedicationReadApi.as_view(), name="fhir_medication"),
]
