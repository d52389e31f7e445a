"""Queueing a visit for SATUSEHAT in the transaction that finished or amended it.

The record's signals are sent inside the writing transaction, so the visit's `VisitSend` row and its
task (django-tasks' database backend writes a row in the clinic's schema) commit or roll back with the
change: a crash loses no send, and a change rolled back sends nothing.

A visit is queued when it is written finished, when a finished visit or one of its parts is changed,
added to or voided (an amendment: the update is sent), and when a voided visit had been sent. A
patient whose NIK is added or corrected has their visits queued again; one whose allergies change,
their latest sent visit (it carries them).

`wake_waiting` is the worker's sweep: a queued visit whose wait is over and that has no task (it waited
for the connection or the clinic's hold, or its task died outside the sender) gets one.
"""

import datetime
import uuid
from collections.abc import Iterable

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from records.models import Diagnosis, Prescription, Visit, VitalSigns
from records.signals import record_written, records_created_in_bulk
from satusehat.models import Connection, Reason, VisitSend

SEND_TASK = "satusehat.tasks.send_visit"
# A sweep gives tasks to at most this many visits (the next sweep takes the rest).
WAKE_LIMIT = 500

PARTS = {"diagnosis": Diagnosis, "vitals": VitalSigns, "prescription": Prescription}


def queue_visits(visit_ids: Iterable[uuid.UUID]) -> None:
    """Mark each visit as wanting a send (one more than before) and queue its task, in the caller's
    transaction."""
    from satusehat.tasks import send_visit

    ids = sorted(set(visit_ids))
    if not ids:
        return
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO satusehat_visitsend (visit_id, state, wanted, sent, attempts, reason_code, reason, "
            "reason_texts, create_tried, queued_at, next_attempt_at) "
            "VALUES (%s, 'queued', 1, 0, 0, '', '', '{}', false, %s, %s) "
            "ON CONFLICT (visit_id) DO UPDATE SET wanted = satusehat_visitsend.wanted + 1, state = 'queued', "
            "attempts = 0, reason_code = '', reason = '', reason_texts = '{}', queued_at = EXCLUDED.queued_at, "
            "next_attempt_at = EXCLUDED.next_attempt_at, failed_at = NULL",
            [(visit_id, now, now) for visit_id in ids],
        )
    for visit_id in ids:
        send_visit.enqueue(str(visit_id))


def _finished_or_sent(visit_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The visits among these that are finished, or were sent before (a void must reach SATUSEHAT)."""
    if not visit_ids:
        return set()
    finished = set(Visit.objects.filter(pk__in=visit_ids, status=Visit.Status.FINISHED).values_list("pk", flat=True))
    known = set(VisitSend.objects.filter(visit_id__in=visit_ids).values_list("visit_id", flat=True))
    return finished | known


def _visit_of(entity: str, record_id: uuid.UUID) -> uuid.UUID | None:
    if entity == "visit":
        return record_id
    model = PARTS.get(entity)
    if model is None:
        return None
    return model.objects.filter(pk=record_id).values_list("visit_id", flat=True).first()


def on_record_written(sender: object, *, entity: str, record_id: uuid.UUID, changed: dict, **_: object) -> None:
    if entity == "patient":
        if "nik" in changed:
            _requeue_patient(record_id)
        elif "allergies" in changed:
            _requeue_latest_sent(record_id)
        return
    visit_id = _visit_of(entity, record_id)
    if visit_id is not None:
        queue_visits(_finished_or_sent({visit_id}))


def on_records_created_in_bulk(sender: object, *, records: list[tuple[str, uuid.UUID]], **_: object) -> None:
    visits = {record_id for entity, record_id in records if entity == "visit"}
    for entity, model in PARTS.items():
        ids = [record_id for kind, record_id in records if kind == entity]
        if ids:
            visits |= set(model.objects.filter(pk__in=ids).values_list("visit_id", flat=True))
    queue_visits(_finished_or_sent(visits))


def _requeue_patient(patient_id: uuid.UUID) -> None:
    """A patient's NIK set or corrected: their visits that waited for it go, and those already sent
    are sent again (under the IHS number the new NIK finds)."""
    visits = set(Visit.objects.filter(patient_id=patient_id).values_list("pk", flat=True))
    queue_visits(_finished_or_sent(visits))


def _requeue_latest_sent(patient_id: uuid.UUID) -> None:
    """A patient's allergies changed: their latest visit that reached SATUSEHAT carries them again."""
    sent = VisitSend.objects.filter(sent__gt=0).values_list("visit_id", flat=True)
    latest = (
        Visit.objects.filter(patient_id=patient_id, status=Visit.Status.FINISHED, pk__in=sent)
        .order_by("-started_at")
        .values_list("pk", flat=True)
        .first()
    )
    if latest is not None:
        queue_visits([latest])


def queue_failed(reasons: tuple[str, ...]) -> int:
    """Queue the visits that failed for one of these reasons, once what they waited for is set (the
    connection, a practitioner's NIK, a drug's KFA code); how many."""
    failed = VisitSend.objects.filter(state=VisitSend.State.FAILED, reason_code__in=reasons)
    waiting = list(failed.values_list("visit_id", flat=True))
    queue_visits(waiting)
    return len(waiting)


def _with_task() -> set[str]:
    """The visits that have a send task waiting or running."""
    live = DBTaskResult.objects.filter(task_path=SEND_TASK, status__in=["READY", "RUNNING"])
    return {str((row.get("args") or [""])[0]) for row in live.values_list("args_kwargs", flat=True)}


def wait_over() -> int:
    """What held the clinic is over (connected, credentials mended, SATUSEHAT back): the visits that
    waited for it may go at once; how many."""
    waiting = VisitSend.objects.filter(state=VisitSend.State.QUEUED, reason_code__in=Reason.WAITING)
    return waiting.update(next_attempt_at=None)


def resume_waiting() -> None:
    """What held the clinic is over: the visits that waited go at once, and those that gave up waiting
    for an unreachable SATUSEHAT are queued again."""
    wait_over()
    queue_failed((Reason.UNAVAILABLE,))


def wake_waiting(now: datetime.datetime | None = None) -> int:
    """Give a task to each queued visit whose wait is over and that has none (while the clinic is
    connected and not held); how many. A task too many is harmless: the sender finds nothing to do."""
    from satusehat.hold import is_held
    from satusehat.tasks import send_visit

    now = now or timezone.now()
    conn = Connection.objects.order_by("pk").first()
    if conn is None or is_held(conn, now):
        return 0
    due = list(
        VisitSend.objects.filter(state=VisitSend.State.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("queued_at")
        .values_list("visit_id", flat=True)[: WAKE_LIMIT * 2]
    )
    if not due:
        return 0
    live = _with_task()
    woken = [visit_id for visit_id in due if str(visit_id) not in live][:WAKE_LIMIT]
    for visit_id in woken:
        send_visit.enqueue(str(visit_id))
    return len(woken)


record_written.connect(on_record_written, dispatch_uid="satusehat.outbox")
records_created_in_bulk.connect(on_records_created_in_bulk, dispatch_uid="satusehat.outbox.bulk")
