"""Sending a visit to the SATUSEHAT stand-in: everything once, amendments as updates, voids as
retractions, and each reason a visit cannot go (with nothing sent) kept for the clinic to act on."""

import datetime
import time
import uuid

import pytest
from django.db import connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context

from records import services
from satusehat import sender
from satusehat.fhir import identifier_system
from satusehat.models import Connection, RemoteResource, SendEvent, VisitSend
from satusehat.sender import retry_failed, send_visit
from tenants.accounts.models import Role
from tests.satusehat import standin as standin_fixtures
from tests.satusehat.factories import actor_of, make_finished_visit
from tests.satusehat.factories import send as _send
from tests.satusehat.factories import send_state as _state
from tests.satusehat.standin import (
    ORGANIZATION_ID,
    PATIENT_IHS,
    PATIENT_NIK,
    PRACTITIONER_IHS,
    connect,
    prepare,
)

pytestmark = pytest.mark.django_db
satusehat_standin = standin_fixtures.satusehat_standin  # the stand-in's fixture, used by name


def _fhir_requests(standin) -> list:
    """Requests that create or change something (lookups aside)."""
    return [r for r in standin.requests if r.method in ("POST", "PUT") and r.path != "/accesstoken"]


@pytest.fixture
def ready(alpha, satusehat_standin):
    prepare(alpha, satusehat_standin)
    return satusehat_standin


def test_a_finished_visit_arrives_once_with_all_its_resources_pointing_at_its_encounter(alpha, ready):
    standin = ready
    made = make_finished_visit(alpha)
    visit_id = made.visit.pk
    assert _state(alpha, visit_id).state == "queued"
    assert _send(alpha, visit_id) == "sent"

    posts = standin.made("POST")
    assert posts[0].resource_type == "Encounter"
    counts = {kind: len(standin.stored(kind)) for kind in standin.resources}
    # A09 only (J06.9 was voided before it was ever sent), eight vital signs, two drugs. The allergies
    # are free text, which SATUSEHAT does not take: said on the visit, not sent, no failure.
    assert counts == {
        "Encounter": 1,
        "Condition": 1,
        "Observation": 8,
        "Medication": 2,
        "MedicationRequest": 2,
    }
    with schema_context(alpha.clinic.schema_name):
        event = SendEvent.objects.get(visit_id=visit_id)
    assert "allergies are written as free text" in event.message_texts["en"]
    # The Encounter went first (its Condition points at it), then again listing its diagnosis.
    condition = standin.stored("Condition")[0]
    encounter = standin.stored("Encounter")[0]
    [again] = standin.made("PUT")
    assert again.path == f"/Encounter/{encounter['id']}"
    assert encounter["diagnosis"][0]["condition"]["reference"] == f"Condition/{condition['id']}"
    assert encounter["diagnosis"][0]["rank"] == 1
    assert encounter["identifier"] == [
        {"system": identifier_system("encounter", ORGANIZATION_ID), "value": str(visit_id)}
    ]
    assert encounter["subject"]["reference"] == f"Patient/{PATIENT_IHS}"
    assert encounter["participant"][0]["individual"]["reference"] == f"Practitioner/{PRACTITIONER_IHS}"
    assert encounter["location"][0]["location"]["reference"].startswith("Location/")
    others = [
        r for kind, rows in standin.resources.items() if kind not in ("Encounter", "Medication") for r in rows.values()
    ]
    assert all(r["encounter"]["reference"] == f"Encounter/{encounter['id']}" for r in others)
    assert not any("urn:local:" in str(r) for r in standin.stored("MedicationRequest") + others)
    condition = standin.stored("Condition")[0]
    assert condition["code"]["coding"][0]["code"] == "A09"
    medications = {m["id"]: m for m in standin.stored("Medication")}
    for request in standin.stored("MedicationRequest"):
        assert request["medicationReference"]["reference"].removeprefix("Medication/") in medications
    temperature = next(o for o in standin.stored("Observation") if o["code"]["coding"][0]["code"] == "8310-5")
    assert temperature["valueQuantity"]["value"] == 37.8

    state = _state(alpha, visit_id)
    assert (state.state, state.sent, state.wanted, state.reason_code) == ("sent", 1, 1, "")
    with schema_context(alpha.clinic.schema_name):
        assert RemoteResource.objects.filter(visit_id=visit_id).count() == 14
        assert list(SendEvent.objects.filter(visit_id=visit_id).values_list("outcome", flat=True)) == ["sent"]
    # A second task for the same visit (the outbox queues one per change) sends nothing more.
    before = len(standin.requests)
    assert _send(alpha, visit_id) == "up to date"
    assert len(standin.requests) == before


def test_an_amendment_is_sent_as_updates_after_the_creates(alpha, ready):
    standin = ready
    made = make_finished_visit(alpha)
    _send(alpha, made.visit.pk)
    creates = len(standin.made("POST"))
    with schema_context(alpha.clinic.schema_name):
        services.record_create(
            entity="diagnosis",
            actor=actor_of(alpha, Role.DOCTOR),
            data={"visit": str(made.visit.pk), "code": "I10", "kind": "secondary"},
            reason="Tekanan darah tinggi terlewat dicatat",
        )
    state = _state(alpha, made.visit.pk)
    assert (state.state, state.wanted, state.sent) == ("queued", 2, 1)
    assert _send(alpha, made.visit.pk) == "sent"

    new_posts = standin.made("POST")[creates:]
    assert [(r.resource_type, r.body["code"]["coding"][0]["code"]) for r in new_posts] == [("Condition", "I10")]
    encounter = standin.stored("Encounter")[0]
    puts = standin.made("PUT")[1:]  # after the first send's Encounter listing its diagnosis
    assert puts[0].path == f"/Encounter/{encounter['id']}"
    # Everything sent before updated in place, and the Encounter again once the new Condition exists.
    assert len(puts) == 15
    assert puts[-1].path == f"/Encounter/{encounter['id']}"
    assert [d["rank"] for d in encounter["diagnosis"]] == [1, 2]
    assert all(put.at > standin.made("POST")[0].at for put in puts)
    assert len(standin.stored("Encounter")) == 1
    assert len(standin.stored("Condition")) == 2
    assert (_state(alpha, made.visit.pk).sent, _state(alpha, made.visit.pk).state) == (2, "sent")


def test_a_voided_diagnosis_sent_before_is_retracted_and_one_never_sent_is_not_sent(alpha, ready):
    standin = ready
    made = make_finished_visit(alpha)
    never_sent = made.diagnoses[1]
    assert never_sent.is_voided
    _send(alpha, made.visit.pk)
    with schema_context(alpha.clinic.schema_name):
        services.record_void(
            instance=made.diagnoses[0], actor=actor_of(alpha, Role.DOCTOR), reason="Bukan diare infeksi"
        )
    assert _send(alpha, made.visit.pk) == "sent"
    condition = standin.stored("Condition")[0]
    assert condition["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
    assert "clinicalStatus" not in condition
    assert len(standin.stored("Condition")) == 1
    assert not any(str(never_sent.pk) in str(r.body) for r in standin.requests)
    with schema_context(alpha.clinic.schema_name):
        assert RemoteResource.objects.get(resource_type="Condition", local_key=str(made.diagnoses[0].pk)).retracted
    # Retracted once: a later amendment does not send it again.
    puts = len(standin.made("PUT", "Condition"))
    with schema_context(alpha.clinic.schema_name):
        services.record_create(
            entity="diagnosis",
            actor=actor_of(alpha, Role.DOCTOR),
            data={"visit": str(made.visit.pk), "code": "K52.9", "kind": "primary"},
            reason="Diagnosis diganti",
        )
    _send(alpha, made.visit.pk)
    assert len(standin.made("PUT", "Condition")) == puts


def test_a_visit_voided_before_it_was_sent_sends_nothing(alpha, ready):
    standin = ready
    made = make_finished_visit(alpha)
    with schema_context(alpha.clinic.schema_name):
        services.record_void(instance=made.visit, actor=actor_of(alpha, Role.DOCTOR), reason="Pasien salah")
    assert _send(alpha, made.visit.pk) == "sent"
    assert _fhir_requests(standin) == []
    assert _state(alpha, made.visit.pk).state == "sent"


def test_a_voided_visit_that_was_sent_is_retracted_whole(alpha, ready):
    standin = ready
    made = make_finished_visit(alpha)
    _send(alpha, made.visit.pk)
    with schema_context(alpha.clinic.schema_name):
        services.record_void(instance=made.visit, actor=actor_of(alpha, Role.DOCTOR), reason="Pasien salah")
    assert _send(alpha, made.visit.pk) == "sent"
    assert standin.stored("Encounter")[0]["status"] == "entered-in-error"
    assert all(o["status"] == "entered-in-error" for o in standin.stored("Observation"))
    assert all(m["status"] == "entered-in-error" for m in standin.stored("MedicationRequest"))
    assert len(standin.made("POST")) == 14  # nothing new was created to retract


@pytest.mark.parametrize(
    ("overrides", "code", "words"),
    [
        ({"patient": {"nik": ""}}, "no_nik", "has no NIK"),
        (
            {"patient": {"nik": "3174014403920005", "birth_date": "1992-03-04"}},
            "patient_unknown",
            "does not know the NIK",
        ),
        ({"practitioner_nik": ""}, "practitioner_no_nik", "staff settings page"),
        ({"practitioner_nik": "3174010101750001"}, "practitioner_unknown", "staff settings page"),
        ({"practitioner": False}, "no_practitioner", "no practitioner"),
    ],
)
def test_a_visit_that_cannot_go_fails_with_what_to_do_and_nothing_is_sent(
    alpha, ready, settings, overrides, code, words
):
    standin = ready
    settings.LANGUAGE_CODE = "en"  # the reason is kept in the clinic's language; English here
    made = make_finished_visit(alpha, **overrides)
    assert _send(alpha, made.visit.pk) == f"failed: {code}"
    state = _state(alpha, made.visit.pk)
    assert (state.state, state.reason_code) == ("failed", code)
    assert words in state.reason
    assert state.attempts == 1  # the failures page shows the try
    assert _fhir_requests(standin) == []
    with schema_context(alpha.clinic.schema_name):
        assert list(SendEvent.objects.filter(visit_id=made.visit.pk).values_list("outcome", "reason_code")) == [
            ("failed", code)
        ]
    # A failed visit waits: a leftover task does not send it.
    assert _send(alpha, made.visit.pk) == "failed"


def test_the_reason_is_kept_in_the_clinics_language(alpha, ready):
    made = make_finished_visit(alpha, patient={"nik": ""})
    _send(alpha, made.visit.pk)
    assert "Isi NIK" in _state(alpha, made.visit.pk).reason


def test_a_refusal_keeps_satusehats_words_and_waits_for_a_retry(alpha, ready):
    standin = ready
    made = make_finished_visit(alpha)
    words = "Observation.subject: Patient dengan IHS P02478375538 tidak aktif"
    standin.fail_next(r"^/Observation$", "422", method="POST", message=words)
    assert _send(alpha, made.visit.pk) == "failed: refused"
    state = _state(alpha, made.visit.pk)
    assert state.state == "failed"
    assert words in state.reason
    with schema_context(alpha.clinic.schema_name):
        tasks_before = DBTaskResult.objects.count()
        assert retry_failed([made.visit.pk]) == 1
        assert DBTaskResult.objects.count() == tasks_before + 1
        assert retry_failed([made.visit.pk]) == 0  # queued now, no longer failed
    assert _send(alpha, made.visit.pk) == "sent"
    assert len(standin.stored("Encounter")) == 1
    assert len(standin.stored("Observation")) == 8


def _live_tasks(clinic, visit_id) -> int:
    with schema_context(clinic.clinic.schema_name):
        return DBTaskResult.objects.filter(status="READY", args_kwargs__args=[str(visit_id)]).count()


def test_a_clinic_not_connected_waits_queued_and_is_sent_once_connected(alpha, satusehat_standin):
    standin = satusehat_standin
    made = make_finished_visit(alpha)
    with schema_context(alpha.clinic.schema_name):
        DBTaskResult.objects.all().delete()
    assert _send(alpha, made.visit.pk) == "waiting: not_connected"
    state = _state(alpha, made.visit.pk)
    # Waiting, not failed: no try counted, nothing for the failures page.
    assert (state.state, state.reason_code, state.attempts) == ("queued", "not_connected", 0)
    assert "Sambungkan" in state.reason_texts["id"] or "SATUSEHAT" in state.reason_texts["id"]
    assert "not connected yet" in state.reason_texts["en"]
    with schema_context(alpha.clinic.schema_name):
        assert not SendEvent.objects.filter(visit_id=made.visit.pk).exists()
    prepare(alpha, standin)  # the owner connects the clinic: the waiting visit gets its task
    assert _live_tasks(alpha, made.visit.pk) == 1
    assert _send(alpha, made.visit.pk) == "sent"
    assert len(standin.stored("Encounter")) == 1


def test_refused_credentials_hold_the_clinic_after_one_sign_in_until_the_owner_mends_them(alpha, ready, settings):
    settings.LANGUAGE_CODE = "en"
    visits = [make_finished_visit(alpha).visit.pk for _ in range(4)]
    connect(alpha, ready, client_secret="secret-lama-yang-sudah-dicabut")
    assert [_send(alpha, visit_id) for visit_id in visits] == ["waiting: credentials"] * 4
    # One sign-in found it out; the other visits asked SATUSEHAT nothing.
    assert [r.path for r in ready.requests] == ["/accesstoken"]
    for visit_id in visits:
        state = _state(alpha, visit_id)
        assert (state.state, state.reason_code, state.attempts) == ("queued", "credentials", 0)
        assert "refused the client ID or client secret" in state.reason_texts["en"]
    with schema_context(alpha.clinic.schema_name):
        row = Connection.objects.get()
        assert row.hold_code == "credentials"
        assert "refused the client ID" in row.hold_texts["en"]
        assert row.hold_until - timezone.now() > datetime.timedelta(minutes=55)
    connect(alpha, ready)  # the right secret: the hold ends and the visits go
    with schema_context(alpha.clinic.schema_name):
        assert Connection.objects.get().hold_code == ""
    assert all(_live_tasks(alpha, visit_id) >= 1 for visit_id in visits)
    assert [_send(alpha, visit_id) for visit_id in visits] == ["sent"] * 4


def _time_passes(clinic, visit_id) -> None:
    """The visit's wait and the clinic's hold are over (as if the time had come)."""
    past = timezone.now() - datetime.timedelta(seconds=1)
    with schema_context(clinic.clinic.schema_name):
        VisitSend.objects.filter(visit_id=visit_id).update(next_attempt_at=past)
        Connection.objects.exclude(hold_code="").update(hold_until=past)


def test_trouble_is_retried_later_with_a_task_and_fails_after_eight_tries(alpha, ready, settings):
    standin = ready
    settings.SATUSEHAT_BACKOFF_SECONDS = 30
    made = make_finished_visit(alpha)
    standin.fail_next(r"^/Encounter$", "500", times=8)
    started = timezone.now()
    assert _send(alpha, made.visit.pk) == "retry"
    state = _state(alpha, made.visit.pk)
    assert (state.state, state.attempts) == ("queued", 1)
    assert (
        started + datetime.timedelta(seconds=30)
        <= state.next_attempt_at
        <= timezone.now() + datetime.timedelta(seconds=36)
    )
    with schema_context(alpha.clinic.schema_name):
        task = DBTaskResult.objects.order_by("-enqueued_at").first()
        assert task.args_kwargs["args"] == [str(made.visit.pk)]
        assert task.run_after == state.next_attempt_at
        # The whole clinic waits as long: other visits do not ask a SATUSEHAT that is down.
        assert Connection.objects.get().hold_until == state.next_attempt_at
    # Its task run early (a leftover one) asks SATUSEHAT nothing.
    before = len(standin.requests)
    assert _send(alpha, made.visit.pk) == "not yet"
    assert len(standin.requests) == before
    for _attempt in range(2, 8):
        _time_passes(alpha, made.visit.pk)
        assert _send(alpha, made.visit.pk) == "retry"
    assert _state(alpha, made.visit.pk).attempts == 7
    assert _state(alpha, made.visit.pk).next_attempt_at - timezone.now() > datetime.timedelta(minutes=30)
    _time_passes(alpha, made.visit.pk)
    assert _send(alpha, made.visit.pk) == "failed: unavailable"
    state = _state(alpha, made.visit.pk)
    assert state.state == "failed"
    assert "500" in state.reason
    with schema_context(alpha.clinic.schema_name):
        outcomes = list(
            SendEvent.objects.filter(visit_id=made.visit.pk).order_by("at", "id").values_list("outcome", flat=True)
        )
    assert outcomes == ["retry"] * 7 + ["failed"]
    assert standin.stored("Encounter") == []
    # SATUSEHAT answers again: the first visit through ends the hold, and the one that gave up goes too.
    _time_passes(alpha, made.visit.pk)
    other = make_finished_visit(alpha)
    assert _send(alpha, other.visit.pk) == "sent"
    state = _state(alpha, made.visit.pk)
    assert (state.state, state.attempts) == ("queued", 0)
    assert _send(alpha, made.visit.pk) == "sent"
    assert len(standin.stored("Encounter")) == 2


def test_retry_after_is_honoured(alpha, ready):
    standin = ready
    made = make_finished_visit(alpha)
    standin.fail_next(r"^/Condition$", "429")
    before = timezone.now()
    assert _send(alpha, made.visit.pk) == "retry"
    state = _state(alpha, made.visit.pk)
    assert (
        before + datetime.timedelta(seconds=1)
        <= state.next_attempt_at
        <= timezone.now() + datetime.timedelta(seconds=1.3)
    )
    assert state.attempts == 0  # SATUSEHAT's rate limit is not a failure of the visit
    time.sleep(max(0.0, (state.next_attempt_at - timezone.now()).total_seconds()) + 0.05)
    assert _send(alpha, made.visit.pk) == "sent"
    assert len(standin.stored("Encounter")) == 1
    assert len(standin.stored("Condition")) == 1


def test_a_visit_another_worker_is_sending_is_left_to_it_and_tried_again_later(alpha, ready):
    made = make_finished_visit(alpha)
    other = connections.create_connection("default")
    try:
        with schema_context(alpha.clinic.schema_name):
            key = sender._lock_key(made.visit.pk)
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        with schema_context(alpha.clinic.schema_name):
            tasks = DBTaskResult.objects.count()
            assert send_visit(made.visit.pk) == "busy"
            assert DBTaskResult.objects.count() == tasks + 1
        assert ready.requests == []
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])  # that worker is done (closing ends it later)
    finally:
        other.close()
    assert _send(alpha, made.visit.pk) == "sent"


def test_a_send_for_a_visit_never_queued_does_nothing(alpha, ready):
    assert _send(alpha, uuid.uuid4()) == "nothing to send"
    assert ready.requests == []


def test_connection_row_keeps_no_plain_secret_after_sending(alpha, ready):
    made = make_finished_visit(alpha)
    _send(alpha, made.visit.pk)
    with schema_context(alpha.clinic.schema_name):
        row = Connection.objects.values().get()
    assert PATIENT_NIK not in str(row)
    assert "s3cr3t" not in str(row)


def test_moving_to_production_forgets_the_sandboxs_ids(alpha, ready):
    standin = ready
    made = make_finished_visit(alpha)
    _send(alpha, made.visit.pk)
    with schema_context(alpha.clinic.schema_name):
        assert RemoteResource.objects.exists()
    connect(alpha, standin, environment="production")
    with schema_context(alpha.clinic.schema_name):
        assert not RemoteResource.objects.exists()
    connect(alpha, standin, environment="production", location_name="Poli Umum")  # same place: ids kept
    with schema_context(alpha.clinic.schema_name):
        assert Connection.objects.get().environment == "production"
