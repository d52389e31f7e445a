"""The clinical record as FHIR R4 resources, the way SATUSEHAT takes an outpatient visit.

`visit_resources` maps one visit to its Encounter (listing its diagnoses), a Condition per diagnosis, an
Observation per vital sign measured, a Medication and a MedicationRequest per prescription, and an
AllergyIntolerance when the patient has known allergies. How resources point at each other is the
caller's: `LocalRefs` gives our own ids (the read API, the export); the sender gives SATUSEHAT's.
Nothing here queries SATUSEHAT or writes anything. Times are in UTC ("+00:00"), as SATUSEHAT asks.

A voided record is still mapped, with FHIR's status entered-in-error and `retract=True`: the sender
sends it only to retract a resource sent before. A resource SATUSEHAT cannot take yet (a drug without
its KFA code; allergies written as free text) is `optional`: it waits alone, the rest of the visit goes.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.db import connection
from django.db.models import Prefetch

from records.models import Diagnosis, Patient, Prescription, Revision, Visit, VitalSigns

SYSTEM_NIK = "https://fhir.kemkes.go.id/id/nik"
SYSTEM_IHS = "https://fhir.kemkes.go.id/id/ihs-number"
SYSTEM_KFA = "http://sys-ids.kemkes.go.id/kfa"
SYSTEM_ICD10 = "http://hl7.org/fhir/sid/icd-10"
SYSTEM_LOINC = "http://loinc.org"
SYSTEM_UCUM = "http://unitsofmeasure.org"
# The clinic's own medical record number. No national system exists for it; a URN keeps it apart
# from every kemkes system (it is only in the read API and the export, never sent).
SYSTEM_MRN = "urn:klinik:mrn"
IDENTIFIER_BASE = "http://sys-ids.kemkes.go.id"

_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
_CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
_CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_MEDREQ_CATEGORY = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
_ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
_DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
# SATUSEHAT's Medication profile and its required MedicationType extension (non-compound, compound
# "d.t.d." or not): https://satusehat.kemkes.go.id/platform/docs/id/fhir/resources/medication/
# ("*Medication.extension:medicationType"). The page's example spells the code system with https;
# published integrations use http, as the same page does for medication-form.
PROFILE_MEDICATION = "https://fhir.kemkes.go.id/r4/StructureDefinition/Medication"
EXTENSION_MEDICATION_TYPE = "https://fhir.kemkes.go.id/r4/StructureDefinition/MedicationType"
SYSTEM_MEDICATION_TYPE = "http://terminology.kemkes.go.id/CodeSystem/medication-type"

ENTERED_IN_ERROR = "entered-in-error"


@dataclass(frozen=True)
class VitalCode:
    field: str
    loinc: str
    display: str
    ucum: str  # the code, in UCUM
    unit: str  # what a person reads


# In the order they are mapped. Blood pressure is two Observations, as SATUSEHAT takes it.
VITALS: tuple[VitalCode, ...] = (
    VitalCode("temperature_c", "8310-5", "Body temperature", "Cel", "°C"),
    VitalCode("pulse", "8867-4", "Heart rate", "/min", "beats/minute"),
    VitalCode("respiratory_rate", "9279-1", "Respiratory rate", "/min", "breaths/minute"),
    VitalCode("systolic", "8480-6", "Systolic blood pressure", "mm[Hg]", "mmHg"),
    VitalCode("diastolic", "8462-4", "Diastolic blood pressure", "mm[Hg]", "mmHg"),
    VitalCode("spo2", "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%"),
    VitalCode("height_cm", "8302-2", "Body height", "cm", "cm"),
    VitalCode("weight_kg", "29463-7", "Body weight", "kg", "kg"),
)
VITAL_BY_LOINC = {code.loinc: code for code in VITALS}


@dataclass(frozen=True)
class Built:
    """One resource made from the record, and the key it is known by locally."""

    resource_type: str
    local_key: str  # the record's uuid; "<vitals uuid>:<LOINC>"; "<prescription uuid>:medication"; ...
    resource: dict  # JSON-ready, without "id"
    retract: bool = False  # a voided record: sent only to retract one sent before
    # A resource the visit can be sent without (a drug waiting for its KFA code): a problem of it, or
    # SATUSEHAT refusing it, holds back only it and what points at it.
    optional: bool = False
    # The identifier (system, value) by which SATUSEHAT finds this one resource again (unique to it).
    lookup: tuple[str, str] | None = None


class Refs(Protocol):
    """How a resource points at another (our ids, or SATUSEHAT's)."""

    organization_id: str

    def patient(self, patient: Patient) -> dict: ...

    def practitioner(self, user: Any) -> dict | None: ...

    def encounter(self, visit: Visit) -> dict: ...

    def medication(self, prescription: Prescription) -> dict: ...

    def condition(self, diagnosis: Diagnosis) -> dict: ...

    def location(self) -> dict | None: ...


class LocalRefs:
    """References to our own records: Patient/<patient uuid>, Practitioner/<user pk>,
    Encounter/<visit uuid>, Medication/<prescription uuid>. The organization is the clinic's SATUSEHAT
    organization when it is connected (with its location), else the clinic's schema name. Reads the
    connection of the schema in use."""

    def __init__(self, clinic: Any | None = None) -> None:
        from satusehat.models import Connection

        self._connection = Connection.objects.first()
        if self._connection is not None:
            self.organization_id = self._connection.organization_id
        else:
            self.organization_id = clinic.schema_name if clinic is not None else connection.schema_name

    def patient(self, patient: Patient) -> dict:
        return {"reference": f"Patient/{patient.pk}", "display": patient.full_name}

    def practitioner(self, user: Any) -> dict | None:
        if user is None:
            return None
        return {"reference": f"Practitioner/{user.pk}", "display": user.full_name or str(user.pk)}

    def encounter(self, visit: Visit) -> dict:
        return {"reference": f"Encounter/{visit.pk}"}

    def medication(self, prescription: Prescription) -> dict:
        return {"reference": f"Medication/{prescription.pk}", "display": prescription.drug}

    def condition(self, diagnosis: Diagnosis) -> dict:
        return {"reference": f"Condition/{diagnosis.pk}", "display": diagnosis.title}

    def location(self) -> dict | None:
        if self._connection is None or not self._connection.location_id:
            return None
        reference = {"reference": f"Location/{self._connection.location_id}"}
        if self._connection.location_name:
            reference["display"] = self._connection.location_name
        return reference


# --- small helpers ---------------------------------------------------------------------------------


def identifier_system(kind: str, organization_id: str) -> str:
    """The clinic's identifier system for a kind of resource, as SATUSEHAT names them."""
    return f"{IDENTIFIER_BASE}/{kind}/{organization_id}"


def drug_key(drug: str) -> str:
    """A drug as written, folded: the key of `KfaCode.drug` ("Paracetamol  500 MG" ~ "paracetamol 500 mg")."""
    return " ".join(drug.split()).casefold()


def fhir_time(value: datetime.datetime) -> str:
    """An aware time in UTC to the second: 2026-03-02T02:30:00+00:00."""
    return value.astimezone(datetime.UTC).isoformat(timespec="seconds")


def fhir_number(value: Decimal | int | float) -> int | float:
    """A JSON number that reads as the value entered: Decimal("37.8") -> 37.8 (a float whose shortest
    form is "37.8"; the record keeps at most four digits, far inside a float's exact range)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    return value


def _coding(system: str, code: str, display: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None) -> dict:
    return {"coding": [_coding(system, code, display)]}


def _identifier(kind: str, organization_id: str, value: str) -> list[dict]:
    return [{"system": identifier_system(kind, organization_id), "value": value}]


def has_kfa_code(medication: dict) -> bool:
    """Whether a Medication names its drug by a KFA code (SATUSEHAT takes no other)."""
    codings = (medication.get("code") or {}).get("coding") or []
    return any(coding.get("system") == SYSTEM_KFA and coding.get("code") for coding in codings)


def is_coded(resource: dict) -> bool:
    """Whether a resource's `code` holds a coding, not only text."""
    return bool((resource.get("code") or {}).get("coding"))


# --- the encounter's times -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusTimes:
    arrived: datetime.datetime
    in_progress: datetime.datetime | None
    finished: datetime.datetime | None


def status_times(visit: Visit) -> StatusTimes:
    """When the visit arrived, started and finished: the check-in, then the revisions that set each
    status (falling back to the call and the last change). Never running backwards."""
    firsts: dict[str, datetime.datetime] = {}
    rows = (
        Revision.objects.filter(entity="visit", record_id=visit.pk, after__status__in=["in_progress", "finished"])
        .order_by("at", "id")
        .values_list("after__status", "at")
    )
    for status, at in rows:
        firsts.setdefault(status, at)
    arrived = visit.arrived_at or visit.started_at
    in_progress = None
    finished = None
    if visit.status in (Visit.Status.IN_PROGRESS, Visit.Status.FINISHED):
        in_progress = max(arrived, firsts.get("in_progress") or visit.called_at or visit.started_at)
    if visit.status == Visit.Status.FINISHED:
        finished = max(firsts.get("finished") or visit.updated_at, in_progress or arrived)
    return StatusTimes(arrived, in_progress, finished)


# --- the resources ---------------------------------------------------------------------------------


def ranked_diagnoses(visit: Visit) -> list[Diagnosis]:
    """The diagnoses the visit stands by, ranked: the primary first, then in the order written. None
    for a voided visit (its Conditions are entered-in-error with it)."""
    if visit.is_voided:
        return []
    standing = [diagnosis for diagnosis in visit.diagnoses.all() if not diagnosis.is_voided]
    return sorted(standing, key=lambda d: (d.kind != Diagnosis.Kind.PRIMARY, d.created_at, str(d.pk)))


def encounter_resource(visit: Visit, refs: Refs, times: StatusTimes | None = None) -> dict:
    times = times or status_times(visit)
    voided = visit.is_voided
    status = {
        Visit.Status.ARRIVED: "arrived",
        Visit.Status.IN_PROGRESS: "in-progress",
        Visit.Status.FINISHED: "finished",
    }[visit.status]
    history = [{"status": "arrived", "period": {"start": fhir_time(times.arrived)}}]
    if times.in_progress is not None:
        history[-1]["period"]["end"] = fhir_time(times.in_progress)
        history.append({"status": "in-progress", "period": {"start": fhir_time(times.in_progress)}})
    if times.finished is not None:
        history[-1]["period"]["end"] = fhir_time(times.finished)
        history.append(
            {"status": "finished", "period": {"start": fhir_time(times.finished), "end": fhir_time(times.finished)}}
        )
    period = {"start": fhir_time(times.arrived)}
    if times.finished is not None:
        period["end"] = fhir_time(times.finished)
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "identifier": _identifier("encounter", refs.organization_id, str(visit.pk)),
        "status": ENTERED_IN_ERROR if voided else status,
        "class": _coding(_ACT_CODE, "AMB", "ambulatory"),
        "subject": refs.patient(visit.patient),
    }
    practitioner = refs.practitioner(visit.practitioner) if visit.practitioner_id else None
    if practitioner is not None:
        resource["participant"] = [
            {
                "type": [_concept(_PARTICIPATION, "ATND", "attender")],
                "individual": practitioner,
            }
        ]
    resource["period"] = period
    diagnoses = ranked_diagnoses(visit)
    if diagnoses:
        resource["diagnosis"] = [
            {
                "condition": refs.condition(diagnosis),
                "use": _concept(_DIAGNOSIS_ROLE, "DD", "Discharge diagnosis"),
                "rank": rank,
            }
            for rank, diagnosis in enumerate(diagnoses, start=1)
        ]
    location = refs.location()
    if location is not None:
        resource["location"] = [{"location": location}]
    resource["statusHistory"] = history
    resource["serviceProvider"] = {"reference": f"Organization/{refs.organization_id}"}
    return resource


def condition_resource(diagnosis: Diagnosis, visit: Visit, refs: Refs) -> dict:
    voided = diagnosis.is_voided or visit.is_voided
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "identifier": _identifier("condition", refs.organization_id, str(diagnosis.pk)),
    }
    # FHIR (con-5): an entered-in-error Condition has no clinical status.
    if voided:
        resource["verificationStatus"] = _concept(_CONDITION_VERIFICATION, ENTERED_IN_ERROR, "Entered in Error")
    else:
        resource["clinicalStatus"] = _concept(_CONDITION_CLINICAL, "active", "Active")
    resource["category"] = [_concept(_CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")]
    resource["code"] = _concept(SYSTEM_ICD10, diagnosis.code, diagnosis.title)
    resource["subject"] = refs.patient(visit.patient)
    resource["encounter"] = refs.encounter(visit)
    resource["recordedDate"] = fhir_time(diagnosis.created_at)
    return resource


def observation_resource(vitals: VitalSigns, code: VitalCode, visit: Visit, refs: Refs) -> dict | None:
    """The Observation of one vital sign, or None when it was not measured."""
    value = getattr(vitals, code.field, None)
    if value is None:
        return None
    voided = vitals.is_voided or visit.is_voided
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": _identifier("observation", refs.organization_id, f"{vitals.pk}:{code.loinc}"),
        "status": ENTERED_IN_ERROR if voided else "final",
        "category": [_concept(_OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
        "code": _concept(SYSTEM_LOINC, code.loinc, code.display),
        "subject": refs.patient(visit.patient),
        "encounter": refs.encounter(visit),
        "effectiveDateTime": fhir_time(vitals.measured_at),
        "issued": fhir_time(vitals.updated_at),
    }
    performer = refs.practitioner(vitals.created_by)
    if performer is not None:
        resource["performer"] = [performer]
    resource["valueQuantity"] = {
        "value": fhir_number(value),
        "unit": code.unit,
        "system": SYSTEM_UCUM,
        "code": code.ucum,
    }
    return resource


def medication_resource(
    prescription: Prescription, visit: Visit, refs: Refs, kfa: dict[str, tuple[str, str]] | None = None
) -> dict:
    voided = prescription.is_voided or visit.is_voided
    code: dict[str, Any] = {}
    mapped = (kfa or {}).get(drug_key(prescription.drug))
    if mapped is not None:
        code["coding"] = [_coding(SYSTEM_KFA, mapped[0], mapped[1])]
    code["text"] = prescription.drug
    return {
        "resourceType": "Medication",
        "meta": {"profile": [PROFILE_MEDICATION]},
        "extension": [
            {
                "url": EXTENSION_MEDICATION_TYPE,
                # A prescription names one drug as made: never a compound (racikan).
                "valueCodeableConcept": _concept(SYSTEM_MEDICATION_TYPE, "NC", "Non-compound"),
            }
        ],
        "identifier": _identifier("medication", refs.organization_id, str(prescription.pk)),
        "code": code,
        "status": ENTERED_IN_ERROR if voided else "active",
    }


def dosage_text(prescription: Prescription) -> str:
    """ "500 mg 3x sehari, oral, 3 hari": what the prescription says of how to take it."""
    parts = [" ".join(part for part in (prescription.dose, prescription.frequency) if part)]
    parts += [part for part in (prescription.route, prescription.duration) if part]
    return ", ".join(part for part in parts if part)


def medication_request_resource(prescription: Prescription, visit: Visit, refs: Refs) -> dict:
    voided = prescription.is_voided or visit.is_voided
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        # As SATUSEHAT numbers prescriptions: the prescription (one per visit: the visit's id) and this
        # line of it. The line's comes first: it alone finds this resource again.
        "identifier": [
            {"system": identifier_system("prescription-item", refs.organization_id), "value": str(prescription.pk)},
            {"system": identifier_system("prescription", refs.organization_id), "value": str(visit.pk)},
        ],
        "status": ENTERED_IN_ERROR if voided else "active",
        "intent": "order",
        "category": [_concept(_MEDREQ_CATEGORY, "outpatient", "Outpatient")],
        "medicationReference": refs.medication(prescription),
        "subject": refs.patient(visit.patient),
        "encounter": refs.encounter(visit),
        "authoredOn": fhir_time(prescription.created_at),
    }
    requester = refs.practitioner(prescription.created_by or visit.practitioner)
    if requester is not None:
        resource["requester"] = requester
    dosage: dict[str, Any] = {"sequence": 1, "text": dosage_text(prescription)}
    if prescription.instructions:
        dosage["patientInstruction"] = prescription.instructions
    if prescription.route:
        dosage["route"] = {"text": prescription.route}
    resource["dosageInstruction"] = [dosage]
    if prescription.quantity:
        resource["dispenseRequest"] = {"quantity": {"value": prescription.quantity}}
    return resource


def allergy_resource(patient: Patient, visit: Visit, refs: Refs) -> dict:
    """The patient's known allergies as written (free text: unconfirmed, no code or category to give;
    SATUSEHAT takes coded allergies only, so the visit's Built is optional)."""
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "identifier": _identifier("allergy", refs.organization_id, str(patient.pk)),
    }
    if patient.is_voided:
        resource["verificationStatus"] = _concept(_ALLERGY_VERIFICATION, ENTERED_IN_ERROR, "Entered in Error")
    else:
        resource["clinicalStatus"] = _concept(_ALLERGY_CLINICAL, "active", "Active")
        resource["verificationStatus"] = _concept(_ALLERGY_VERIFICATION, "unconfirmed", "Unconfirmed")
    resource["code"] = {"text": patient.allergies.strip()}
    resource["patient"] = refs.patient(patient)
    resource["encounter"] = refs.encounter(visit)
    resource["recordedDate"] = fhir_time(patient.updated_at)
    return resource


def visit_parts() -> list[Prefetch]:
    """What `visit_resources` reads of a visit, for a query of visits to fetch in a few statements."""
    return [
        Prefetch("diagnoses", queryset=Diagnosis.objects.all()),
        Prefetch("vital_signs", queryset=VitalSigns.objects.select_related("created_by")),
        Prefetch("prescriptions", queryset=Prescription.objects.select_related("created_by")),
    ]


# The identifier kind that finds each resource again at SATUSEHAT (`Built.lookup`).
LOOKUP_KINDS = {
    "Encounter": "encounter",
    "Condition": "condition",
    "Observation": "observation",
    "Medication": "medication",
    "MedicationRequest": "prescription-item",
    "AllergyIntolerance": "allergy",
}


def lookup_identifier(resource: dict, organization_id: str) -> tuple[str, str] | None:
    """The (system, value) of the identifier that finds this resource again (see `LOOKUP_KINDS`)."""
    kind = LOOKUP_KINDS.get(resource.get("resourceType", ""))
    if kind is None:
        return None
    system = identifier_system(kind, organization_id)
    for identifier in resource.get("identifier") or []:
        if identifier.get("system") == system and identifier.get("value"):
            return system, identifier["value"]
    return None


def visit_resources(visit: Visit, refs: Refs, *, kfa: dict[str, tuple[str, str]] | None = None) -> list[Built]:
    """Everything SATUSEHAT takes of one visit, Encounter first (the others refer to it). Query the
    visit with `visit_parts()` prefetched, or its parts are read one query each."""
    patient = visit.patient
    built: list[Built] = []

    def add(resource_type: str, local_key: str, resource: dict, retract: bool, optional: bool = False) -> None:
        lookup = lookup_identifier(resource, refs.organization_id)
        built.append(Built(resource_type, local_key, resource, retract=retract, optional=optional, lookup=lookup))

    add("Encounter", str(visit.pk), encounter_resource(visit, refs), visit.is_voided)
    for diagnosis in visit.diagnoses.all():
        add(
            "Condition",
            str(diagnosis.pk),
            condition_resource(diagnosis, visit, refs),
            diagnosis.is_voided or visit.is_voided,
        )
    for vitals in visit.vital_signs.all():
        for code in VITALS:
            resource = observation_resource(vitals, code, visit, refs)
            if resource is not None:
                add("Observation", f"{vitals.pk}:{code.loinc}", resource, vitals.is_voided or visit.is_voided)
    for prescription in visit.prescriptions.all():
        retract = prescription.is_voided or visit.is_voided
        medication = medication_resource(prescription, visit, refs, kfa)
        # A drug without its KFA code waits alone, and the request naming it with it.
        waits = not has_kfa_code(medication)
        add("Medication", f"{prescription.pk}:medication", medication, retract, optional=waits)
        add(
            "MedicationRequest",
            str(prescription.pk),
            medication_request_resource(prescription, visit, refs),
            retract,
            optional=waits,
        )
    # Allergies belong to the patient; a voided visit does not carry them (a voided patient retracts them).
    if patient.allergies.strip() and (not visit.is_voided or patient.is_voided):
        allergy = allergy_resource(patient, visit, refs)
        add("AllergyIntolerance", f"{patient.pk}:allergy", allergy, patient.is_voided, optional=not is_coded(allergy))
    return built


def patient_resource(patient: Patient) -> dict:
    """The patient with our id (the read API, the export): NIK, medical record number, name, sex,
    birth date, phone, address."""
    identifiers = []
    if patient.nik:
        identifiers.append({"use": "official", "system": SYSTEM_NIK, "value": patient.nik})
    identifiers.append({"use": "usual", "system": SYSTEM_MRN, "value": patient.medical_record_number})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": identifiers,
        "active": not patient.is_voided,
        "name": [{"use": "official", "text": patient.full_name}],
    }
    if patient.phone:
        resource["telecom"] = [{"system": "phone", "value": patient.phone, "use": "mobile"}]
    resource["gender"] = {"M": "male", "F": "female"}.get(patient.sex, "unknown")
    resource["birthDate"] = patient.birth_date.isoformat()
    if patient.address:
        resource["address"] = [{"use": "home", "text": patient.address}]
    return resource


def practitioner_resource(user: Any) -> dict:
    """A member of staff with our id: name, NIK and SIP (Surat Izin Praktik) when known; never the email."""
    resource: dict[str, Any] = {"resourceType": "Practitioner", "id": str(user.pk)}
    if user.nik:
        resource["identifier"] = [{"use": "official", "system": SYSTEM_NIK, "value": user.nik}]
    resource["active"] = bool(user.is_active)
    resource["name"] = [{"use": "official", "text": user.full_name}]
    if user.sip_number:
        resource["qualification"] = [
            {
                "identifier": [{"value": user.sip_number}],
                "code": {"text": f"Surat Izin Praktik (SIP) {user.sip_number}"},
            }
        ]
    return resource
