"""Visits and the SOAP note: front desk sees and writes no clinical text; finished visits are amended."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from records.models import Revision
from tenants.accounts.models import Role
from tests.conftest import user_in
from tests.records.conftest import make_patient, make_visit

pytestmark = pytest.mark.django_db


def _soap():
    return {"subjective": "Demam 3 hari", "objective": "T 38.5", "assessment": "ISPA", "plan": "Paracetamol"}


def test_front_desk_opens_a_visit_without_clinical_text(api, alpha):
    patient = make_patient(alpha)
    doctor = user_in(alpha, alpha.email(Role.DOCTOR))
    response = api(Role.FRONT_DESK).post(
        "/api/visits/",
        {
            "patient": str(patient.pk),
            "started_at": timezone.now().isoformat(),
            "practitioner": doctor.pk,
            "chief_complaint": "Batuk pilek",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "arrived"
    assert body["practitioner_name"] == doctor.full_name
    assert "subjective" not in body
    assert "plan" not in body


def test_times_are_given_in_the_clinics_zone(api, alpha):
    """Asia/Jakarta (UTC+7, no summer time): the same instant whatever zone it was sent in."""
    patient = make_patient(alpha)
    response = api(Role.DOCTOR).post("/api/visits/", {"patient": str(patient.pk), "started_at": "2026-03-02T02:30:00Z"})
    assert response.status_code == 201, response.json()
    assert response.json()["started_at"] == "2026-03-02T09:30:00+07:00"


def test_front_desk_cannot_write_or_read_the_soap_note(api, alpha):
    visit = make_visit(alpha, make_patient(alpha), **_soap())
    front_desk = api(Role.FRONT_DESK)
    refused = front_desk.patch(f"/api/visits/{visit.pk}/", {"plan": "x"})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only doctors write the SOAP note."
    seen = front_desk.get(f"/api/visits/{visit.pk}/").json()
    assert not set(seen) & {"subjective", "objective", "assessment", "plan"}
    history = front_desk.get(f"/api/visits/{visit.pk}/revisions/")
    assert history.status_code == 200
    assert "Demam" not in history.content.decode()
    assert history.json()[0]["after"]["status"] == "arrived"


def test_doctor_writes_the_note_and_finishes_the_visit(api, alpha):
    visit = make_visit(alpha, make_patient(alpha))
    doctor = api(Role.DOCTOR)
    written = doctor.patch(f"/api/visits/{visit.pk}/", {**_soap(), "status": "in_progress"})
    assert written.status_code == 200
    assert written.json()["plan"] == "Paracetamol"
    finished = doctor.patch(f"/api/visits/{visit.pk}/", {"status": "finished"})
    assert finished.json()["status"] == "finished"
    assert finished.json()["version"] == 3


def test_only_doctors_finish_a_visit(api, alpha):
    visit = make_visit(alpha, make_patient(alpha))
    for role in (Role.NURSE, Role.FRONT_DESK):
        response = api(role).patch(f"/api/visits/{visit.pk}/", {"status": "finished"})
        assert response.status_code == 403


def test_a_finished_visit_is_amended_with_a_reason_and_the_original_stays_readable(api, alpha):
    visit = make_visit(alpha, make_patient(alpha), **_soap(), status="finished")
    doctor = api(Role.DOCTOR)
    no_reason = doctor.patch(f"/api/visits/{visit.pk}/", {"plan": "Amoxicillin"})
    assert no_reason.status_code == 400
    assert "needs a reason" in no_reason.json()["errors"]["reason"][0]
    amended = doctor.patch(f"/api/visits/{visit.pk}/", {"plan": "Amoxicillin", "reason": "Wrong drug written"})
    assert amended.status_code == 200
    history = doctor.get(f"/api/visits/{visit.pk}/revisions/").json()
    assert [entry["action"] for entry in history] == ["create", "amend"]
    assert history[1]["before"]["plan"] == "Paracetamol"
    assert history[1]["after"]["plan"] == "Amoxicillin"
    assert history[1]["reason"] == "Wrong drug written"


def test_a_finished_visit_stays_finished(api, alpha):
    visit = make_visit(alpha, make_patient(alpha), status="finished")
    response = api(Role.DOCTOR).patch(f"/api/visits/{visit.pk}/", {"status": "arrived", "reason": "x"})
    assert response.status_code == 400
    assert "stays finished" in response.json()["errors"]["status"][0]


def test_visit_for_an_unknown_or_voided_patient_is_refused(api, alpha):
    doctor = api(Role.DOCTOR)
    unknown = doctor.post(
        "/api/visits/", {"patient": "0b7e0000-0000-4000-8000-000000000000", "started_at": timezone.now().isoformat()}
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"]["patient"] == ["No such record in this clinic."]
    patient = make_patient(alpha)
    doctor.post(f"/api/patients/{patient.pk}/void/", {"reason": "duplicate"})
    voided = doctor.post("/api/visits/", {"patient": str(patient.pk), "started_at": timezone.now().isoformat()})
    assert voided.json()["errors"]["patient"] == ["This record is voided."]


def test_a_visit_does_not_move_to_another_patient(api, alpha):
    visit = make_visit(alpha, make_patient(alpha))
    other = make_patient(alpha, full_name="Lain")
    response = api(Role.DOCTOR).patch(f"/api/visits/{visit.pk}/", {"patient": str(other.pk)})
    assert response.status_code == 400


def test_practitioner_must_be_clinical_staff(api, alpha):
    front_desk_user = user_in(alpha, alpha.email(Role.FRONT_DESK))
    response = api(Role.DOCTOR).post(
        "/api/visits/",
        {
            "patient": str(make_patient(alpha).pk),
            "started_at": timezone.now().isoformat(),
            "practitioner": front_desk_user.pk,
        },
    )
    assert response.status_code == 400
    assert "practitioner" in response.json()["errors"]


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.NURSE])
def test_only_doctors_void_a_visit_once_it_has_started(api, alpha, role):
    """Decided by the status every role sees, never by notes front desk may not read."""
    for status in ("in_progress", "finished"):
        visit = make_visit(alpha, make_patient(alpha), status=status, **_soap())
        refused = api(role).post(f"/api/visits/{visit.pk}/void/", {"reason": "x"})
        assert refused.status_code == 403
        assert refused.json()["detail"] == "Only doctors void a visit once it has started."
    empty = make_visit(alpha, make_patient(alpha, full_name="Kosong"))
    assert api(Role.FRONT_DESK).post(f"/api/visits/{empty.pk}/void/", {"reason": "Wrong patient"}).status_code == 200
    with schema_context(alpha.clinic.schema_name):
        assert Revision.objects.filter(record_id=empty.pk, action="void").exists()


def test_unchanged_values_make_no_new_version(api, alpha):
    visit = make_visit(alpha, make_patient(alpha), chief_complaint="Batuk")
    response = api(Role.DOCTOR).patch(f"/api/visits/{visit.pk}/", {"chief_complaint": "Batuk"})
    assert response.json()["version"] == 1


def test_a_visit_days_ahead_is_refused(api, alpha):
    import datetime

    later = (timezone.now() + datetime.timedelta(days=3)).isoformat()
    response = api(Role.FRONT_DESK).post("/api/visits/", {"patient": str(make_patient(alpha).pk), "started_at": later})
    assert response.status_code == 400
    assert "started_at" in response.json()["errors"]
