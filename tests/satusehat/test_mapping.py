"""The record as SATUSEHAT's FHIR resources (satusehat.fhir) and what SATUSEHAT would refuse (satusehat.checks)."""

import dataclasses
import datetime
import json
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django_tenants.utils import schema_context
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from records import services
from records.models import Patient, Revision, Visit, VitalSigns
from satusehat import checks, fhir, reasons
from satusehat.models import Connection
from tenants.accounts.models import Role, User
from tests.satusehat.factories import actor_of, make_finished_visit

pytestmark = pytest.mark.django_db

KFA = {
    "oralit 200 ml": ("93001019", "Oralit 200 ml Serbuk"),
    "paracetamol 500 mg": ("93000315", "Paracetamol 500 mg Tablet"),
}
# Siti's allergies are free text: SATUSEHAT takes coded ones only, so they wait alone (optional).
ALLERGY_UNCODED = (
    "The patient's allergies are written as free text. SATUSEHAT accepts coded allergies only, so the allergies "
    "stay in the clinic's record and are not sent; the rest of the visit is sent as usual."
)
NO_ALLERGIES = {"allergies": ""}


def built_for(visit_record, clinic, kfa=None) -> list[fhir.Built]:
    with schema_context(clinic.clinic.schema_name):
        visit = Visit.objects.select_related("patient", "practitioner").get(pk=visit_record.pk)
        return fhir.visit_resources(visit, fhir.LocalRefs(clinic.clinic), kfa=kfa)


def of_type(builts: list[fhir.Built], resource_type: str) -> list[fhir.Built]:
    return [built for built in builts if built.resource_type == resource_type]


def utc(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat(timespec="seconds")


def assert_valid_r4(resource: dict) -> None:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


# --- what a visit becomes ---------------------------------------------------------------------------


def test_a_finished_visit_is_an_encounter_then_its_parts(alpha, finished_visit):
    builts = built_for(finished_visit.visit, alpha, KFA)
    kinds = [built.resource_type for built in builts]
    assert kinds == [
        "Encounter",
        *["Condition"] * 2,
        *["Observation"] * 8,
        *["Medication", "MedicationRequest"] * 2,
        "AllergyIntolerance",
    ]
    assert all("id" not in built.resource for built in builts)
    json.dumps([built.resource for built in builts])  # JSON-ready as it is


def test_the_encounter_is_an_outpatient_visit_with_its_doctor_and_times(alpha, finished_visit):
    fv = finished_visit
    encounter = built_for(fv.visit, alpha)[0]
    resource = encounter.resource
    assert encounter.local_key == str(fv.visit.pk)
    assert not encounter.retract
    assert resource["status"] == "finished"
    assert resource["class"] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": "AMB",
        "display": "ambulatory",
    }
    assert resource["subject"] == {"reference": f"Patient/{fv.patient.pk}", "display": "Siti Rahmawati"}
    (participant,) = resource["participant"]
    assert participant["type"][0]["coding"][0]["code"] == "ATND"
    assert participant["individual"]["reference"] == f"Practitioner/{fv.doctor.pk}"
    assert resource["identifier"] == [
        {"system": "http://sys-ids.kemkes.go.id/encounter/alpha", "value": str(fv.visit.pk)}
    ]
    assert resource["serviceProvider"] == {"reference": "Organization/alpha"}
    assert "location" not in resource  # not connected: no location
    with schema_context(alpha.clinic.schema_name):
        revisions = {
            r.after["status"]: r.at
            for r in Revision.objects.filter(entity="visit", record_id=fv.visit.pk).order_by("-at")
        }
    history = resource["statusHistory"]
    assert [entry["status"] for entry in history] == ["arrived", "in-progress", "finished"]
    assert history[0]["period"]["start"] == utc(fv.visit.arrived_at)
    assert history[1]["period"]["start"] == utc(revisions["in_progress"])
    assert history[2]["period"]["start"] == utc(revisions["finished"])
    assert resource["period"] == {"start": utc(fv.visit.arrived_at), "end": utc(revisions["finished"])}
    assert all(entry["period"]["start"].endswith("+00:00") for entry in history)
    for word in ("Diare", "Oralit", "subjective", "Turgor"):  # no clinical notes in the Encounter
        assert word not in json.dumps(resource)


def test_an_amended_visit_takes_its_status_times_from_the_history(alpha):
    fv = make_finished_visit(alpha)
    doctor = actor_of(alpha, Role.DOCTOR)
    arrived = datetime.datetime(2026, 3, 2, 1, 30, tzinfo=datetime.UTC)  # 08:30 in Jakarta
    started = arrived + datetime.timedelta(minutes=20)
    finished = arrived + datetime.timedelta(minutes=45)
    with schema_context(alpha.clinic.schema_name):
        Visit.objects.filter(pk=fv.visit.pk).update(arrived_at=arrived, started_at=arrived, called_at=None)
        history = Revision.objects.filter(entity="visit", record_id=fv.visit.pk)
        history.filter(after__status="in_progress").update(at=started)
        history.filter(after__status="finished").update(at=finished)
        services.record_update(
            instance=Visit.objects.get(pk=fv.visit.pk),
            actor=doctor,
            changes={"plan": "Oralit, zinc 10 hari, kontrol 3 hari"},
            reason="Zinc belum ditulis",
        )
        visit = Visit.objects.get(pk=fv.visit.pk)
        assert visit.updated_at > finished  # the amendment is later than the finish: not the finish time
        resource = fhir.visit_resources(visit, fhir.LocalRefs(alpha.clinic))[0].resource
    assert resource["statusHistory"] == [
        {"status": "arrived", "period": {"start": "2026-03-02T01:30:00+00:00", "end": "2026-03-02T01:50:00+00:00"}},
        {"status": "in-progress", "period": {"start": "2026-03-02T01:50:00+00:00", "end": "2026-03-02T02:15:00+00:00"}},
        {"status": "finished", "period": {"start": "2026-03-02T02:15:00+00:00", "end": "2026-03-02T02:15:00+00:00"}},
    ]
    assert resource["period"] == {"start": "2026-03-02T01:30:00+00:00", "end": "2026-03-02T02:15:00+00:00"}


def test_without_revisions_the_times_fall_back_to_the_call_and_the_last_change(alpha):
    fv = make_finished_visit(alpha)
    with schema_context(alpha.clinic.schema_name):
        Revision.objects.filter(entity="visit", record_id=fv.visit.pk).exclude(action="create").delete()
        visit = Visit.objects.get(pk=fv.visit.pk)
        times = fhir.status_times(visit)
    assert times.arrived == visit.arrived_at
    assert times.in_progress == visit.called_at
    assert times.finished == visit.updated_at


def test_a_visit_still_in_progress_has_no_end(alpha):
    fv = make_finished_visit(alpha, finished=False)
    encounter = built_for(fv.visit, alpha)[0].resource
    assert encounter["status"] == "in-progress"
    assert "end" not in encounter["period"]
    assert [entry["status"] for entry in encounter["statusHistory"]] == ["arrived", "in-progress"]
    assert "end" not in encounter["statusHistory"][-1]["period"]


def test_a_visit_with_no_practitioner_has_no_participant_and_checks_say_so(alpha):
    fv = make_finished_visit(alpha, practitioner=False)
    builts = built_for(fv.visit, alpha, KFA)
    assert "participant" not in builts[0].resource
    assert_valid_r4(builts[0].resource)
    with translation.override("en"):
        assert checks.visit_problems(builts) == [
            "The visit has no practitioner: choose the doctor who saw the patient.",
            ALLERGY_UNCODED,
        ]
    # The prescriptions still name who wrote them.
    request = of_type(builts, "MedicationRequest")[0].resource
    assert request["requester"]["reference"] == f"Practitioner/{fv.doctor.pk}"


def test_a_voided_visit_retracts_everything_it_sent(alpha):
    fv = make_finished_visit(alpha)
    with schema_context(alpha.clinic.schema_name):
        services.record_void(
            instance=Visit.objects.get(pk=fv.visit.pk), actor=actor_of(alpha, Role.DOCTOR), reason="Pasien salah"
        )
    builts = built_for(fv.visit, alpha, KFA)
    assert builts[0].resource["status"] == "entered-in-error"
    assert all(built.retract for built in builts)
    assert "AllergyIntolerance" not in [built.resource_type for built in builts]  # the patient's, not the visit's
    assert checks.visit_problems(builts) == []  # nothing left to check: only retractions


DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
DISCHARGE_DIAGNOSIS = {"coding": [{"system": DIAGNOSIS_ROLE, "code": "DD", "display": "Discharge diagnosis"}]}


def test_the_encounter_lists_its_standing_diagnoses_primary_first(alpha):
    fv = make_finished_visit(
        alpha,
        diagnoses=[
            {"code": "E11.9", "kind": "secondary"},
            {"code": "J06.9", "kind": "secondary", "void_reason": "Salah input, bukan ISPA"},
            {"code": "I10", "kind": "primary"},
            {"code": "K29.7", "kind": "secondary"},
        ],
    )
    e11, _voided, i10, k29 = fv.diagnoses
    encounter = built_for(fv.visit, alpha)[0]
    # The primary first, then the others in the order they were written; the voided one is not listed.
    assert encounter.resource["diagnosis"] == [
        {"condition": {"reference": f"Condition/{d.pk}", "display": d.title}, "use": DISCHARGE_DIAGNOSIS, "rank": rank}
        for rank, d in enumerate([i10, e11, k29], start=1)
    ]
    assert_valid_r4(encounter.resource)
    assert checks.problems(encounter) == []
    # Each listed Condition is one the visit sends (the sender creates them after the Encounter).
    sent = {f"Condition/{b.local_key}" for b in of_type(built_for(fv.visit, alpha), "Condition") if not b.retract}
    assert {entry["condition"]["reference"] for entry in encounter.resource["diagnosis"]} == sent


def test_an_encounter_lists_no_diagnoses_when_none_stand(alpha, finished_visit):
    (listed,) = built_for(finished_visit.visit, alpha)[0].resource["diagnosis"]  # A09; J06.9 was voided
    assert listed["condition"]["reference"] == f"Condition/{finished_visit.diagnoses[0].pk}"
    assert listed["rank"] == 1
    none = make_finished_visit(alpha, diagnoses=[])
    assert "diagnosis" not in built_for(none.visit, alpha)[0].resource
    # A voided visit's Conditions are entered-in-error with it: its Encounter lists none of them.
    with schema_context(alpha.clinic.schema_name):
        services.record_void(
            instance=Visit.objects.get(pk=finished_visit.visit.pk), actor=actor_of(alpha, Role.DOCTOR), reason="Salah"
        )
    voided = built_for(finished_visit.visit, alpha)[0]
    assert voided.retract
    assert "diagnosis" not in voided.resource
    assert_valid_r4(voided.resource)


def test_the_encounter_may_point_at_conditions_not_sent_yet_but_only_at_conditions(alpha, finished_visit):
    encounter = built_for(finished_visit.visit, alpha)[0]
    entry = encounter.resource["diagnosis"][0]
    placeholder = {"reference": f"urn:local:Condition:{finished_visit.diagnoses[0].pk}"}
    waiting = _replace(encounter, diagnosis=[{**entry, "condition": placeholder}])
    assert checks.problems(waiting) == []  # the sender fills it in once the Condition exists
    wrong = _replace(encounter, diagnosis=[{**entry, "condition": {"reference": "Observation/1"}}])
    with translation.override("en"):
        assert checks.problems(wrong) == ["The visit lists a diagnosis that is not a diagnosis record (Condition)."]
    assert [p.code for p in checks.find_problems(wrong)] == ["encounter_invalid"]


# --- diagnoses --------------------------------------------------------------------------------------


def test_each_diagnosis_is_a_condition_with_one_icd10_coding(alpha, finished_visit):
    fv = finished_visit
    primary, voided = of_type(built_for(fv.visit, alpha), "Condition")
    assert primary.local_key == str(fv.diagnoses[0].pk)
    assert not primary.retract
    resource = primary.resource
    assert resource["clinicalStatus"]["coding"][0]["code"] == "active"
    assert resource["category"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
        "code": "encounter-diagnosis",
        "display": "Encounter Diagnosis",
    }
    assert resource["code"] == {
        "coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "A09", "display": fv.diagnoses[0].title}]
    }
    assert resource["subject"]["reference"] == f"Patient/{fv.patient.pk}"
    assert resource["encounter"] == {"reference": f"Encounter/{fv.visit.pk}"}
    assert resource["recordedDate"] == utc(fv.diagnoses[0].created_at)
    assert resource["identifier"][0]["system"] == "http://sys-ids.kemkes.go.id/condition/alpha"
    # The voided one: sent only to retract, entered-in-error and no clinical status (FHIR con-5).
    assert voided.retract
    assert voided.resource["verificationStatus"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        "code": "entered-in-error",
        "display": "Entered in Error",
    }
    assert "clinicalStatus" not in voided.resource
    assert voided.resource["code"]["coding"][0]["code"] == "J06.9"


def test_primary_and_secondary_diagnoses_are_both_sent(alpha):
    fv = make_finished_visit(
        alpha, diagnoses=[{"code": "I10", "kind": "primary"}, {"code": "E11.9", "kind": "secondary"}]
    )
    conditions = of_type(built_for(fv.visit, alpha), "Condition")
    assert [c.resource["code"]["coding"][0]["code"] for c in conditions] == ["I10", "E11.9"]
    assert not any(c.retract for c in conditions)
    assert [c.resource["code"]["coding"][0]["display"] for c in conditions] == [d.title for d in fv.diagnoses]
    for condition in conditions:
        assert checks.problems(condition) == []


# --- vital signs ------------------------------------------------------------------------------------

EXPECTED_VITALS = {
    "8310-5": ("Body temperature", 37.8, "Cel"),
    "8867-4": ("Heart rate", 92, "/min"),
    "9279-1": ("Respiratory rate", 20, "/min"),
    "8480-6": ("Systolic blood pressure", 128, "mm[Hg]"),
    "8462-4": ("Diastolic blood pressure", 84, "mm[Hg]"),
    "59408-5": ("Oxygen saturation in Arterial blood by Pulse oximetry", 97, "%"),
    "8302-2": ("Body height", 156.5, "cm"),
    "29463-7": ("Body weight", 60.2, "kg"),
}


def test_every_vital_sign_is_an_observation_with_its_loinc_ucum_and_exact_value(alpha, finished_visit):
    fv = finished_visit
    observations = of_type(built_for(fv.visit, alpha), "Observation")
    by_loinc = {o.resource["code"]["coding"][0]["code"]: o for o in observations}
    assert set(by_loinc) == set(EXPECTED_VITALS)
    for loinc, (display, value, ucum) in EXPECTED_VITALS.items():
        built = by_loinc[loinc]
        resource = built.resource
        assert built.local_key == f"{fv.vitals.pk}:{loinc}"
        assert resource["identifier"] == [
            {"system": "http://sys-ids.kemkes.go.id/observation/alpha", "value": f"{fv.vitals.pk}:{loinc}"}
        ]
        assert resource["code"]["coding"][0] == {"system": "http://loinc.org", "code": loinc, "display": display}
        assert resource["status"] == "final"
        assert resource["category"][0]["coding"][0]["code"] == "vital-signs"
        quantity = resource["valueQuantity"]
        assert quantity["system"] == "http://unitsofmeasure.org"
        assert quantity["code"] == ucum
        assert quantity["value"] == value
        assert json.dumps(quantity["value"]) == str(value)  # 37.8 stays 37.8, never 37.799999
        assert resource["effectiveDateTime"] == utc(fv.vitals.measured_at)
        assert resource["performer"] == [{"reference": f"Practitioner/{fv.nurse.pk}", "display": fv.nurse.full_name}]
        assert resource["encounter"] == {"reference": f"Encounter/{fv.visit.pk}"}


def test_a_vital_sign_not_measured_is_not_sent(alpha):
    fv = make_finished_visit(alpha, vitals={"spo2": None, "height_cm": None, "respiratory_rate": None})
    loincs = [o.resource["code"]["coding"][0]["code"] for o in of_type(built_for(fv.visit, alpha), "Observation")]
    assert loincs == ["8310-5", "8867-4", "8480-6", "8462-4", "29463-7"]


def test_voided_vital_signs_are_retracted(alpha):
    fv = make_finished_visit(alpha, finished=False)
    with schema_context(alpha.clinic.schema_name):
        services.record_void(
            instance=VitalSigns.objects.get(pk=fv.vitals.pk), actor=actor_of(alpha, Role.NURSE), reason="Salah pasien"
        )
    observations = of_type(built_for(fv.visit, alpha), "Observation")
    assert len(observations) == 8
    assert all(o.retract and o.resource["status"] == "entered-in-error" for o in observations)


class _Refs:
    """References for resources built without the database (the property test)."""

    organization_id = "100026342"

    def patient(self, patient):
        return {"reference": "Patient/P02478375538"}

    def practitioner(self, user):
        return {"reference": "Practitioner/10009880728"}

    def encounter(self, visit):
        return {"reference": "Encounter/2823ed1d-3e3e-434e-9a5b-9c579d192bb4"}

    def medication(self, prescription):
        return {"reference": "Medication/b3bd1b8d-84f4-4f2c-a8a9-6e18fbd6f2ff"}

    def condition(self, diagnosis):
        return {"reference": "Condition/5d2c4a8e-3b1f-4e6a-9c7d-1a2b3c4d5e6f"}

    def location(self):
        return None


def _one_decimal(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low * 10, high * 10).map(lambda tenths: Decimal(tenths).scaleb(-1))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    temperature=_one_decimal(34, 42),
    weight=_one_decimal(2, 200),
    height=_one_decimal(30, 250),
    pulse=st.integers(20, 250),
    spo2=st.integers(50, 100),
)
def test_an_observation_value_is_the_decimal_entered(temperature, weight, height, pulse, spo2):
    now = timezone.now()
    vitals = VitalSigns(
        id=uuid.uuid4(),
        measured_at=now,
        updated_at=now,
        temperature_c=temperature,
        weight_kg=weight,
        height_cm=height,
        pulse=pulse,
        spo2=spo2,
    )
    visit = Visit(id=uuid.uuid4(), status=Visit.Status.FINISHED, patient=Patient(id=uuid.uuid4(), full_name="Siti"))
    vitals.created_by = User(pk=7, full_name="Ns. Dewi Lestari")
    entered = {"8310-5": temperature, "29463-7": weight, "8302-2": height, "8867-4": pulse, "59408-5": spo2}
    for loinc, value in entered.items():
        resource = fhir.observation_resource(vitals, fhir.VITAL_BY_LOINC[loinc], visit, _Refs())
        written = json.dumps(resource)
        read_back = json.loads(written, parse_float=Decimal)["valueQuantity"]["value"]
        assert read_back == value, (loinc, value, written)
        assert checks.problems(fhir.Built("Observation", f"{vitals.pk}:{loinc}", resource)) == []


# --- prescriptions ------------------------------------------------------------------------------------


def test_each_prescription_is_a_medication_and_a_request(alpha, finished_visit):
    fv = finished_visit
    builts = built_for(fv.visit, alpha, KFA)
    medications = of_type(builts, "Medication")
    requests = of_type(builts, "MedicationRequest")
    paracetamol = fv.prescriptions[1]
    medication = medications[1]
    assert medication.local_key == f"{paracetamol.pk}:medication"
    assert medication.resource["code"] == {
        "coding": [
            {"system": "http://sys-ids.kemkes.go.id/kfa", "code": "93000315", "display": "Paracetamol 500 mg Tablet"}
        ],
        "text": "Paracetamol 500 mg",
    }
    assert medication.resource["identifier"][0]["system"] == "http://sys-ids.kemkes.go.id/medication/alpha"
    request = requests[1]
    assert request.local_key == str(paracetamol.pk)
    resource = request.resource
    assert resource["status"] == "active"
    assert resource["intent"] == "order"
    assert resource["category"][0]["coding"][0]["code"] == "outpatient"
    assert resource["medicationReference"] == {
        "reference": f"Medication/{paracetamol.pk}",
        "display": "Paracetamol 500 mg",
    }
    assert resource["requester"]["reference"] == f"Practitioner/{fv.doctor.pk}"
    assert resource["authoredOn"] == utc(paracetamol.created_at)
    assert resource["dosageInstruction"][0]["text"] == "500 mg 3x sehari, oral, 3 hari"
    assert resource["dosageInstruction"][0]["patientInstruction"] == "Diminum sesudah makan bila demam"
    assert resource["dispenseRequest"] == {"quantity": {"value": 10}}


PRESCRIPTION_SYSTEM = "http://sys-ids.kemkes.go.id/prescription/alpha"
ITEM_SYSTEM = "http://sys-ids.kemkes.go.id/prescription-item/alpha"


def test_a_prescription_is_numbered_as_satusehat_numbers_them(alpha, finished_visit):
    fv = finished_visit
    requests = of_type(built_for(fv.visit, alpha, KFA), "MedicationRequest")
    for request, prescription in zip(requests, fv.prescriptions, strict=True):
        # The prescription (one per visit: the visit's id) and this line of it (the prescription's id).
        assert sorted(request.resource["identifier"], key=lambda i: i["system"]) == [
            {"system": ITEM_SYSTEM, "value": str(prescription.pk)},
            {"system": PRESCRIPTION_SYSTEM, "value": str(fv.visit.pk)},
        ]
        assert request.lookup == (ITEM_SYSTEM, str(prescription.pk))  # the line finds it again, alone
        assert checks.problems(request) == []
    without_item = _replace(requests[0], identifier=[{"system": PRESCRIPTION_SYSTEM, "value": str(fv.visit.pk)}])
    with translation.override("en"):
        assert checks.problems(without_item) == [
            "The prescription of Oralit 200 ml has no prescription number of the clinic's SATUSEHAT organization."
        ]


def test_every_resource_has_one_lookup_identifier_of_its_own(alpha, finished_visit):
    builts = built_for(finished_visit.visit, alpha, KFA)
    for built in builts:
        assert built.lookup is not None, built.resource_type
        assert {"system": built.lookup[0], "value": built.lookup[1]} in built.resource["identifier"]
        assert built.lookup[0].startswith("http://sys-ids.kemkes.go.id/")
    assert len({built.lookup for built in builts}) == len(builts)
    encounter, condition = builts[0], of_type(builts, "Condition")[0]
    assert encounter.lookup == ("http://sys-ids.kemkes.go.id/encounter/alpha", str(finished_visit.visit.pk))
    assert condition.lookup == ("http://sys-ids.kemkes.go.id/condition/alpha", condition.local_key)
    medication, oralit = of_type(builts, "Medication")[0], finished_visit.prescriptions[0]
    assert medication.lookup == ("http://sys-ids.kemkes.go.id/medication/alpha", str(oralit.pk))


def test_the_medication_is_satusehats_non_compound_medication(alpha, finished_visit):
    medication = of_type(built_for(finished_visit.visit, alpha, KFA), "Medication")[0]
    resource = medication.resource
    assert resource["meta"] == {"profile": ["https://fhir.kemkes.go.id/r4/StructureDefinition/Medication"]}
    assert resource["extension"] == [
        {
            "url": "https://fhir.kemkes.go.id/r4/StructureDefinition/MedicationType",
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": "http://terminology.kemkes.go.id/CodeSystem/medication-type",
                        "code": "NC",
                        "display": "Non-compound",
                    }
                ]
            },
        }
    ]
    assert resource["code"]["coding"][0]["system"] == "http://sys-ids.kemkes.go.id/kfa"
    assert_valid_r4(resource)
    assert checks.problems(medication) == []
    assert not medication.optional
    untyped = _replace(medication, extension=[])
    with translation.override("en"):
        assert checks.problems(untyped) == [
            "Oralit 200 ml has no medication type (non-compound or compound), which SATUSEHAT requires."
        ]


def test_an_unmapped_drug_waits_alone_with_its_request(alpha):
    fv = make_finished_visit(alpha, patient=NO_ALLERGIES)
    oralit, paracetamol = fv.prescriptions
    builts = built_for(fv.visit, alpha, {"oralit 200 ml": KFA["oralit 200 ml"]})
    optional = {(b.resource_type, b.local_key) for b in builts if b.optional}
    assert optional == {("Medication", f"{paracetamol.pk}:medication"), ("MedicationRequest", str(paracetamol.pk))}
    for built in builts:
        assert_valid_r4(built.resource)  # valid FHIR all the same: only SATUSEHAT wants the code
    (problem,) = checks.visit_problems_found(builts)
    assert (problem.code, problem.resource_type, problem.local_key) == (
        "no_kfa",
        "Medication",
        f"{paracetamol.pk}:medication",
    )
    # The request points at that Medication: held back with it, by the placeholder the sender gives.
    request = next(b for b in builts if b.resource_type == "MedicationRequest" and b.local_key == str(paracetamol.pk))
    assert request.resource["medicationReference"]["reference"] == f"Medication/{paracetamol.pk}"
    assert not any(b.optional for b in builts if b.local_key.startswith(str(oralit.pk)))


def test_the_kfa_code_is_found_whatever_the_drug_spelling(alpha):
    fv = make_finished_visit(
        alpha, prescriptions=[{"drug": "  PARACETAMOL   500 mg ", "dose": "500 mg", "frequency": "3x1"}]
    )
    assert fhir.drug_key("  PARACETAMOL   500 mg ") == "paracetamol 500 mg"
    medication = of_type(built_for(fv.visit, alpha, KFA), "Medication")[0]
    assert medication.resource["code"]["coding"][0]["code"] == "93000315"


def test_a_voided_prescription_is_retracted(alpha):
    prescriptions = [
        {"drug": "Amoksisilin 500 mg", "dose": "500 mg", "frequency": "3x sehari", "void_reason": "Alergi"}
    ]
    fv = make_finished_visit(alpha, prescriptions=prescriptions)
    medication, request = of_type(built_for(fv.visit, alpha), "Medication") + of_type(
        built_for(fv.visit, alpha), "MedicationRequest"
    )
    assert medication.retract
    assert request.retract
    assert request.resource["status"] == "entered-in-error"
    assert medication.resource["status"] == "entered-in-error"


# --- the patient and staff ------------------------------------------------------------------------------


def test_allergies_are_an_unconfirmed_allergy_intolerance(alpha, finished_visit):
    fv = finished_visit
    (allergy,) = of_type(built_for(fv.visit, alpha), "AllergyIntolerance")
    assert allergy.local_key == f"{fv.patient.pk}:allergy"
    resource = allergy.resource
    assert resource["code"] == {"text": "Amoksisilin (ruam kulit)"}
    assert resource["clinicalStatus"]["coding"][0]["code"] == "active"
    assert resource["verificationStatus"]["coding"][0]["code"] == "unconfirmed"
    assert resource["patient"]["reference"] == f"Patient/{fv.patient.pk}"
    assert resource["encounter"]["reference"] == f"Encounter/{fv.visit.pk}"
    assert resource["identifier"] == [
        {"system": "http://sys-ids.kemkes.go.id/allergy/alpha", "value": str(fv.patient.pk)}
    ]


def test_free_text_allergies_wait_alone_and_checks_say_why(alpha, finished_visit):
    (allergy,) = of_type(built_for(finished_visit.visit, alpha, KFA), "AllergyIntolerance")
    assert allergy.optional  # SATUSEHAT takes coded allergies only: the rest of the visit goes
    assert_valid_r4(allergy.resource)  # valid FHIR (the read API and the export keep it)
    (problem,) = checks.find_problems(allergy)
    assert (problem.code, problem.resource_type, problem.local_key) == (
        "allergy_uncoded",
        "AllergyIntolerance",
        f"{finished_visit.patient.pk}:allergy",
    )
    with translation.override("en"):
        assert str(problem.message) == ALLERGY_UNCODED
    # Coded with a category, as SATUSEHAT asks (KFA for a drug), it would be taken.
    coded = _replace(
        allergy,
        category=["medication"],
        code={
            "coding": [{"system": "http://sys-ids.kemkes.go.id/kfa", "code": "91000101", "display": "Amoxicillin"}],
            "text": "Amoksisilin (ruam kulit)",
        },
    )
    assert checks.problems(coded) == []
    assert [p.code for p in checks.find_problems(_replace(coded, category=[]))] == ["allergy_uncoded"]


def test_no_allergies_no_allergy_intolerance(alpha):
    fv = make_finished_visit(alpha, patient={"allergies": "  "})
    assert of_type(built_for(fv.visit, alpha), "AllergyIntolerance") == []


def test_the_patient_resource(alpha, finished_visit):
    resource = fhir.patient_resource(finished_visit.patient)
    assert_valid_r4(resource)
    assert resource["id"] == str(finished_visit.patient.pk)
    assert resource["identifier"] == [
        {"use": "official", "system": "https://fhir.kemkes.go.id/id/nik", "value": "3174015708900003"},
        {"use": "usual", "system": "urn:klinik:mrn", "value": finished_visit.patient.medical_record_number},
    ]
    assert resource["name"] == [{"use": "official", "text": "Siti Rahmawati"}]
    assert resource["gender"] == "female"
    assert resource["birthDate"] == "1990-08-17"
    assert resource["telecom"] == [{"system": "phone", "value": "081234567890", "use": "mobile"}]
    assert resource["address"] == [{"use": "home", "text": "Jl. Kebon Sirih No. 12, Menteng, Jakarta Pusat"}]
    assert resource["active"] is True


def test_a_patient_without_nik_has_only_the_medical_record_number(alpha):
    fv = make_finished_visit(
        alpha, patient={"full_name": "Budi Santoso", "nik": "", "sex": "M", "birth_date": "1975-01-09", "phone": ""}
    )
    resource = fhir.patient_resource(fv.patient)
    assert_valid_r4(resource)
    assert [identifier["system"] for identifier in resource["identifier"]] == ["urn:klinik:mrn"]
    assert resource["gender"] == "male"
    assert "telecom" not in resource
    for built in built_for(fv.visit, alpha, KFA):  # the visit maps all the same (the sender waits for a NIK)
        assert_valid_r4(built.resource)


def test_the_practitioner_resource_has_nik_and_sip_never_the_email(alpha, finished_visit):
    doctor = finished_visit.doctor
    resource = fhir.practitioner_resource(doctor)
    assert_valid_r4(resource)
    assert resource["identifier"] == [
        {"use": "official", "system": "https://fhir.kemkes.go.id/id/nik", "value": "3174011203800002"}
    ]
    assert resource["qualification"][0]["identifier"] == [{"value": "SIP 503/1234/DINKES/2024"}]
    assert resource["name"] == [{"use": "official", "text": doctor.full_name}]
    assert doctor.email not in json.dumps(resource)
    nurse = fhir.practitioner_resource(finished_visit.nurse)
    assert "identifier" not in nurse
    assert "qualification" not in nurse


def test_a_connected_clinic_uses_its_organization_and_location(alpha, finished_visit):
    with schema_context(alpha.clinic.schema_name):
        Connection.objects.create(
            environment="sandbox",
            organization_id="100026342",
            client_id="klinik-alpha",
            client_secret_encrypted="x",
            location_id="ef011065-38c9-46f8-9c35-d1fe68966a3e",
            location_name="Poli Umum",
            updated_by=finished_visit.doctor,
        )
    builts = built_for(finished_visit.visit, alpha, KFA)
    encounter = builts[0].resource
    assert encounter["serviceProvider"] == {"reference": "Organization/100026342"}
    assert encounter["location"] == [
        {"location": {"reference": "Location/ef011065-38c9-46f8-9c35-d1fe68966a3e", "display": "Poli Umum"}}
    ]
    assert encounter["identifier"][0]["system"] == "http://sys-ids.kemkes.go.id/encounter/100026342"
    assert of_type(builts, "Condition")[0].resource["identifier"][0]["system"] == (
        "http://sys-ids.kemkes.go.id/condition/100026342"
    )


# --- validation and checks ----------------------------------------------------------------------------


def test_every_resource_is_valid_fhir_r4_and_a_good_visit_has_no_problems(alpha, finished_visit):
    builts = built_for(finished_visit.visit, alpha, KFA)
    for built in builts:
        assert_valid_r4(built.resource)
        if built.resource_type != "AllergyIntolerance":  # free text: see the allergy tests
            assert checks.problems(built) == [], built.resource_type
    with translation.override("en"):
        assert checks.visit_problems(builts) == [ALLERGY_UNCODED]
    fv = make_finished_visit(alpha, patient=NO_ALLERGIES)
    assert checks.visit_problems(built_for(fv.visit, alpha, KFA)) == []


def _replace(built: fhir.Built, **changes) -> fhir.Built:
    return dataclasses.replace(built, resource={**built.resource, **changes})


def test_checks_catch_a_bad_icd10_code(alpha, finished_visit):
    condition = of_type(built_for(finished_visit.visit, alpha, KFA), "Condition")[0]
    bad = _replace(condition, code={"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "J6"}]})
    with translation.override("en"):
        assert checks.problems(bad) == [
            "J6 is not an ICD-10 code (a letter and two digits, then a dot and more, as in J06.9)."
        ]
    two = _replace(
        condition,
        code={"coding": [condition.resource["code"]["coding"][0], {"system": "http://snomed.info/sct", "code": "1"}]},
    )
    with translation.override("en"):
        assert checks.problems(two) == ["A diagnosis needs exactly one ICD-10 code."]


def test_checks_catch_an_unmapped_drug_in_both_languages(alpha, finished_visit):
    fv = make_finished_visit(alpha, patient=NO_ALLERGIES)
    builts = built_for(fv.visit, alpha, {"oralit 200 ml": KFA["oralit 200 ml"]})
    with translation.override("en"):
        assert checks.visit_problems(builts) == [
            "Paracetamol 500 mg: no KFA code yet. Map this drug on the KFA drug codes page."
        ]
    with translation.override("id"):
        assert checks.visit_problems(builts) == [
            "Paracetamol 500 mg: belum ada kode KFA. Petakan obat ini di halaman Kode obat KFA."
        ]
    assert [p.code for p in checks.visit_problems_found(builts)] == ["no_kfa"]


def test_checks_catch_times_satusehat_does_not_take(alpha, finished_visit):
    observation = of_type(built_for(finished_visit.visit, alpha, KFA), "Observation")[0]
    future = utc(timezone.now() + datetime.timedelta(days=3))
    with translation.override("en"):
        assert checks.problems(_replace(observation, effectiveDateTime=future)) == [
            f"Body temperature: the time {future} is more than a day from now."
        ]
        assert checks.problems(_replace(observation, effectiveDateTime="2013-12-31T23:00:00+00:00")) == [
            "Body temperature: the time 2013-12-31T23:00:00+00:00 is before 2014; SATUSEHAT does not take it."
        ]
    soon = utc(timezone.now() + datetime.timedelta(hours=20))  # a device's clock a little ahead is fine
    assert checks.problems(_replace(observation, effectiveDateTime=soon)) == []


def test_checks_catch_a_patient_satusehat_does_not_know_and_a_broken_resource(alpha, finished_visit):
    encounter = built_for(finished_visit.visit, alpha, KFA)[0]
    unknown = _replace(encounter, subject={"reference": f"urn:local:Patient:{finished_visit.patient.pk}"})
    codes = [p.code for p in checks.find_problems(unknown)]
    assert codes == ["patient_unknown"]
    broken = _replace(encounter, status=["finished"], **{"class": {"code": "IMP"}})
    with translation.override("en"):
        found = checks.problems(broken)
    assert any("status" in message and "not valid FHIR" in message for message in found)
    assert "The visit is not marked as an outpatient visit (AMB)." in found
    stripped = fhir.Built(
        "Encounter", "x", {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"}}
    )
    with translation.override("en"):
        assert set(checks.problems(stripped)) >= {
            "The visit has no patient.",
            "The visit has no identifier of the clinic's SATUSEHAT organization.",
            "The visit has no start time.",
            "The visit has no status history (arrived, in progress, finished).",
        }


def test_checks_on_observation_medication_request_and_patient(alpha, finished_visit):
    builts = built_for(finished_visit.visit, alpha, KFA)
    observation = of_type(builts, "Observation")[1]
    no_unit = _replace(observation, valueQuantity={"value": 92})
    request = of_type(builts, "MedicationRequest")[0]
    no_medication = _replace(request, medicationReference={"reference": "Substance/1", "display": "Oralit 200 ml"})
    patient = fhir.Built("Patient", "p", {**fhir.patient_resource(finished_visit.patient), "birthDate": "1899-12-31"})
    with translation.override("en"):
        assert checks.problems(no_unit) == ["Heart rate has no value with a UCUM unit."]
        assert checks.problems(no_medication) == ["The prescription of Oralit 200 ml names no medication."]
        assert checks.problems(patient) == ["The patient's birth date 1899-12-31 is before 1900."]


def test_visit_problems_skip_retractions_and_say_each_problem_once(alpha):
    fv = make_finished_visit(
        alpha,
        patient=NO_ALLERGIES,
        prescriptions=[
            {"drug": "Paracetamol 500 mg", "dose": "500 mg", "frequency": "3x sehari"},
            {"drug": "Paracetamol 500 mg", "dose": "500 mg", "frequency": "bila demam"},
            {"drug": "Amoksisilin 500 mg", "dose": "500 mg", "frequency": "3x sehari", "void_reason": "Alergi"},
        ],
    )
    builts = built_for(fv.visit, alpha)
    with translation.override("en"):
        assert checks.visit_problems(builts) == [
            "Paracetamol 500 mg: no KFA code yet. Map this drug on the KFA drug codes page."
        ]
    # Found once per drug that waits (each holds back its own Medication), none for the voided one.
    found = checks.visit_problems_found(builts)
    assert [(p.code, p.local_key) for p in found] == [
        ("no_kfa", f"{fv.prescriptions[0].pk}:medication"),
        ("no_kfa", f"{fv.prescriptions[1].pk}:medication"),
    ]


def test_a_problem_is_read_in_the_language_of_whoever_reads_it(alpha):
    fv = make_finished_visit(alpha, patient=NO_ALLERGIES, diagnoses=[{"code": "A09"}])
    builts = built_for(fv.visit, alpha, {"oralit 200 ml": KFA["oralit 200 ml"]})
    condition = of_type(builts, "Condition")[0]
    broken = _replace(condition, code={"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "J6"}]})
    with translation.override("en"):  # found while the worker speaks English...
        (no_kfa,) = checks.visit_problems_found(builts)
        (bad_code,) = checks.find_problems(broken)
        structure = checks.find_problems(_replace(condition, subject="Patient/1"))[0]
    # ...and kept in every language, each read as its reader reads it.
    assert reasons.in_every_language(no_kfa.message) == {
        "id": "Paracetamol 500 mg: belum ada kode KFA. Petakan obat ini di halaman Kode obat KFA.",
        "en": "Paracetamol 500 mg: no KFA code yet. Map this drug on the KFA drug codes page.",
    }
    with translation.override("id"):
        assert str(bad_code.message) == (
            "J6 bukan kode ICD-10 (satu huruf dan dua angka, lalu titik dan angka berikutnya, seperti J06.9)."
        )
        assert str(structure.message).startswith("Sebuah diagnosis: kolom subject ")  # the record's name too
    with translation.override("en"):
        assert str(structure.message).startswith("A diagnosis: the field subject ")
        assert checks.problems(broken) == [
            "J6 is not an ICD-10 code (a letter and two digits, then a dot and more, as in J06.9)."
        ]


def test_the_patient_is_read_in_the_visits_clinic_only(alpha, beta):
    """The factories write in the clinic asked for: beta's schema has none of alpha's records."""
    fv = make_finished_visit(alpha)
    with schema_context(beta.clinic.schema_name):
        assert not Patient.objects.filter(pk=fv.patient.pk).exists()
