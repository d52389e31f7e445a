"""Push: exactly once, in order, with refusals kept and explained."""

import datetime
import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from records.models import Patient, Revision, Visit
from sync import services
from sync.models import Change, PushedBatch
from sync.models import Device as DeviceRow
from tenants.accounts.models import Role, User
from tests.records.conftest import ApiClient, login
from tests.sync.device import Device as DeviceClient

pytestmark = pytest.mark.django_db

PATIENT = {"full_name": "Siti Aminah", "birth_date": "1987-03-02", "sex": "F"}


def in_alpha(alpha, fn):
    with schema_context(alpha.clinic.schema_name):
        return fn()


def test_create_applies_once_and_a_retried_batch_changes_nothing(alpha, device):
    phone = device("frontdesk")
    patient_id = phone.create("patient", PATIENT)
    batch = list(phone.outbox)
    first = phone.push()
    assert first["results"] == [{"seq": 1, "status": "applied", "version": 1}]
    assert first["last_seq"] == 1
    # The same batch again, as after a response lost on the way back.
    again = phone.api.post("/api/sync/push", {"device_id": phone.device_id, "mutations": batch}).json()
    assert again["results"] == [{"seq": 1, "status": "duplicate", "original_status": "applied", "version": 1}]
    assert in_alpha(alpha, lambda: Patient.objects.filter(pk=patient_id).count()) == 1
    assert in_alpha(alpha, lambda: Revision.objects.filter(record_id=patient_id).count()) == 1
    assert in_alpha(alpha, lambda: Change.objects.filter(record_id=patient_id).count()) == 1


def test_a_conflict_sent_as_a_create_is_refused_and_the_creates_after_it_apply(alpha):
    """The API refuses such a batch whole (400); the service, called directly, refuses that one mutation
    as one at a time would, and the creates after it still go the bulk way."""
    with schema_context(alpha.clinic.schema_name):
        user = User.objects.get(email=alpha.email(Role.DOCTOR))
        row = services.device_for(device_id="conflict-create-device", user=user)
        patients = [uuid.uuid4() for _ in range(2)]
        mutations = [services.Mutation(1, "conflict", uuid.uuid4(), "create", fields={"field": "plan"})] + [
            services.Mutation(seq, "patient", patient, "create", fields={**PATIENT})
            for seq, patient in enumerate(patients, start=2)
        ]
        refused, *applied = services.push(device=row, mutations=mutations)["results"]
        assert refused["status"] == "rejected"
        assert "op" in refused["errors"]
        assert [result["status"] for result in applied] == ["applied", "applied"]
        assert Patient.objects.filter(pk__in=patients).count() == 2


def test_a_gap_is_refused_for_that_mutation_and_all_after_it(alpha, device):
    phone = device("frontdesk")
    phone.create("patient", PATIENT)
    phone.push()
    phone.next_seq = 5
    later = [phone.create("patient", {**PATIENT, "full_name": f"Pasien {n}"}) for n in range(2)]
    body = phone.push()
    assert body["results"] == [{"seq": seq, "status": "gap", "last_seq": 1} for seq in (5, 6)]
    assert body["last_seq"] == 1
    assert in_alpha(alpha, lambda: Patient.objects.filter(pk__in=later).count()) == 0
    assert len(phone.outbox) == 2  # still waiting, to be resent from seq 2


def test_a_refused_mutation_advances_last_seq_and_comes_back_with_reasons(alpha, device):
    phone = device("frontdesk")
    bad = phone.create("patient", {**PATIENT, "birth_date": "next tuesday"})
    good = phone.create("patient", {**PATIENT, "full_name": "Budi"})
    body = phone.push()
    rejected, applied = body["results"]
    assert rejected["status"] == "rejected"
    assert "birth_date" in rejected["errors"]
    assert applied["status"] == "applied"
    assert body["last_seq"] == 2
    assert phone.failed[0]["record_id"] == bad
    assert phone.failed[0]["errors"] == rejected["errors"]
    assert in_alpha(alpha, lambda: Patient.objects.filter(pk=good).exists())
    receipt = in_alpha(alpha, lambda: PushedBatch.objects.get(device_id=phone.device_id))
    assert (receipt.first_seq, receipt.last_seq) == (1, 2)
    assert receipt.result_of(1)["status"] == "rejected"
    assert "birth_date" in receipt.result_of(1)["errors"]
    assert receipt.result_of(2)["status"] == "applied"
    # A retry of a refused mutation still says what became of it.
    retry = phone.api.post(
        "/api/sync/push",
        {
            "device_id": phone.device_id,
            "mutations": [
                {"seq": 1, "entity": "patient", "record_id": bad, "op": "create", "base_version": 0, "fields": {}}
            ],
        },
    ).json()
    assert retry["results"][0]["original_status"] == "rejected"
    assert "birth_date" in retry["results"][0]["errors"]


def test_role_refusals_are_rejected_with_a_reason(alpha, device):
    doctor, desk = device("doctor"), device("frontdesk")
    patient_id = doctor.create("patient", PATIENT)
    visit_id = doctor.create("visit", {"patient": patient_id, "started_at": timezone.now().isoformat()})
    doctor.push()
    desk.create("diagnosis", {"visit": visit_id, "code": "J06.9"})
    desk.pull()
    desk.update("visit", visit_id, {"plan": "Paracetamol"})
    results = desk.push()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert all(r["errors"]["non_field_errors"] for r in results)


def test_void_needs_a_reason_and_finished_visits_need_an_amendment_reason(alpha, device):
    doctor = device("doctor")
    patient_id = doctor.create("patient", PATIENT)
    visit_id = doctor.create("visit", {"patient": patient_id, "started_at": timezone.now().isoformat()})
    rx = doctor.create(
        "prescription", {"visit": visit_id, "drug": "Amoksisilin 500 mg", "dose": "500 mg", "frequency": "3x1"}
    )
    doctor.sync()
    doctor.void("prescription", rx, reason="")
    doctor.void("prescription", rx, reason="Salah pasien")
    doctor.update("visit", visit_id, {"status": "finished"})
    results = doctor.push()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied", "applied"]
    assert "reason" in results[0]["errors"]
    doctor.pull()
    doctor.update("visit", visit_id, {"plan": "Kontrol 3 hari"})
    doctor.update("visit", visit_id, {"plan": "Kontrol 3 hari"}, reason="Lupa menulis rencana")
    results = doctor.push()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert "reason" in results[0]["errors"]
    visit = in_alpha(alpha, lambda: Visit.objects.get(pk=visit_id))
    assert visit.plan == "Kontrol 3 hari"
    doctor.pull()
    assert doctor.copy[("prescription", rx)]["op"] == "void"
    assert doctor.data("prescription", rx)["void_reason"] == "Salah pasien"


def test_device_is_registered_with_its_user(alpha, device):
    phone = device("nurse")
    phone.pull()
    row = in_alpha(alpha, lambda: DeviceRow.objects.select_related("user").get(pk=phone.device_id))
    assert row.user.email == alpha.email("nurse")
    assert row.pulled_as_role == "nurse"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], None),
        ({"device_id": "dev-12345678"}, "mutations"),
        ({"device_id": "x", "mutations": []}, "device_id"),
        ({"device_id": "dev-12345678", "mutations": [1]}, "mutations"),
        ({"device_id": "dev-12345678", "mutations": [{"seq": 0}]}, "mutations"),
        ({"device_id": "dev-12345678", "mutations": [{"seq": True, "entity": "patient"}]}, "mutations"),
        (
            {
                "device_id": "dev-12345678",
                "mutations": [
                    {
                        "seq": 2,
                        "entity": "patient",
                        "op": "create",
                        "record_id": "0b7e4a4c-3c7e-4a57-9b8c-7d3e8d5b8a11",
                    },
                    {
                        "seq": 4,
                        "entity": "patient",
                        "op": "create",
                        "record_id": "0b7e4a4c-3c7e-4a57-9b8c-7d3e8d5b8a12",
                    },
                ],
            },
            "mutations",
        ),
    ],
)
def test_malformed_batches_get_400_and_nothing_is_applied(alpha, api, body, field):
    response = api("doctor").post("/api/sync/push", body)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    if field:
        assert field in errors
    assert in_alpha(alpha, lambda: PushedBatch.objects.count()) == 0


@pytest.mark.parametrize(
    ("mutation", "field"),
    [
        ({"entity": "user", "op": "create", "record_id": "0b7e4a4c-3c7e-4a57-9b8c-7d3e8d5b8a11"}, "entity"),
        ({"entity": "patient", "op": "drop", "record_id": "0b7e4a4c-3c7e-4a57-9b8c-7d3e8d5b8a11"}, "op"),
        ({"entity": "patient", "op": "create", "record_id": "not-a-uuid"}, "record_id"),
        (
            {"entity": "patient", "op": "create", "record_id": "0b7e4a4c-3c7e-4a57-9b8c-7d3e8d5b8a11", "fields": [1]},
            "fields",
        ),
        (
            {
                "entity": "patient",
                "op": "update",
                "record_id": "0b7e4a4c-3c7e-4a57-9b8c-7d3e8d5b8a11",
                "base_version": -1,
            },
            "base_version",
        ),
    ],
)
def test_a_mutation_that_cannot_be_read_is_rejected_alone_and_remembered(alpha, api, mutation, field):
    """With a usable seq, a malformed mutation is answered `rejected` (its receipt kept, so a resend is
    a duplicate) instead of refusing the batch: a device never sticks on it."""
    body = {"device_id": "dev-12345678", "mutations": [{"seq": 1, **mutation}]}
    for expected in ("rejected", "duplicate"):
        response = api("doctor").post("/api/sync/push", body)
        assert response.status_code == 200, response.content
        (result,) = response.json()["results"]
        assert result["status"] == expected
        assert field in result["errors"]
    assert in_alpha(alpha, lambda: PushedBatch.objects.count()) == 1


def test_a_batch_over_500_gets_413(alpha, api):
    mutations = [
        {
            "seq": n,
            "entity": "patient",
            "op": "create",
            "record_id": f"00000000-0000-4000-8000-{n:012d}",
            "fields": PATIENT,
        }
        for n in range(1, 502)
    ]
    response = api("frontdesk").post("/api/sync/push", {"device_id": "dev-12345678", "mutations": mutations})
    assert response.status_code == 413
    assert response.json()["max_batch"] == 500
    assert in_alpha(alpha, lambda: Patient.objects.count()) == 0


def test_sync_refusals_speak_the_users_language(api):
    body = {"device_id": "dev-12345678", "mutations": [{"seq": 1, "entity": "patient", "op": "create"}] * 501}
    client = api("frontdesk").client
    response = client.post("/api/sync/push", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="id")
    assert response.json()["detail"] == "Kirim paling banyak 500 perubahan sekaligus."
    response = client.get("/api/sync/pull", {"device_id": "short"}, HTTP_ACCEPT_LANGUAGE="id")
    assert response.json()["errors"]["device_id"] == ["Gunakan 8 sampai 64 huruf, angka, '-' atau '_'."]


def test_a_batch_of_500_applies(alpha, device):
    phone = device("frontdesk")
    for n in range(500):
        phone.create("patient", {**PATIENT, "full_name": f"Pasien {n}"})
    body = phone.push()
    assert body["last_seq"] == 500
    assert {r["status"] for r in body["results"]} == {"applied"}
    assert in_alpha(alpha, lambda: Patient.objects.count()) == 500


def test_a_resend_spanning_several_earlier_batches_answers_each_from_its_receipt(alpha, device):
    phone = device("frontdesk")
    phone.create("patient", PATIENT)
    phone.create("patient", {**PATIENT, "birth_date": "next tuesday"})
    first = list(phone.outbox)
    phone.push()
    phone.create("patient", {**PATIENT, "full_name": "Budi"})
    second = list(phone.outbox)
    phone.push()
    new_id = phone.create("patient", {**PATIENT, "full_name": "Citra"})
    resend = first + second + list(phone.outbox)
    body = phone.api.post("/api/sync/push", {"device_id": phone.device_id, "mutations": resend}).json()
    assert [(r["seq"], r["status"], r.get("original_status")) for r in body["results"]] == [
        (1, "duplicate", "applied"),
        (2, "duplicate", "rejected"),
        (3, "duplicate", "applied"),
        (4, "applied", None),
    ]
    assert "birth_date" in body["results"][1]["errors"]
    assert body["last_seq"] == 4
    assert in_alpha(alpha, lambda: Patient.objects.filter(pk=new_id).count()) == 1
    receipts = in_alpha(
        alpha, lambda: list(PushedBatch.objects.order_by("first_seq").values_list("first_seq", "last_seq"))
    )
    assert receipts == [(1, 2), (3, 3), (4, 4)]


def test_old_receipts_are_pruned_only_once_no_device_can_resend_them(alpha, device):
    phone = device("frontdesk")
    phone.create("patient", PATIENT)
    phone.create("patient", {**PATIENT, "birth_date": "next tuesday"})
    phone.push()  # receipt 1-2, answered
    phone.create("patient", {**PATIENT, "full_name": "Budi"})
    lost = list(phone.outbox)
    phone.api.post("/api/sync/push", {"device_id": phone.device_id, "mutations": lost})  # receipt 3, answer lost
    with schema_context(alpha.clinic.schema_name):
        PushedBatch.objects.update(received_at=timezone.now() - datetime.timedelta(days=100))
        assert DeviceRow.objects.get(pk=phone.device_id).held_from == 3
        assert services.receipts_prune(older_than=datetime.timedelta(days=90)) == 1  # 1-2: never resent
        assert services.receipts_prune(older_than=datetime.timedelta(days=90)) == 0
        assert list(PushedBatch.objects.values_list("first_seq", flat=True)) == [3]  # may still be resent
    again = phone.api.post("/api/sync/push", {"device_id": phone.device_id, "mutations": lost}).json()
    assert again["results"] == [{"seq": 3, "status": "duplicate", "original_status": "applied", "version": 1}]
    phone.create("patient", {**PATIENT, "full_name": "Citra"})
    phone.outbox = phone.outbox[-1:]
    phone.push()  # from seq 4: seq 3 was answered and dropped
    with schema_context(alpha.clinic.schema_name):
        assert services.receipts_prune(older_than=datetime.timedelta(days=90)) == 1
        assert services.receipts_prune(older_than=datetime.timedelta(days=1000)) == 0  # young ones stay


def test_a_receipt_reaching_past_held_from_is_kept(alpha, device):
    phone = device("frontdesk")
    for name in ("Ani", "Budi", "Citra"):
        phone.create("patient", {**PATIENT, "full_name": name})
    sent = list(phone.outbox)
    phone.push()  # receipt 1-3
    phone.create("patient", {**PATIENT, "full_name": "Dewi"})
    # A resend from seq 2 (as a device does whose answers to 2 and 3 were lost): it still holds 2 and 3.
    body = {"device_id": phone.device_id, "mutations": sent[1:] + phone.outbox}
    assert phone.api.post("/api/sync/push", body).status_code == 200
    with schema_context(alpha.clinic.schema_name):
        assert DeviceRow.objects.get(pk=phone.device_id).held_from == 2
        PushedBatch.objects.update(received_at=timezone.now() - datetime.timedelta(days=100))
        assert services.receipts_prune(older_than=datetime.timedelta(days=90)) == 0
        assert list(PushedBatch.objects.order_by("first_seq").values_list("first_seq", "last_seq")) == [(1, 3), (4, 4)]


def test_the_prune_command_runs_in_every_clinic(alpha, beta, device):
    at_beta = DeviceClient(ApiClient(login(beta.host, beta.email("frontdesk"))))
    for clinic_device in (device("frontdesk"), at_beta):
        clinic_device.create("patient", PATIENT)
        clinic_device.push()
        clinic_device.create("patient", {**PATIENT, "full_name": "Budi"})
        clinic_device.push()
    for clinic in (alpha, beta):
        with schema_context(clinic.clinic.schema_name):
            PushedBatch.objects.update(received_at=timezone.now() - datetime.timedelta(days=10))
    out = io.StringIO()
    call_command("prune_sync_receipts", "--days", "7", stdout=out)
    assert f"{alpha.clinic.schema_name}: 1 receipts deleted" in out.getvalue()
    assert f"{beta.clinic.schema_name}: 1 receipts deleted" in out.getvalue()
    assert "Done: 2 receipts" in out.getvalue()


def test_last_seen_is_written_by_a_push_and_otherwise_at_most_once_a_minute(alpha, device):
    """The owner's device list shows when each device was last in touch, to the minute; a pull within a
    minute of the last write costs no write of its own."""
    phone = device("frontdesk")
    phone.create("patient", PATIENT)
    phone.push()

    def seen() -> datetime.datetime:
        return in_alpha(alpha, lambda: DeviceRow.objects.get(pk=phone.device_id).last_seen)

    def age_by(delta: datetime.timedelta) -> None:
        in_alpha(alpha, lambda: DeviceRow.objects.filter(pk=phone.device_id).update(last_seen=seen() - delta))

    age_by(datetime.timedelta(seconds=30))
    before = seen()
    phone.pull()
    assert seen() == before  # in touch 30 s ago: not written again
    age_by(services.SEEN_EVERY + datetime.timedelta(seconds=1))
    phone.pull()
    assert timezone.now() - seen() < datetime.timedelta(seconds=30)
    age_by(datetime.timedelta(seconds=30))
    phone.create("patient", {**PATIENT, "full_name": "Budi"})
    phone.push()
    assert timezone.now() - seen() < datetime.timedelta(seconds=5)  # a push writes it with last_seq


def test_prune_command_refuses_a_retention_under_a_day():
    with pytest.raises(CommandError, match="--days must be 1 or more") as refused:
        call_command("prune_sync_receipts", "--days", "0")
    assert refused.value.returncode == 2
