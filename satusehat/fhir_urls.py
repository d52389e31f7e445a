"""FHIR R4 read endpoints for the clinic's own staff (GET /api/fhir/...), in `satusehat.fhir_api`."""

from django.urls import path

from satusehat import fhir_api

urlpatterns = [
    path("Patient", fhir_api.PatientSearchApi.as_view(), name="fhir_patient_search"),
    path("Patient/<path:resource_id>", fhir_api.PatientReadApi.as_view(), name="fhir_patient"),
    path("Encounter", fhir_api.EncounterSearchApi.as_view(), name="fhir_encounter_search"),
    path("Encounter/<path:resource_id>", fhir_api.EncounterReadApi.as_view(), name="fhir_encounter"),
    path("Condition", fhir_api.ConditionSearchApi.as_view(), name="fhir_condition_search"),
    path("Condition/<path:resource_id>", fhir_api.ConditionReadApi.as_view(), name="fhir_condition"),
    path("Observation", fhir_api.ObservationSearchApi.as_view(), name="fhir_observation_search"),
    path("Observation/<path:resource_id>", fhir_api.ObservationReadApi.as_view(), name="fhir_observation"),
    path("MedicationRequest", fhir_api.MedicationRequestSearchApi.as_view(), name="fhir_medicationrequest_search"),
    path(
        "MedicationRequest/<path:resource_id>",
        fhir_api.MedicationRequestReadApi.as_view(),
        name="fhir_medicationrequest",
    ),
    path("Medication/<path:resource_id>", fhir_api.MedicationReadApi.as_view(), name="fhir_medication"),
]
