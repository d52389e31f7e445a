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
from satusehat import export, outbox
from satusehat.kfa import kfa_code_set
from satusehat.models import Connection, Export, RemoteResource, VisitSend
from satusehat.sender import send_visit
from tenants.accounts.models import Role, User
from tests.satusehat import standin as standin_fixtures
from tests.satusehat.factories import actor_of, make_finished_visit
from tests.satusehat.standin import prepare

pytestmark = pytest.mark.django_db
satusehat_standin = standin_fixtures.satusehat_standin  # the stand-in's fixture, used by name


@pytest.fixture
def ready(alpha, satusehat_standin):
    prepare(alpha, satusehat_standin)
    return satusehat_standin


def _send(clinic, visit_id) -> str:
    with schema_context(clinic.clinic.schema_name):
        return send_visit(visit_id)


def _state(clinic, visit_id) -> VisitSend:
    with schema_context(clinic.clinic.schema_name):
        return VisitSend.objects.get(visit_id=visit_id)


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
        from satusehat import hold

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
