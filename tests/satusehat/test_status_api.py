"""The app's read of visits' SATUSEHAT send state: every member of staff reads it; front desk reads a
failure's reason in general words (a refusal may name a drug); ids are checked; another clinic's host
knows nothing of this clinic's visits."""

import datetime
import uuid

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from satusehat.models import VisitSend
from tenants.accounts.models import Role
from tests.conftest import host_client, login
from tests.satusehat.factories import make_finished_visit

pytestmark = pytest.mark.django_db

URL = "/satusehat/api/visits/"
ROLES = [Role.OWNER, Role.DOCTOR, Role.NURSE, Role.FRONT_DESK]
REFUSAL = "Paracetamol 500 mg: belum ada kode KFA. Petakan obat ini di halaman Kode obat KFA."


def _get(clinic, role, ids, **headers):
    client = login(clinic.host, clinic.email(role))
    return client.get(URL, {"ids": ",".join(str(i) for i in ids)}, HTTP_ACCEPT_LANGUAGE="en", **headers)


def _states(response) -> dict[str, dict]:
    assert response.status_code == 200, response.content.decode()[:2000]
    return {row["id"]: row for row in response.json()["visits"]}


def _set(clinic, visit_id, **fields) -> None:
    with schema_context(clinic.clinic.schema_name):
        VisitSend.objects.filter(pk=visit_id).update(**fields)


@pytest.mark.parametrize("role", ROLES)
def test_every_member_of_staff_reads_the_four_states(alpha, role):
    queued = make_finished_visit(alpha).visit.pk
    sent = make_finished_visit(alpha).visit.pk
    failed = make_finished_visit(alpha).visit.pk
    open_visit = make_finished_visit(alpha, finished=False).visit.pk
    at = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=3)
    _set(alpha, sent, state="sent", sent=1, sent_at=at, attempts=1)
    _set(alpha, failed, state="failed", reason_code="invalid", reason=REFUSAL, attempts=2, failed_at=at)
    states = _states(_get(alpha, role, [queued, sent, failed, open_visit]))
    assert states[str(queued)]["state"] == "queued"
    assert states[str(sent)]["state"] == "sent"
    assert datetime.datetime.fromisoformat(states[str(sent)]["sent_at"]) == at
    assert states[str(failed)]["state"] == "failed"
    assert states[str(failed)]["attempts"] == 2
    assert states[str(open_visit)] == {
        "id": str(open_visit),
        "state": "not_sent",
        "reason": "",
        "sent_at": None,
        "attempts": 0,
    }


@pytest.mark.parametrize("role", [Role.OWNER, Role.DOCTOR, Role.NURSE])
def test_clinical_staff_read_the_reason_as_it_is(alpha, role):
    failed = make_finished_visit(alpha).visit.pk
    _set(alpha, failed, state="failed", reason_code="invalid", reason=REFUSAL)
    assert _states(_get(alpha, role, [failed]))[str(failed)]["reason"] == REFUSAL


def test_front_desk_reads_a_reason_without_drug_names(alpha):
    invalid = make_finished_visit(alpha).visit.pk
    no_nik = make_finished_visit(alpha).visit.pk
    _set(alpha, invalid, state="failed", reason_code="invalid", reason=REFUSAL)
    _set(alpha, no_nik, state="failed", reason_code="no_nik", reason="Pasien belum punya NIK.")
    response = _get(alpha, Role.FRONT_DESK, [invalid, no_nik])
    assert "Paracetamol" not in response.content.decode()
    states = _states(response)
    assert states[str(invalid)]["reason"].startswith("SATUSEHAT did not take the visit")
    assert states[str(no_nik)]["reason"] == "The patient's NIK is missing: add it to the patient's details."


def test_the_reason_follows_the_persons_language(alpha):
    no_nik = make_finished_visit(alpha).visit.pk
    _set(alpha, no_nik, state="failed", reason_code="no_nik", reason="Pasien belum punya NIK.")
    client = login(alpha.host, alpha.email(Role.FRONT_DESK))
    response = client.get(URL, {"ids": str(no_nik)}, HTTP_ACCEPT_LANGUAGE="id")
    assert _states(response)[str(no_nik)]["reason"] == "NIK pasien belum ada: tambahkan di data pasien."


@pytest.mark.parametrize(
    "ids",
    ["", "not-a-uuid", "🙂", ",".join(str(uuid.uuid4()) for _ in range(101)), "x" * 5000],
)
def test_ids_that_cannot_be_read_are_refused_with_a_reason(alpha, ids):
    client = login(alpha.host, alpha.email(Role.NURSE))
    response = client.get(URL, {"ids": ids}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["errors"]["ids"]


def test_visitors_are_refused(alpha):
    response = host_client(alpha.host).get(URL, {"ids": str(uuid.uuid4())})
    assert response.status_code in (401, 403)


def test_another_clinic_knows_nothing_of_this_clinics_visits(alpha, beta):
    failed = make_finished_visit(alpha).visit.pk
    _set(alpha, failed, state="failed", reason_code="invalid", reason=REFUSAL)
    states = _states(_get(beta, Role.OWNER, [failed]))
    assert states[str(failed)]["state"] == "not_sent"
    assert states[str(failed)]["reason"] == ""
