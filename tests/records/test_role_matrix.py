"""The whole role matrix, enforced by the server for every kind of record and every operation."""

import pytest
from django.utils import timezone

from records.urls import PLURALS as PLURAL
from tenants.accounts.models import Role
from tests.records.conftest import make_part, make_patient, make_visit

pytestmark = pytest.mark.django_db

OWNER, DOCTOR, NURSE, DESK = Role.OWNER, Role.DOCTOR, Role.NURSE, Role.FRONT_DESK

# entity -> (roles that read, roles that create, roles that change, roles that void)
MATRIX = {
    # a patient with visits is voided by clinicians only
    "patient": (
        {OWNER, DOCTOR, NURSE, DESK},
        {OWNER, DOCTOR, NURSE, DESK},
        {OWNER, DOCTOR, NURSE, DESK},
        {OWNER, DOCTOR},
    ),
    "visit": ({OWNER, DOCTOR, NURSE, DESK},) * 4,
    # the vital signs here were recorded by a doctor: nurses change and void only their own
    "vitals": ({OWNER, DOCTOR, NURSE}, {OWNER, DOCTOR, NURSE}, {OWNER, DOCTOR}, {OWNER, DOCTOR}),
    "diagnosis": ({OWNER, DOCTOR, NURSE}, {OWNER, DOCTOR}, {OWNER, DOCTOR}, {OWNER, DOCTOR}),
    "prescription": ({OWNER, DOCTOR, NURSE}, {OWNER, DOCTOR}, {OWNER, DOCTOR}, {OWNER, DOCTOR}),
}
CREATE = {
    "patient": lambda visit: {"full_name": "Baru", "birth_date": "1999-09-09", "sex": "M"},
    "visit": lambda visit: {"patient": str(visit.patient_id), "started_at": timezone.now().isoformat()},
    "vitals": lambda visit: {"visit": str(visit.pk), "measured_at": timezone.now().isoformat(), "pulse": 70},
    "diagnosis": lambda visit: {"visit": str(visit.pk), "code": "I10"},
    "prescription": lambda visit: {"visit": str(visit.pk), "drug": "Amlodipine", "dose": "5 mg", "frequency": "1x"},
}
CHANGE = {
    "patient": {"phone": "1"},
    "visit": {"chief_complaint": "x"},
    "vitals": {"pulse": 72},
    "diagnosis": {"kind": "secondary"},
    "prescription": {"dose": "10 mg"},
}


def _record(alpha, entity: str):
    patient = make_patient(alpha)
    visit = make_visit(alpha, patient)
    if entity == "patient":
        return patient, visit
    if entity == "visit":
        return visit, visit
    return make_part(alpha, entity, visit), visit


@pytest.mark.parametrize("role", [OWNER, DOCTOR, NURSE, DESK])
@pytest.mark.parametrize("entity", list(MATRIX))
def test_role_matrix(api, alpha, role, entity):
    readers, creators, changers, voiders = MATRIX[entity]
    record, visit = _record(alpha, entity)
    client = api(role)
    base = f"/api/{PLURAL[entity]}/"
    url = f"{base}{record.pk}/"

    assert client.get(url).status_code == (200 if role in readers else 403)
    create_path = "/api/patients/" if entity == "patient" else base
    assert client.post(create_path, CREATE[entity](visit)).status_code == (201 if role in creators else 403)
    assert client.patch(url, CHANGE[entity]).status_code == (200 if role in changers else 403)
    assert client.post(f"{url}void/", {"reason": "test"}).status_code == (200 if role in voiders else 403)
