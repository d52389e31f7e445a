"""A record of another clinic is a 404 by every route, and nothing of it can be written."""

import pytest
from django_tenants.utils import schema_context

from records.models import Patient, Visit
from records.urls import PLURALS as PLURAL
from tenants.accounts.models import Role
from tests.records.conftest import make_part, make_patient, make_visit

pytestmark = pytest.mark.django_db


def test_records_of_clinic_b_are_404_at_clinic_a(api, beta):
    patient = make_patient(beta, full_name="Rahasia Beta")
    visit = make_visit(beta, patient, subjective="rahasia")
    records = {"patient": patient, "visit": visit}
    for entity in ("vitals", "diagnosis", "prescription"):
        records[entity] = make_part(beta, entity, visit)
    owner_a = api(Role.OWNER)
    for entity, record in records.items():
        url = f"/api/{PLURAL[entity]}/{record.pk}/"
        assert owner_a.get(url).status_code == 404, entity
        assert owner_a.patch(url, {"version": 1}).status_code == 404, entity
        assert owner_a.post(f"{url}void/", {"reason": "x"}).status_code == 404, entity
        assert owner_a.get(f"{url}revisions/").status_code == 404, entity
    assert owner_a.get(f"/api/patients/{patient.pk}/chart/").status_code == 404
    assert owner_a.get("/api/patients/", q="Rahasia").json()["count"] == 0
    assert "Rahasia" not in owner_a.get("/api/audit/").content.decode()
    # creating at A under B's patient or visit finds nothing to attach to
    refused = owner_a.post("/api/visits/", {"patient": str(patient.pk), "started_at": "2026-01-01T10:00:00Z"})
    assert refused.status_code == 400
    refused = owner_a.post("/api/diagnoses/", {"visit": str(visit.pk), "code": "I10"})
    assert refused.status_code == 400
    with schema_context(beta.clinic.schema_name):
        assert Visit.objects.get(pk=visit.pk).version == 1
        assert not Patient.objects.filter(voided_at__isnull=False).exists()


def test_a_uuid_from_clinic_b_cannot_be_reused_to_overwrite_at_b(api, alpha, beta):
    patient_b = make_patient(beta)
    created_at_a = api(Role.FRONT_DESK).post(
        "/api/patients/", {"id": str(patient_b.pk), "full_name": "Sama", "birth_date": "1990-01-01", "sex": "M"}
    )
    assert created_at_a.status_code == 201  # a separate record in A's own schema
    with schema_context(beta.clinic.schema_name):
        assert Patient.objects.get(pk=patient_b.pk).full_name == "Siti Aminah"
