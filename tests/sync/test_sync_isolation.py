"""Cross-clinic sync attempts are refused and change nothing: by host, cookie, record ids and cursors.
Plus the other refusals: not signed in (401), revoked device, another person's device (403)."""

import uuid

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from records.models import Patient, Visit
from sync.models import Change
from sync.models import Device as DeviceRow
from tests.conftest import login
from tests.records.conftest import ApiClient
from tests.sync.device import Device

pytestmark = pytest.mark.django_db

PATIENT = {"full_name": "Siti Aminah", "birth_date": "1987-03-02", "sex": "F"}


def push_body(device_id, record_id=None, **mutation):
    return {
        "device_id": device_id,
        "mutations": [
            {
                "seq": 1,
                "entity": "patient",
                "record_id": record_id or str(uuid.uuid4()),
                "op": "create",
                "base_version": 0,
                "fields": PATIENT,
                **mutation,
            }
        ],
    }


def counts(clinic):
    with schema_context(clinic.clinic.schema_name):
        return Patient.objects.count(), Change.objects.count(), DeviceRow.objects.count()


def test_a_session_of_clinic_a_at_clinic_b_host_is_403_and_writes_nothing(alpha, beta):
    alpha_client = login(alpha.host, alpha.email("doctor"))
    cookie = alpha_client.cookies["sessionid"].value
    intruder = Client(HTTP_HOST=beta.host)
    intruder.cookies["sessionid"] = cookie
    before = counts(beta)
    push = intruder.post("/api/sync/push", push_body("dev-12345678"), content_type="application/json")
    pull = intruder.get("/api/sync/pull", {"cursor": 0, "device_id": "dev-12345678"})
    assert (push.status_code, pull.status_code) == (403, 403)
    assert "changes" not in pull.json()
    assert counts(beta) == before


def test_not_signed_in_is_401(beta):
    anonymous = Client(HTTP_HOST=beta.host)
    assert (
        anonymous.post("/api/sync/push", push_body("dev-12345678"), content_type="application/json").status_code == 401
    )
    assert anonymous.get("/api/sync/pull", {"device_id": "dev-12345678"}).status_code == 401


def test_record_ids_of_clinic_a_mean_nothing_at_clinic_b(alpha, beta, device):
    doctor_a = device("doctor")
    patient_id = doctor_a.create("patient", PATIENT)
    visit_id = doctor_a.create("visit", {"patient": patient_id, "started_at": timezone.now().isoformat()})
    doctor_a.sync()
    doctor_b = Device(ApiClient(login(beta.host, beta.email("doctor"))))
    doctor_b.update("patient", patient_id, {"full_name": "Dicuri"})
    doctor_b.void("visit", visit_id, "x")
    doctor_b.create("visit", {"patient": patient_id, "started_at": timezone.now().isoformat()})
    results = doctor_b.push()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected"]
    with schema_context(alpha.clinic.schema_name):
        assert Patient.objects.get(pk=patient_id).full_name == "Siti Aminah"
        assert Visit.objects.get(pk=visit_id).voided_at is None
    with schema_context(beta.clinic.schema_name):
        assert not Visit.objects.exists()


def test_a_cursor_from_clinic_a_reads_nothing_of_clinic_a_at_b(alpha, beta, device):
    doctor_a = device("doctor")
    for n in range(3):
        doctor_a.create("patient", {**PATIENT, "full_name": f"Pasien A{n}"})
    doctor_a.sync()
    doctor_b = Device(ApiClient(login(beta.host, beta.email("doctor"))))
    doctor_b.cursor = doctor_a.cursor
    doctor_b.pull()
    names = {data["data"].get("full_name") for data in doctor_b.copy.values()}
    assert not any(name and name.startswith("Pasien A") for name in names)


def test_a_device_id_of_another_person_is_refused(alpha, api):
    api("doctor").get("/api/sync/pull", device_id="shared-device-1")
    response = api("nurse").get("/api/sync/pull", device_id="shared-device-1")
    assert response.status_code == 403
    push = api("nurse").post("/api/sync/push", push_body("shared-device-1"))
    assert push.status_code == 403
    assert counts(alpha)[0] == 0


def test_the_owner_sees_and_revokes_devices(alpha, api, device):
    phone = device("doctor")
    phone.pull()
    assert api("doctor").get("/api/sync/devices/").status_code == 403
    listed = api("owner").get("/api/sync/devices/").json()
    assert [d["id"] for d in listed] == [phone.device_id]
    assert api("doctor").post(f"/api/sync/devices/{phone.device_id}/revoke/", {}).status_code == 403
    assert api("owner").post(f"/api/sync/devices/{phone.device_id}/revoke/", {}).status_code == 200
    assert api("owner").post("/api/sync/devices/no-such-device/revoke/", {}).status_code == 404
    phone.create("patient", PATIENT)
    response = phone.api.post("/api/sync/push", {"device_id": phone.device_id, "mutations": phone.outbox})
    assert response.status_code == 403
    assert phone.api.get("/api/sync/pull", device_id=phone.device_id).status_code == 403
    assert counts(alpha)[0] == 0


def test_a_device_of_clinic_a_is_unknown_at_clinic_b(alpha, beta, device):
    phone = device("doctor")
    phone.pull()
    with schema_context(beta.clinic.schema_name):
        assert not DeviceRow.objects.filter(pk=phone.device_id).exists()
