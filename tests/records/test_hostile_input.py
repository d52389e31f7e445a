"""Whatever a client sends, the answer is a clear 4xx, never a 500, and nothing is saved half-way."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from records.models import Patient, Revision
from tenants.accounts.models import Role
from tests.records.conftest import make_part, make_patient, make_visit

pytestmark = pytest.mark.django_db

HOSTILE_VALUES = [
    ["a", "b"],
    {"nested": 1},
    True,
    1e308,
    "1e400",
    "NaN",
    "\x00",
    "2024-01-01T10:00:00",  # no time zone
    "2024-01-01",
    20200101,
    -1,
    "x" * 5000,
]


def _patient_body(**overrides):
    return {"full_name": "Uji", "birth_date": "1990-01-01", "sex": "M", **overrides}


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
@pytest.mark.parametrize("field", ["full_name", "birth_date", "nik", "sex", "allergies"])
def test_patient_fields(api, alpha, field, value):
    response = api(Role.FRONT_DESK).post("/api/patients/", _patient_body(**{field: value}))
    assert response.status_code in (201, 400), response.content[:300]
    if response.status_code == 400:
        assert field in response.json()["errors"]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
@pytest.mark.parametrize(
    "field", ["measured_at", "temperature_c", "pulse", "systolic", "height_cm", "weight_kg", "visit"]
)
def test_vital_sign_fields(api, alpha, field, value):
    visit = make_visit(alpha, make_patient(alpha))
    body = {"visit": str(visit.pk), "measured_at": timezone.now().isoformat(), field: value}
    response = api(Role.NURSE).post("/api/vitals/", body)
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["errors"]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
@pytest.mark.parametrize("field", ["started_at", "practitioner", "status", "plan", "patient"])
def test_visit_fields_on_change(api, alpha, field, value):
    visit = make_visit(alpha, make_patient(alpha))
    response = api(Role.DOCTOR).patch(f"/api/visits/{visit.pk}/", {field: value})
    assert response.status_code in (200, 400), response.content[:300]
    if field in ("started_at", "practitioner", "patient"):
        assert response.status_code == 400


@pytest.mark.parametrize("reason", ["x" * 301, "\x00", ["a"], 5])
def test_reasons(api, alpha, reason):
    prescription = make_part(alpha, "prescription", make_visit(alpha, make_patient(alpha)))
    response = api(Role.DOCTOR).post(f"/api/prescriptions/{prescription.pk}/void/", {"reason": reason})
    assert response.status_code in (200, 400), response.content[:300]
    if isinstance(reason, str):
        assert response.status_code == 400


def test_naive_times_are_refused_with_a_message(api, alpha):
    visit = make_visit(alpha, make_patient(alpha))
    response = api(Role.DOCTOR).patch(f"/api/visits/{visit.pk}/", {"started_at": "2026-01-01T10:00:00"})
    assert "time zone" in response.json()["errors"]["started_at"][0]


def test_search_with_a_nul_is_400(api):
    assert api(Role.FRONT_DESK).get("/api/patients/", q="a\x00b").status_code == 400


def test_form_encoded_bodies_are_refused(api):
    response = api(Role.FRONT_DESK).client.post(
        "/api/patients/", {"full_name": "Ani", "birth_date": "1990-01-01", "sex": "F"}
    )
    assert response.status_code == 415
    with schema_context("alpha"):
        assert not Patient.objects.filter(full_name="Ani").exists()


def test_a_retried_create_with_the_same_id_is_a_conflict_not_a_copy(api, alpha):
    body = {"id": "6f1c0000-0000-4000-8000-000000000001", **_patient_body()}
    client = api(Role.FRONT_DESK)
    assert client.post("/api/patients/", body).status_code == 201
    again = client.post("/api/patients/", body)
    assert again.status_code == 409
    with schema_context(alpha.clinic.schema_name):
        assert Revision.objects.filter(record_id=body["id"]).count() == 1
