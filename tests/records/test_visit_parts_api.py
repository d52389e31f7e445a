"""Vital signs (ranges, BMI), ICD-10 diagnoses (checked, searched) and prescriptions on a visit."""

import pytest
from django.utils import timezone

from tenants.accounts.models import Role
from tests.records.conftest import make_part, make_patient, make_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(alpha):
    return make_visit(alpha, make_patient(alpha))


def test_nurse_records_vital_signs_and_bmi_is_derived(api, visit):
    response = api(Role.NURSE).post(
        "/api/vitals/",
        {
            "visit": str(visit.pk),
            "measured_at": timezone.now().isoformat(),
            "temperature_c": "37.2",
            "pulse": 84,
            "respiratory_rate": 18,
            "systolic": 120,
            "diastolic": 80,
            "spo2": 98,
            "height_cm": "160",
            "weight_kg": "64",
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["bmi"] == "25.0"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("temperature_c", "47", "Must be between 30.0 and 45.0 °C."),
        ("pulse", 5, "Must be between 20 and 250 /min."),
        ("spo2", 101, "Must be between 50 and 100 %."),
        ("systolic", 400, "Must be between 50 and 300 mmHg."),
        ("weight_kg", "0.1", "Must be between 0.5 and 350.0 kg."),
        ("pulse", "fast", "must be an integer"),
    ],
)
def test_vital_signs_out_of_range_get_a_clear_message(api, visit, field, value, message):
    response = api(Role.NURSE).post(
        "/api/vitals/", {"visit": str(visit.pk), "measured_at": timezone.now().isoformat(), field: value}
    )
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"][field])


def test_diagnosis_is_checked_against_icd10_and_gets_its_title(api, visit):
    doctor = api(Role.DOCTOR)
    created = doctor.post("/api/diagnoses/", {"visit": str(visit.pk), "code": "j069", "kind": "primary"})
    assert created.status_code == 201
    assert created.json()["code"] == "J06.9"
    assert created.json()["title"] == "Acute upper respiratory infection, unspecified"
    for bad in ("J06.99", "XYZ", "A00-A09", ""):
        refused = doctor.post("/api/diagnoses/", {"visit": str(visit.pk), "code": bad})
        assert refused.status_code == 400, bad
        assert refused.json()["errors"]["code"]


def test_icd10_search_by_code_and_words(api):
    client = api(Role.DOCTOR)
    by_code = client.get("/api/icd10/", q="I10").json()
    assert by_code[0] == {
        "code": "I10",
        "title": "Essential (primary) hypertension",
        "title_id": "Hipertensi esensial (primer)",
    }
    by_words = client.get("/api/icd10/", q="typhoid fever").json()
    assert "A01.0" in [entry["code"] for entry in by_words]
    assert client.get("/api/icd10/", q="").json() == []


def test_prescription_is_written_and_voided_by_a_doctor(api, visit):
    doctor = api(Role.DOCTOR)
    created = doctor.post(
        "/api/prescriptions/",
        {
            "visit": str(visit.pk),
            "drug": "Amoxicillin 500 mg",
            "dose": "500 mg",
            "route": "oral",
            "frequency": "3x sehari",
            "duration": "5 hari",
            "quantity": 15,
            "instructions": "Habiskan",
        },
    )
    assert created.status_code == 201, created.json()
    voided = doctor.post(f"/api/prescriptions/{created.json()['id']}/void/", {"reason": "Salah pasien"})
    assert voided.json()["voided_at"]


def test_adding_to_a_finished_visit_is_an_amendment(api, alpha):
    finished = make_visit(alpha, make_patient(alpha), status="finished")
    doctor = api(Role.DOCTOR)
    refused = doctor.post("/api/diagnoses/", {"visit": str(finished.pk), "code": "I10"})
    assert refused.status_code == 400
    assert "reason" in refused.json()["errors"]
    added = doctor.post("/api/diagnoses/", {"visit": str(finished.pk), "code": "I10", "reason": "Lab result came"})
    assert added.status_code == 201
    diagnosis = make_part(alpha, "diagnosis", make_visit(alpha, make_patient(alpha, full_name="Lagi")))
    assert doctor.patch(f"/api/diagnoses/{diagnosis.pk}/", {"kind": "secondary"}).status_code == 200


def test_diastolic_must_be_below_systolic(api, visit):
    response = api(Role.NURSE).post(
        "/api/vitals/",
        {"visit": str(visit.pk), "measured_at": timezone.now().isoformat(), "systolic": 80, "diastolic": 90},
    )
    assert response.status_code == 400
    assert response.json()["errors"]["diastolic"] == ["The diastolic pressure must be lower than the systolic."]
