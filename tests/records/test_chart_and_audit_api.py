"""A patient's chart (by role, logged, constant query count) and the owner's audit trail."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from records.models import ChartAccess
from tenants.accounts.models import Role
from tests.records.conftest import make_part, make_patient, make_visit

pytestmark = pytest.mark.django_db


def _full_patient(alpha, visits: int = 2):
    patient = make_patient(alpha)
    for _ in range(visits):
        visit = make_visit(alpha, patient, subjective="Pusing", plan="Istirahat")
        for entity in ("vitals", "diagnosis", "prescription"):
            make_part(alpha, entity, visit)
    return patient


def test_doctor_reads_the_whole_chart_and_the_opening_is_logged(api, alpha):
    patient = _full_patient(alpha)
    response = api(Role.DOCTOR, device_id="pc-000001").get(f"/api/patients/{patient.pk}/chart/")
    assert response.status_code == 200
    chart = response.json()
    assert chart["patient"]["id"] == str(patient.pk)
    assert len(chart["visits"]) == 2
    visit = chart["visits"][0]
    assert visit["subjective"] == "Pusing"
    assert len(visit["vital_signs"]) == len(visit["diagnoses"]) == len(visit["prescriptions"]) == 1
    with schema_context(alpha.clinic.schema_name):
        access = ChartAccess.objects.get(patient=patient)
    assert access.device_id == "pc-000001"


def test_front_desk_chart_has_no_clinical_content(api, alpha):
    patient = _full_patient(alpha)
    chart = api(Role.FRONT_DESK).get(f"/api/patients/{patient.pk}/chart/")
    assert chart.status_code == 200
    text = chart.content.decode()
    for clinical in ("Pusing", "Istirahat", "J06.9", "Paracetamol", "vital_signs", "systolic"):
        assert clinical not in text


def test_chart_query_count_does_not_grow_with_visits(api, alpha):
    small, large = _full_patient(alpha, visits=1), _full_patient(alpha, visits=4)
    doctor = api(Role.DOCTOR)
    doctor.get("/api/patients/")  # warm the session

    def count(patient) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert doctor.get(f"/api/patients/{patient.pk}/chart/").status_code == 200
        return len(queries)

    assert count(small) == count(large) == 11


def test_owner_reads_the_audit_trail_with_who_device_and_before_after(api, alpha):
    patient = make_patient(alpha)
    api(Role.FRONT_DESK, device_id="desk-0001").patch(f"/api/patients/{patient.pk}/", {"phone": "0812-1"})
    api(Role.DOCTOR).get(f"/api/patients/{patient.pk}/chart/")
    owner = api(Role.OWNER)
    changes = owner.get("/api/audit/").json()["results"]
    latest = changes[0]
    assert latest["action"] == "update"
    assert latest["user"] == alpha.email(Role.FRONT_DESK)
    assert latest["device_id"] == "desk-0001"
    assert latest["before"]["phone"] == ""
    assert latest["after"]["phone"] == "0812-1"
    opened = owner.get("/api/audit/", kind="chart_access").json()["results"]
    assert opened[0]["user"] == alpha.email(Role.DOCTOR)


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.FRONT_DESK])
def test_only_owners_read_the_audit_trail(api, role):
    response = api(role).get("/api/audit/")
    assert response.status_code == 403
    assert response.json()["detail"] == "Only the clinic's owner reads the audit trail."
