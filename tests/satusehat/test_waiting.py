"""What a visit does when it cannot go yet for reasons outside it, and the faults around a try: the
clinic's hold when SATUSEHAT is down (one try finds out, not every visit), a create whose answer was
lost and then voided, a task that died outside the sender (the worker's sweep gives the visit a task
again), a drug without its KFA code (only it waits), allergies edited after a visit was sent, and an
export built by one worker at a time."""

import datetime
import time

import pytest
from django.db import connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context

from records import services
from records.models import Patient
from satusehat import export, hold, outbox
from satusehat.client import Client, Retryable
from satusehat.kfa import kfa_code_set
from satusehat.models import Connection, Export, RemoteResource, SendEvent, VisitSend
from tenants.accounts.models import Role, User
from tests.satusehat import standin as standin_fixtures
from tests.satusehat.factories import actor_of, make_finished_visit
from tests.satusehat.factories import send as _send
from tests.satusehat.factories import send_state as _state
from tests.satusehat.standin import connect, prepare

pytestmark = pytest.mark.django_db
satusehat_standin = standin_fixtures.satusehat_standin  # the stand-in's fixture, used by name


@pytest.fixture
def ready(alpha, satusehat_standin):
    prepare(alpha, satusehat_standin)
    return satusehat_standin


def _hold_is_up(clinic) -> None:
    """The clinic was held as SATUSEHAT was down, and the hold's time is up: the next try probes."""
    with schema_context(clinic.clinic.schema_name):
        Connection.objects.update(
            hold_code="unavailable",
            hold_tries=3,
            hold_since=timezone.now() - datetime.timedelta(minutes=5),
            hold_until=timezone.now() - datetime.timedelta(seconds=1),
        )


def _encounter_posts(standin) -> int:
    """Encounter creates asked of SATUSEHAT, answered or not."""
    return len([r for r in standin.requests if r.method == "POST" and r.path == "/Encounter"])


def _eventually(read, seconds: float = 5.0):
    """What `read` gives once it gives something (the stand-in may finish a request after the client
    gave up on it)."""
    deadline = time.monotonic() + seconds
    while not (found := read()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def _tasks(clinic, visit_id) -> int:
    with schema_context(clinic.clinic.schema_name):
        return DBTaskResult.objects.filter(status="READY", args_kwargs__args=[str(visit_id)]).count()


def test_satusehat_down_holds_the_clinic_so_one_try_finds_out_not_every_visit(alpha, ready, settings):
    settings.SATUSEHAT_BACKOFF_SECONDS = 30
    visits = [make_finished_visit(alpha).visit.pk for _ in range(5)]
    ready.fail_next(r"^/Encounter$", "500", times=50, method="POST")
    outcomes = [_send(alpha, visit_id) for visit_id in visits]
    assert outcomes == ["retry"] + ["waiting: unavailable"] * 4
    assert _encounter_posts(ready) == 1
    with schema_context(alpha.clinic.schema_name):
        hold = Connection.objects.get()
    assert hold.hold_code == "unavailable"
    assert "500" in hold.hold_texts["en"]
    assert "500" in hold.hold_texts["id"]
    for visit_id in visits[1:]:
        state = _state(alpha, visit_id)
        # Waiting for SATUSEHAT is no try of theirs, and they wait as long as the clinic.
        assert (state.state, state.reason_code, state.attempts) == ("queued", "unavailable", 0)
        assert state.next_attempt_at == hold.hold_until


def test_a_rate_limit_with_retry_after_holds_the_clinic_at_least_that_long(alpha, ready, settings):
    settings.SATUSEHAT_BACKOFF_SECONDS = 0
    first, second = (make_finished_visit(alpha).visit.pk for _ in range(2))
    ready.fail_next(r"^/Encounter$", "429", method="POST")  # Retry-After: 1
    before = timezone.now()
    assert _send(alpha, first) == "retry"
    assert _send(alpha, second) == "waiting: unavailable"
    with schema_context(alpha.clinic.schema_name):
        assert Connection.objects.get().hold_until >= before + datetime.timedelta(seconds=1)
    assert _encounter_posts(ready) == 1


def test_when_the_hold_is_up_one_try_probes_while_the_others_keep_waiting(alpha, ready, settings):
    settings.SATUSEHAT_BACKOFF_SECONDS = 30
    first, second = (make_finished_visit(alpha).visit.pk for _ in range(2))
    ready.fail_next(r"^/Encounter$", "500", method="POST")
    assert _send(alpha, first) == "retry"
    with schema_context(alpha.clinic.schema_name):
        past = timezone.now() - datetime.timedelta(seconds=1)
        Connection.objects.update(hold_until=past)
        VisitSend.objects.update(next_attempt_at=past)
        conn = Connection.objects.get()
        assert hold.may_try(conn)  # this try takes the probe...
        assert not hold.may_try(Connection.objects.get())  # ...and another waits for what it finds
        Connection.objects.update(hold_until=past)
    assert _send(alpha, second) == "sent"  # SATUSEHAT is back: the hold ends
    with schema_context(alpha.clinic.schema_name):
        assert Connection.objects.get().hold_code == ""
    assert _send(alpha, first) == "sent"


def test_a_create_whose_answer_was_lost_then_voided_is_found_and_retracted(alpha, ready):
    made = make_finished_visit(alpha)
    ready.fail_next(r"^/Encounter$", "lost", method="POST")
    assert _send(alpha, made.visit.pk) == "retry"
    [encounter] = _eventually(lambda: ready.stored("Encounter"))  # SATUSEHAT made it; we never heard
    with schema_context(alpha.clinic.schema_name):
        assert not RemoteResource.objects.filter(visit_id=made.visit.pk).exists()
        services.record_void(instance=made.visit, actor=actor_of(alpha, Role.DOCTOR), reason="Pasien salah")
        VisitSend.objects.filter(visit_id=made.visit.pk).update(next_attempt_at=None)
        Connection.objects.update(hold_until=timezone.now())
    assert _send(alpha, made.visit.pk) == "sent", _state(alpha, made.visit.pk).reason
    [stored] = ready.stored("Encounter")
    assert stored["id"] == encounter["id"]
    assert stored["status"] == "entered-in-error"
    assert len(ready.made("POST", "Encounter")) == 1  # nothing created to retract it


def test_a_queued_visit_whose_task_died_gets_a_task_from_the_sweep(alpha, ready):
    made = make_finished_visit(alpha)
    with schema_context(alpha.clinic.schema_name):
        # The task ended without the sender finishing (a failure outside its guard).
        DBTaskResult.objects.all().update(status="FAILED")
        assert outbox.wake_waiting() == 1
        assert outbox.wake_waiting() == 0  # it has one now
    assert _tasks(alpha, made.visit.pk) == 1
    assert _send(alpha, made.visit.pk) == "sent"
    with schema_context(alpha.clinic.schema_name):
        assert outbox.wake_waiting() == 0  # nothing left to send


def test_the_sweep_leaves_visits_whose_wait_is_not_over(alpha, ready):
    made = make_finished_visit(alpha)
    later = timezone.now() + datetime.timedelta(minutes=5)
    with schema_context(alpha.clinic.schema_name):
        DBTaskResult.objects.all().delete()
        VisitSend.objects.update(next_attempt_at=later)
        assert outbox.wake_waiting() == 0
        VisitSend.objects.update(next_attempt_at=None)
        Connection.objects.update(hold_code="unavailable", hold_until=later)
        assert outbox.wake_waiting() == 0  # the clinic is held
        Connection.objects.update(hold_until=timezone.now() - datetime.timedelta(seconds=1))
        assert outbox.wake_waiting() == 1
    assert _send(alpha, made.visit.pk) == "sent"


def test_the_worker_sweeps_a_waiting_visit_into_satusehat(alpha, ready):
    from tests.satusehat.standin import run_worker

    made = make_finished_visit(alpha)
    with schema_context(alpha.clinic.schema_name):
        DBTaskResult.objects.all().delete()
    run_worker(alpha)
    assert _state(alpha, made.visit.pk).state == "sent"
    assert len(ready.stored("Encounter")) == 1


def test_a_drug_without_its_kfa_code_holds_back_only_itself(alpha, ready, settings):
    settings.LANGUAGE_CODE = "en"
    made = make_finished_visit(
        alpha,
        prescriptions=[
            {"drug": "Paracetamol 500 mg", "dose": "500 mg", "frequency": "3x sehari"},
            {"drug": "Amoxicillin 500 mg", "dose": "500 mg", "frequency": "3x sehari"},
        ],
    )
    assert _send(alpha, made.visit.pk) == "failed: no_kfa"
    state = _state(alpha, made.visit.pk)
    assert "Amoxicillin 500 mg" in state.reason_texts["en"]
    assert "Amoxicillin 500 mg" in state.reason_texts["id"]
    # The rest of the visit reached SATUSEHAT; the unmapped drug and its request wait.
    assert len(ready.stored("Encounter")) == 1
    assert len(ready.stored("Observation")) == 8
    assert [m["code"]["text"] for m in ready.stored("Medication")] == ["Paracetamol 500 mg"]
    assert len(ready.stored("MedicationRequest")) == 1
    with schema_context(alpha.clinic.schema_name):
        owner = User.objects.get(email=alpha.email(Role.OWNER))
        assert kfa_code_set(drug="Amoxicillin 500 mg", code="93000125", display="Amoxicillin 500 mg Kapsul", by=owner)
    assert _send(alpha, made.visit.pk) == "sent"
    assert len(ready.stored("Medication")) == 2
    assert len(ready.stored("MedicationRequest")) == 2
    assert len(ready.stored("Encounter")) == 1


def test_allergies_edited_after_sending_queue_the_latest_sent_visit(alpha, ready):
    made = make_finished_visit(alpha)
    assert _send(alpha, made.visit.pk) == "sent"
    with schema_context(alpha.clinic.schema_name):
        patient = Patient.objects.get(pk=made.visit.patient_id)
        services.record_update(
            instance=patient,
            actor=actor_of(alpha, Role.DOCTOR),
            changes={"allergies": "Amoksisilin (ruam kulit); udang"},
        )
    state = _state(alpha, made.visit.pk)
    assert (state.state, state.wanted, state.sent) == ("queued", 2, 1)


def test_an_export_is_built_by_one_worker_at_a_time(alpha):
    with schema_context(alpha.clinic.schema_name):
        row = Export.objects.create()
        key = export._export_lock_key(row.pk)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        with schema_context(alpha.clinic.schema_name):
            assert export.build_export_once(row.pk) == "busy"
            assert Export.objects.get(pk=row.pk).state == "queued"
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])  # that worker is done
    finally:
        other.close()
    with schema_context(alpha.clinic.schema_name):
        assert export.build_export_once(row.pk) == "built"
        assert Export.objects.get(pk=row.pk).state == "done"
        assert export.build_export_once(row.pk) == "built already"


# --- races between workers, found in review -----------------------------------------------------------


def test_an_export_taken_back_while_building_is_built_even_if_its_first_worker_dies(alpha, settings):
    from tests.satusehat.standin import run_worker

    with schema_context(alpha.clinic.schema_name):
        owner = User.objects.get(email=alpha.email(Role.OWNER))
        row = export.export_start(by=owner)
        Export.objects.filter(pk=row.pk).update(state=Export.State.RUNNING)  # worker 1 is building it
        DBTaskResult.objects.filter(task_path="satusehat.tasks.make_export").update(
            status="RUNNING", started_at=timezone.now() - datetime.timedelta(seconds=settings.TASK_LEASE_SECONDS + 5)
        )
        key = export._export_lock_key(row.pk)
    worker1 = connections.create_connection("default")
    try:
        with worker1.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        run_worker(alpha, until_seconds=5)  # worker 2 takes the task back: busy, and looks again later
        with schema_context(alpha.clinic.schema_name):
            assert Export.objects.get(pk=row.pk).state == Export.State.RUNNING
            later = DBTaskResult.objects.filter(task_path="satusehat.tasks.make_export", status="READY")
            assert later.count() == 1
            later.update(run_after=timezone.now())  # the time has come
        with worker1.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])  # worker 1 dies
    finally:
        worker1.close()
    run_worker(alpha, until_seconds=5)
    with schema_context(alpha.clinic.schema_name):
        assert Export.objects.get(pk=row.pk).state == Export.State.DONE


def test_a_create_lost_with_a_killed_worker_then_voided_is_found_and_retracted(alpha, ready):
    made = make_finished_visit(alpha)
    ready.fail_next(r"^/Encounter$", "lost", method="POST")
    assert _send(alpha, made.visit.pk) == "retry"
    [encounter] = _eventually(lambda: ready.stored("Encounter"))
    with schema_context(alpha.clinic.schema_name):
        # A killed worker leaves no event of its try, and no hold.
        SendEvent.objects.filter(visit_id=made.visit.pk).delete()
        Connection.objects.update(hold_code="", hold_since=None, hold_until=None, hold_tries=0)
        services.record_void(instance=made.visit, actor=actor_of(alpha, Role.DOCTOR), reason="Pasien salah")
        VisitSend.objects.filter(visit_id=made.visit.pk).update(next_attempt_at=None)
    assert _send(alpha, made.visit.pk) == "sent"
    [stored] = ready.stored("Encounter")
    assert (stored["id"], stored["status"]) == (encounter["id"], "entered-in-error")


def test_a_try_with_the_old_secret_does_not_hold_the_clinic_after_the_owner_saved_the_right_one(
    alpha, ready, monkeypatch
):
    connect(alpha, ready, client_secret="secret-lama-yang-sudah-dicabut")
    made = make_finished_visit(alpha)
    original = Client._new_token

    def owner_saves_meanwhile(self):
        connect(alpha, ready)  # the owner enters the right secret while this try asks for a token
        return original(self)

    monkeypatch.setattr(Client, "_new_token", owner_saves_meanwhile)
    assert _send(alpha, made.visit.pk) == "connection changed"
    monkeypatch.setattr(Client, "_new_token", original)
    with schema_context(alpha.clinic.schema_name):
        assert Connection.objects.get().hold_code == ""
    assert _send(alpha, make_finished_visit(alpha).visit.pk) == "sent"
    with schema_context(alpha.clinic.schema_name):
        outbox.wake_waiting()
    assert _tasks(alpha, made.visit.pk) >= 1  # the first visit still has a task to go with
    assert _send(alpha, made.visit.pk) == "sent"


def test_a_try_already_under_way_does_not_end_a_hold_that_began_after_it(alpha, ready, monkeypatch):
    made = make_finished_visit(alpha)
    original = Client.create
    fired = []

    def rate_limited_meanwhile(self, resource_type, resource):
        if not fired:
            fired.append(True)  # another worker's request meets 429 with Retry-After: 3600
            hold.hold_unavailable(self.connection, Retryable("429", retry_after=3600, status=429), timezone.now())
        return original(self, resource_type, resource)

    monkeypatch.setattr(Client, "create", rate_limited_meanwhile)
    assert _send(alpha, made.visit.pk) == "sent"
    with schema_context(alpha.clinic.schema_name):
        row = Connection.objects.get()
    assert row.hold_code == "unavailable"
    assert row.hold_until - timezone.now() > datetime.timedelta(minutes=55)
    # A later failure of a try in flight before it does not shorten it either.
    with schema_context(alpha.clinic.schema_name):
        early = timezone.now() - datetime.timedelta(minutes=1)
        hold.hold_unavailable(row, Retryable("500", status=500), early)
        again = Connection.objects.get()
    assert again.hold_until == row.hold_until
    assert again.hold_tries == row.hold_tries


def test_a_probe_satusehat_answered_ends_the_hold_though_the_visit_failed(alpha, ready):
    bad = make_finished_visit(alpha, patient={"nik": "3174014403920005", "birth_date": "1992-03-04"})
    good = make_finished_visit(alpha)
    _hold_is_up(alpha)
    assert _send(alpha, bad.visit.pk) == "failed: patient_unknown"  # SATUSEHAT answered the search
    assert _send(alpha, good.visit.pk) == "sent"


def test_a_probe_that_asked_satusehat_nothing_hands_the_probe_back(alpha, ready):
    no_nik = make_finished_visit(alpha, patient={"nik": ""})
    _hold_is_up(alpha)
    assert _send(alpha, no_nik.visit.pk) == "failed: no_nik"
    with schema_context(alpha.clinic.schema_name):
        row = Connection.objects.get()
    assert row.hold_code == "unavailable"  # nothing learnt of SATUSEHAT...
    assert row.hold_until <= timezone.now()  # ...so the next try probes at once
