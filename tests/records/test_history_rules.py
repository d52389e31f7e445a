"""History is exact: one revision per real change, amendments marked, and front desk sees no reasons."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from records.models import Revision
from tenants.accounts.models import Role
from tests.records.conftest import make_part, make_patient, make_visit

pytestmark = pytest.mark.django_db


def test_equivalent_values_make_no_new_version(api, alpha):
    visit = make_visit(alpha, make_patient(alpha), started_at="2026-03-02T02:30:00+00:00")
    vitals = make_part(alpha, "vitals", visit, temperature_c="37.0")
    diagnosis = make_part(alpha, "diagnosis", visit, code="J06.9")
    doctor = api(Role.DOCTOR)
    same_instant = doctor.patch(f"/api/visits/{visit.pk}/", {"started_at": "2026-03-02T09:30:00+07:00"})
    assert same_instant.json()["version"] == 1
    assert doctor.patch(f"/api/vitals/{vitals.pk}/", {"temperature_c": 37}).json()["version"] == 1
    assert doctor.patch(f"/api/diagnoses/{diagnosis.pk}/", {"code": "j069"}).json()["version"] == 1
    with schema_context(alpha.clinic.schema_name):
        assert Revision.objects.filter(record_id__in=[visit.pk, vitals.pk, diagnosis.pk]).count() == 3


def test_adding_to_a_finished_visit_is_recorded_as_an_amendment(api, alpha):
    visit = make_visit(alpha, make_patient(alpha), status="finished")
    created = api(Role.DOCTOR).post("/api/diagnoses/", {"visit": str(visit.pk), "code": "I10", "reason": "Hasil lab"})
    with schema_context(alpha.clinic.schema_name):
        revision = Revision.objects.get(record_id=created.json()["id"])
    assert (revision.action, revision.reason) == ("amend", "Hasil lab")


def test_only_doctors_amend_a_finished_visit_but_nurses_amend_their_vitals(api, alpha):
    visit = make_visit(alpha, make_patient(alpha), status="finished")
    for role in (Role.FRONT_DESK, Role.NURSE):
        refused = api(role).patch(f"/api/visits/{visit.pk}/", {"chief_complaint": "x", "reason": "typo"})
        assert refused.status_code == 403
    nurse = api(Role.NURSE)
    added = nurse.post(
        "/api/vitals/",
        {"visit": str(visit.pk), "measured_at": timezone.now().isoformat(), "pulse": 90, "reason": "Tertinggal"},
    )
    assert added.status_code == 201
    fixed = nurse.patch(f"/api/vitals/{added.json()['id']}/", {"pulse": 88, "reason": "Salah ketik"})
    assert fixed.status_code == 200


def test_parts_of_a_voided_visit_cannot_be_changed(api, alpha):
    visit = make_visit(alpha, make_patient(alpha))
    prescription = make_part(alpha, "prescription", visit)
    doctor = api(Role.DOCTOR)
    doctor.post(f"/api/visits/{visit.pk}/void/", {"reason": "Pasien salah"})
    response = doctor.patch(f"/api/prescriptions/{prescription.pk}/", {"dose": "1 g"})
    assert response.status_code == 400


def test_front_desk_sees_no_clinical_reasons(api, alpha):
    visit = make_visit(alpha, make_patient(alpha), status="finished", plan="Rujuk")
    doctor = api(Role.DOCTOR)
    doctor.patch(f"/api/visits/{visit.pk}/", {"plan": "Rujuk ke RS", "reason": "Suspek TB paru"})
    doctor.post(f"/api/visits/{visit.pk}/void/", {"reason": "Hasil HIV tertukar"})
    front_desk = api(Role.FRONT_DESK)
    history = front_desk.get(f"/api/visits/{visit.pk}/revisions/")
    text = history.content.decode()
    for secret in ("Suspek TB", "HIV", "Rujuk"):
        assert secret not in text
    assert [row["action"] for row in history.json()] == ["create", "void"]  # the SOAP-only amendment is hidden
    detail = front_desk.get(f"/api/visits/{visit.pk}/").json()
    assert "void_reason" not in detail
    assert detail["voided_at"]


def test_front_desk_voids_a_patient_without_visits_only(api, alpha):
    lonely = make_patient(alpha, full_name="Tanpa Kunjungan")
    front_desk = api(Role.FRONT_DESK)
    assert front_desk.post(f"/api/patients/{lonely.pk}/void/", {"reason": "Dobel"}).status_code == 200
    with_visit = make_patient(alpha, full_name="Ada Kunjungan")
    make_visit(alpha, with_visit)
    assert front_desk.post(f"/api/patients/{with_visit.pk}/void/", {"reason": "Dobel"}).status_code == 403
