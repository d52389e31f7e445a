"""The clinic's records read as FHIR resources with our own ids (the selectors behind GET /api/fhir/...).

Ids: Patient, Encounter (a visit), Condition (a diagnosis), MedicationRequest and Medication (a
prescription) are the record's UUID; an Observation is one vital sign of a vital-signs record,
"<vitals uuid>-<LOINC>" (FHIR ids take no ":"; "<vitals uuid>:<LOINC>", the sender's local key, is read
too). Voided records are returned as FHIR has it, entered-in-error, never hidden. Role checks and the
chart-access log are the views' (`encounter_for_reader` shapes an Encounter for a role); a bad id or
parameter is a ValidationError, an unknown one Http404.
"""

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from records.models import ClinicalRecord, Diagnosis, Patient, Prescription, Visit, VitalSigns
from satusehat import fhir, selectors

MAX_PARAMETER_LENGTH = 200
UUID_TEXT = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
OBSERVATION_ID = re.compile(rf"^({UUID_TEXT})[:-]([0-9]{{1,7}}-[0-9])$")


@dataclass
class Found:
    """Resources found, and the patients whose clinical record they come from (for the access log)."""

    resources: list[dict] = field(default_factory=list)
    patients: list[Patient] = field(default_factory=list)


# --- reading parameters ----------------------------------------------------------------------------


def _checked_text(value: str, name: str) -> str:
    if len(value) > MAX_PARAMETER_LENGTH:
        raise ValidationError({name: [_("This value is too long.")]})
    if "\x00" in value:
        raise ValidationError({name: [_("The text holds a NUL character.")]})
    return value


def parse_id(value: str, name: str = "id") -> uuid.UUID:
    """A record's id: a UUID, or a 400 naming the parameter."""
    _checked_text(value, name)
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ValidationError({name: [_("Not a valid id: use the record's UUID.")]}) from exc


def parse_reference(value: str, resource_type: str, name: str) -> uuid.UUID:
    """A search's reference, as FHIR writes it: "<uuid>" or "<Type>/<uuid>"."""
    _checked_text(value, name)
    prefix = f"{resource_type}/"
    return parse_id(value[len(prefix) :] if value.startswith(prefix) else value, name)


def parse_observation_id(value: str) -> tuple[uuid.UUID, fhir.VitalCode]:
    _checked_text(value, "id")
    match = OBSERVATION_ID.fullmatch(value)
    code = fhir.VITAL_BY_LOINC.get(match.group(2)) if match else None
    if match is None or code is None:
        raise ValidationError(
            {"id": [_("Not a valid Observation id: use <vital signs UUID>-<LOINC code>, as in the search results.")]}
        )
    return uuid.UUID(match.group(1)), code


# --- shaping ---------------------------------------------------------------------------------------


def with_id(resource: dict, resource_id: str, record: ClinicalRecord | None = None) -> dict:
    """The resource with its id (and version, when it comes from one record, beside the profile it
    claims), resourceType first."""
    shaped: dict[str, Any] = {"resourceType": resource["resourceType"], "id": resource_id}
    meta = dict(resource.get("meta") or {})
    if record is not None:
        meta.update(versionId=str(record.version), lastUpdated=fhir.fhir_time(record.updated_at))
    if meta:
        shaped["meta"] = meta
    shaped.update({key: value for key, value in resource.items() if key not in ("resourceType", "id", "meta")})
    return shaped


def encounter_for_reader(encounter: dict, may_read_diagnoses: bool) -> dict:
    """An Encounter as a reader sees it: the diagnoses it lists are bare references (their names are read,
    and logged as a chart opening, as Conditions), and none at all for a role that may not read
    diagnoses. So an Encounter holds no clinical content."""
    if "diagnosis" not in encounter:
        return encounter
    shaped = {key: value for key, value in encounter.items() if key != "diagnosis"}
    if may_read_diagnoses:
        shaped["diagnosis"] = [
            {**entry, "condition": {"reference": entry["condition"]["reference"]}} for entry in encounter["diagnosis"]
        ]
    return shaped


def observation_id(vitals: VitalSigns, code: fhir.VitalCode) -> str:
    return f"{vitals.pk}-{code.loinc}"


def _visits_of(patient_id: uuid.UUID | None, encounter_id: uuid.UUID | None) -> dict[str, Any]:
    """The filter on a visit's parts for a search by patient and/or encounter."""
    if patient_id is None and encounter_id is None:
        raise ValidationError({"patient": [_("Search by patient or by encounter (a visit).")]})
    filters: dict[str, Any] = {}
    if patient_id is not None:
        filters["visit__patient_id"] = patient_id
    if encounter_id is not None:
        filters["visit_id"] = encounter_id
    return filters


def _patients_searched(patient_id: uuid.UUID | None, encounter_id: uuid.UUID | None) -> list[Patient]:
    """The patient whose record a search reads: named, or the visit's (none if neither exists)."""
    if encounter_id is not None:
        visit = Visit.objects.select_related("patient").filter(pk=encounter_id).first()
        if visit is None or (patient_id is not None and visit.patient_id != patient_id):
            return []
        return [visit.patient]
    patient = Patient.objects.filter(pk=patient_id).first()
    return [patient] if patient else []


# --- Patient -----------------------------------------------------------------------------------------


def read_patient(resource_id: str) -> dict:
    patient = Patient.objects.filter(pk=parse_id(resource_id)).first()
    if patient is None:
        raise Http404
    return with_id(fhir.patient_resource(patient), str(patient.pk), patient)


def search_patients(identifier: str) -> list[dict]:
    """Patients by identifier: "<system>|<value>" (NIK or medical record number) or a bare value (either)."""
    _checked_text(identifier, "identifier")
    system, bar, value = identifier.partition("|")
    if not bar:
        system, value = "", identifier
    value = value.strip()
    if not value:
        raise ValidationError(
            {
                "identifier": [
                    _("Give the identifier's value, as in %(example)s.")
                    % {"example": f"{fhir.SYSTEM_NIK}|3174015708900003"}
                ]
            }
        )
    if system == fhir.SYSTEM_NIK:
        patients = Patient.objects.filter(nik=value)
    elif system == fhir.SYSTEM_MRN:
        patients = Patient.objects.filter(medical_record_number=value)
    elif system == "":
        patients = Patient.objects.filter(nik=value) | Patient.objects.filter(medical_record_number=value)
    else:
        raise ValidationError(
            {
                "identifier": [
                    _("Search by NIK (%(nik)s) or medical record number (%(mrn)s).")
                    % {"nik": fhir.SYSTEM_NIK, "mrn": fhir.SYSTEM_MRN}
                ]
            }
        )
    return [with_id(fhir.patient_resource(patient), str(patient.pk), patient) for patient in patients.order_by("id")]


# --- Encounter ---------------------------------------------------------------------------------------


def _encounters(visits: QuerySet[Visit], refs: fhir.Refs) -> list[dict]:
    return [with_id(fhir.encounter_resource(visit, refs), str(visit.pk), visit) for visit in visits]


def _visits() -> QuerySet[Visit]:
    return Visit.objects.select_related("patient", "practitioner").prefetch_related("diagnoses")


def read_encounter(resource_id: str, refs: fhir.Refs) -> dict:
    visits = _visits().filter(pk=parse_id(resource_id))
    found = _encounters(visits, refs)
    if not found:
        raise Http404
    return found[0]


def search_encounters(patient: str, refs: fhir.Refs) -> list[dict]:
    patient_id = parse_reference(patient, "Patient", "patient")
    return _encounters(_visits().filter(patient_id=patient_id).order_by("-started_at", "id"), refs)


# --- Condition ----------------------------------------------------------------------------------------


def _conditions(diagnoses: QuerySet[Diagnosis], refs: fhir.Refs) -> list[dict]:
    return [
        with_id(fhir.condition_resource(diagnosis, diagnosis.visit, refs), str(diagnosis.pk), diagnosis)
        for diagnosis in diagnoses
    ]


def read_condition(resource_id: str, refs: fhir.Refs) -> Found:
    diagnosis = Diagnosis.objects.select_related("visit__patient").filter(pk=parse_id(resource_id)).first()
    if diagnosis is None:
        raise Http404
    return Found(_conditions([diagnosis], refs), [diagnosis.visit.patient])


def search_conditions(patient: str | None, encounter: str | None, refs: fhir.Refs) -> Found:
    patient_id = parse_reference(patient, "Patient", "patient") if patient is not None else None
    encounter_id = parse_reference(encounter, "Encounter", "encounter") if encounter is not None else None
    diagnoses = (
        Diagnosis.objects.select_related("visit__patient")
        .filter(**_visits_of(patient_id, encounter_id))
        .order_by("-visit__started_at", "kind", "code", "id")
    )
    return Found(_conditions(diagnoses, refs), _patients_searched(patient_id, encounter_id))


# --- Observation --------------------------------------------------------------------------------------


def _observations(vitals_records: list[VitalSigns], refs: fhir.Refs, only: fhir.VitalCode | None = None) -> list[dict]:
    found = []
    for vitals in vitals_records:
        for code in (only,) if only else fhir.VITALS:
            resource = fhir.observation_resource(vitals, code, vitals.visit, refs)
            if resource is not None:
                found.append(with_id(resource, observation_id(vitals, code), vitals))
    return found


def read_observation(resource_id: str, refs: fhir.Refs) -> Found:
    vitals_id, code = parse_observation_id(resource_id)
    vitals = VitalSigns.objects.select_related("visit__patient", "created_by").filter(pk=vitals_id).first()
    found = _observations([vitals], refs, code) if vitals else []
    if not found:  # no such record, or this sign was not measured
        raise Http404
    return Found(found, [vitals.visit.patient])


def search_observations(patient: str | None, encounter: str | None, refs: fhir.Refs) -> Found:
    patient_id = parse_reference(patient, "Patient", "patient") if patient is not None else None
    encounter_id = parse_reference(encounter, "Encounter", "encounter") if encounter is not None else None
    vitals = (
        VitalSigns.objects.select_related("visit__patient", "created_by")
        .filter(**_visits_of(patient_id, encounter_id))
        .order_by("-measured_at", "id")
    )
    return Found(_observations(list(vitals), refs), _patients_searched(patient_id, encounter_id))


# --- MedicationRequest and Medication ---------------------------------------------------------------


def _prescriptions(prescriptions: QuerySet[Prescription]) -> list[Prescription]:
    return list(prescriptions.select_related("visit__patient", "visit__practitioner", "created_by"))


def read_medication_request(resource_id: str, refs: fhir.Refs) -> Found:
    found = _prescriptions(Prescription.objects.filter(pk=parse_id(resource_id)))
    if not found:
        raise Http404
    prescription = found[0]
    resource = fhir.medication_request_resource(prescription, prescription.visit, refs)
    return Found([with_id(resource, str(prescription.pk), prescription)], [prescription.visit.patient])


def search_medication_requests(patient: str | None, encounter: str | None, refs: fhir.Refs) -> Found:
    patient_id = parse_reference(patient, "Patient", "patient") if patient is not None else None
    encounter_id = parse_reference(encounter, "Encounter", "encounter") if encounter is not None else None
    prescriptions = _prescriptions(
        Prescription.objects.filter(**_visits_of(patient_id, encounter_id)).order_by(
            "-visit__started_at", "created_at", "id"
        )
    )
    resources = [with_id(fhir.medication_request_resource(p, p.visit, refs), str(p.pk), p) for p in prescriptions]
    return Found(resources, _patients_searched(patient_id, encounter_id))


def read_medication(resource_id: str, refs: fhir.Refs) -> Found:
    found = _prescriptions(Prescription.objects.filter(pk=parse_id(resource_id)))
    if not found:
        raise Http404
    prescription = found[0]
    kfa = selectors.kfa_codes([prescription.drug])
    resource = fhir.medication_resource(prescription, prescription.visit, refs, kfa)
    return Found([with_id(resource, str(prescription.pk), prescription)], [prescription.visit.patient])
