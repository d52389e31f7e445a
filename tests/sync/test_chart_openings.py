"""A chart opened on a device (online or offline) reaches the owner's chart-access log through push."""

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from records.models import ChartAccess
from tenants.accounts.models import Role
from tests.records.conftest import make_patient

pytestmark = pytest.mark.django_db


def opening(seq: int, patient_id: str, **fields) -> dict:
    return {"seq": seq, "entity": "chart", "op": "open", "record_id": patient_id, "base_version": 0, "fields": fields}


def push(api, role: str, device_id: str, mutations: list[dict]) -> list[dict]:
    response = api(role).post("/api/sync/push", {"device_id": device_id, "mutations": mutations})
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.FRONT_DESK, Role.OWNER])
def test_an_opening_is_logged_with_who_which_device_and_when_on_the_device(alpha, api, role):
    patient = make_patient(alpha, full_name="Ahmad Hidayat")
    opened = (timezone.now() - datetime.timedelta(hours=3)).astimezone(datetime.timezone(datetime.timedelta(hours=7)))
    results = push(api, role, "tablet-poli-1", [opening(1, str(patient.pk), opened_at=opened.isoformat())])
    assert results == [{"seq": 1, "status": "applied"}]
    with schema_context(alpha.clinic.schema_name):
        access = ChartAccess.objects.select_related("user").get(patient=patient)
    assert (access.user.email, access.device_id) == (alpha.email(role), "tablet-poli-1")
    assert access.at == opened
    assert timezone.now() - access.received_at < datetime.timedelta(minutes=1)
    trail = api(Role.OWNER).get("/api/audit/", kind="chart_access").json()["results"]
    mine = [row for row in trail if row["patient"] == str(patient.pk)]
    assert len(mine) == 1
    assert mine[0]["device_id"] == "tablet-poli-1"
    assert datetime.datetime.fromisoformat(mine[0]["at"]) == opened


def test_a_retried_opening_is_logged_once(alpha, api):
    patient = make_patient(alpha)
    batch = [opening(1, str(patient.pk), opened_at=timezone.now().isoformat())]
    push(api, Role.DOCTOR, "tablet-poli-2", batch)
    again = push(api, Role.DOCTOR, "tablet-poli-2", batch)
    assert again[0]["status"] == "duplicate"
    with schema_context(alpha.clinic.schema_name):
        assert ChartAccess.objects.filter(patient=patient).count() == 1


def test_an_opening_the_server_cannot_log_is_refused_and_the_rest_of_the_batch_applies(alpha, api):
    patient = make_patient(alpha)
    pid = str(patient.pk)
    tomorrow_and_more = (timezone.now() + datetime.timedelta(days=2)).isoformat()
    results = push(
        api,
        Role.DOCTOR,
        "tablet-poli-3",
        [
            opening(1, "7b0b4c1e-0000-4000-8000-000000000000", opened_at=timezone.now().isoformat()),
            opening(2, pid, opened_at="2026-11-30T09:00:00"),
            opening(3, pid, opened_at="kemarin"),
            opening(4, pid, opened_at=tomorrow_and_more),
            opening(5, pid, opened_at=timezone.now().isoformat(), note="x"),
            opening(6, pid, opened_at="0001-01-01T00:30:00+07:00"),
            opening(7, pid, opened_at=(timezone.now() - datetime.timedelta(days=400)).isoformat()),
            opening(8, pid),
        ],
    )
    assert [r["status"] for r in results] == ["rejected"] * 7 + ["applied"]
    assert "clock" in results[5]["errors"]["opened_at"][0]
    assert "clock" in results[6]["errors"]["opened_at"][0]
    assert results[0]["errors"] == {"record_id": ["No such record in this clinic."]}
    assert "time zone" in results[1]["errors"]["opened_at"][0]
    assert "time zone" in results[2]["errors"]["opened_at"][0]
    assert results[3]["errors"] == {"opened_at": ["A chart cannot be opened more than a day from now."]}
    assert "fields" in results[4]["errors"]
    with schema_context(alpha.clinic.schema_name):
        assert ChartAccess.objects.filter(patient=patient).count() == 1  # the last, at the server's time


@pytest.mark.parametrize("op", ["create", "update", "void", "resolve"])
def test_a_chart_is_only_opened(alpha, api, op):
    patient = make_patient(alpha)
    mutation = {**opening(1, str(patient.pk)), "op": op}
    response = api(Role.DOCTOR).post("/api/sync/push", {"device_id": "tablet-poli-4", "mutations": [mutation]})
    assert response.status_code == 200  # refused alone, so the mutations after it still apply
    (result,) = response.json()["results"]
    assert result["status"] == "rejected"
    assert "op" in result["errors"]
