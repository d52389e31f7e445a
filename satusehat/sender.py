"""Sending one finished visit (or its amendment, or its void) to SATUSEHAT, exactly once.

`send_visit` runs in the worker, in the clinic's schema. One worker at a time sends a visit (a
PostgreSQL advisory lock per visit); the visit's `VisitSend` row is read and written in short
transactions, never held across HTTP calls. A resource SATUSEHAT created is recorded at once
(`RemoteResource`), and before creating one the sender asks SATUSEHAT for its identifier, so a create
whose answer was lost is found again instead of made twice (a void after such a loss too). A resend
updates (PUT) what exists.

Outcomes: sent; waiting, queued, for something outside the visit (no connection yet; SATUSEHAT down or
refusing the clinic's credentials: the clinic's hold, `satusehat.hold`); retried later (a fault of
ours), failed after `MAX_ATTEMPTS` tries that found SATUSEHAT down; failed at once, with what to do,
when the visit must change first (no NIK, a problem the checks find) or SATUSEHAT refused its data;
failed but sent without what waits on its own (a drug without its KFA code). A failed visit is sent
again when its record changes, when the patient's NIK, a practitioner's NIK or a KFA code is set, or
by `retry_failed`. Messages are kept in every language (`satusehat.reasons`).
"""

import datetime
import hashlib
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone, translation

from records.models import Diagnosis, Patient, Prescription, Visit
from satusehat import checks, fhir, hold, selectors
from satusehat.client import Client, NotConnected, Refused, Retryable
from satusehat.models import Connection, IhsNumber, Reason, RemoteResource, SendEvent, VisitSend
from satusehat.reasons import deferred, in_every_language, joined

logger = logging.getLogger("satusehat.sender")

MAX_ATTEMPTS = 8
PLACEHOLDER = "urn:local:"
# Medications go before the requests that point at them; the Encounter before everything.
SEND_ORDER = {"Encounter": 0, "Medication": 1}


class CannotSendError(Exception):
    """The visit cannot be sent until something changes on our side."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def placeholder(resource_type: str, local_key: str) -> str:
    return f"{PLACEHOLDER}{resource_type}:{local_key}"


class SatusehatRefs:
    """References by SATUSEHAT's ids: Patient/<IHS number>, Practitioner/<IHS number>, the clinic's
    location; the visit's own resources as placeholders the sender fills in just before sending."""

    def __init__(self, conn: Connection, client: Client) -> None:
        self.organization_id = conn.organization_id
        self._conn = conn
        self._client = client
        self._numbers: dict[tuple[str, str], str | None] = {}

    def _ihs_number(self, kind: str, nik: str) -> str | None:
        """The person's IHS number, asked once per send (each resource of the visit refers to them)."""
        nik = (nik or "").strip()
        if not nik:
            return None
        if (kind, nik) not in self._numbers:
            self._numbers[kind, nik] = self._client.search_by_nik(kind, nik)
        return self._numbers[kind, nik]

    def patient(self, patient: Patient) -> dict:
        number = self._ihs_number("Patient", patient.nik)
        if not number:
            return {"reference": placeholder("Patient", str(patient.pk)), "display": patient.full_name}
        return {"reference": f"Patient/{number}", "display": patient.full_name}

    def practitioner(self, user: Any) -> dict | None:
        """The practitioner's reference, or None when SATUSEHAT does not know them (an optional
        performer is left out; the visit's own practitioner is checked before mapping)."""
        number = self._ihs_number("Practitioner", getattr(user, "nik", "")) if user is not None else None
        if not number:
            return None
        return {"reference": f"Practitioner/{number}", "display": user.full_name}

    def encounter(self, visit: Visit) -> dict:
        return {"reference": placeholder("Encounter", str(visit.pk))}

    def medication(self, prescription: Prescription) -> dict:
        return {"reference": placeholder("Medication", f"{prescription.pk}:medication"), "display": prescription.drug}

    def condition(self, diagnosis: Diagnosis) -> dict:
        return {"reference": placeholder("Condition", str(diagnosis.pk)), "display": diagnosis.title}

    def location(self) -> dict | None:
        if not self._conn.location_id:
            return None
        reference = {"reference": f"Location/{self._conn.location_id}"}
        if self._conn.location_name:
            reference["display"] = self._conn.location_name
        return reference


# --- the lock and the bookkeeping -------------------------------------------------------------------


def _lock_key(visit_id: uuid.UUID) -> int:
    digest = hashlib.blake2b(f"satusehat:{db_connection.schema_name}:{visit_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def visit_lock(visit_id: uuid.UUID) -> Iterator[bool]:
    """Whether this worker holds the visit's advisory lock (a session lock: a killed worker's session
    ends, and the lock with it)."""
    key = _lock_key(visit_id)
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with db_connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _enqueue(visit_id: uuid.UUID, at: datetime.datetime) -> None:
    from satusehat.tasks import send_visit as task

    task.using(run_after=at).enqueue(str(visit_id))


@dataclass(frozen=True)
class Start:
    wanted: int
    started: datetime.datetime
    create_tried: bool  # an earlier try asked SATUSEHAT to create something (its answer may be lost)


class ConnectionChangedError(Exception):
    """The owner moved the clinic to another SATUSEHAT while this try ran: what it learnt is not valid
    there (the move queued the visit again)."""


def _begin(visit_id: uuid.UUID) -> Start | str:
    """Read the visit's send state; a string when there is nothing to do now."""
    with transaction.atomic():
        row = VisitSend.objects.select_for_update().filter(visit_id=visit_id).first()
        if row is None:
            return "nothing to send"
        if row.sent >= row.wanted:
            if row.state != VisitSend.State.SENT:
                row.state = VisitSend.State.SENT
                row.save(update_fields=["state"])
            return "up to date"
        if row.state == VisitSend.State.FAILED:
            return "failed"  # a leftover task: a failed visit waits for a change or a retry
        now = timezone.now()
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return "not yet"  # a leftover task: the visit's own task waits for its time
        row.last_attempt_at = now
        row.save(update_fields=["last_attempt_at"])
        return Start(wanted=row.wanted, started=now, create_tried=row.create_tried)


def _event(visit_id: uuid.UUID, at: datetime.datetime, outcome: str, code: str, message: object) -> None:
    texts = in_every_language(message) if message else {}
    SendEvent.objects.create(
        visit_id=visit_id, at=at, outcome=outcome, reason_code=code, message=str(message or ""), message_texts=texts
    )


def _set_reason(row: VisitSend, code: str, message: object) -> None:
    row.reason_code = code
    row.reason = str(message) if message else ""
    row.reason_texts = in_every_language(message) if message else {}


def _finish_sent(visit_id: uuid.UUID, start: Start, message: object) -> str:
    now = timezone.now()
    with transaction.atomic():
        row = VisitSend.objects.select_for_update().get(visit_id=visit_id)
        row.sent = max(row.sent, start.wanted)
        if row.sent >= row.wanted:
            row.state = VisitSend.State.SENT
            row.attempts = 0
            _set_reason(row, "", "")
            row.next_attempt_at = None
            row.failed_at = None
        # else: changed while we sent; the change queued its own task, and the row stays queued.
        row.sent_at = now
        row.save()
        _event(visit_id, now, "sent", "", message)
    return "sent"


def _finish_failed(visit_id: uuid.UUID, start: Start, code: str, message: object) -> str:
    now = timezone.now()
    with transaction.atomic():
        row = VisitSend.objects.select_for_update().get(visit_id=visit_id)
        row.attempts += 1  # a try that failed at once is a try (the failures page shows them)
        if row.wanted == start.wanted:
            row.state = VisitSend.State.FAILED
            row.failed_at = now
            row.next_attempt_at = None
        # else: the record changed while we sent; its own task tries again (it may mend this).
        _set_reason(row, code, message)
        row.save()
        _event(visit_id, now, "failed", code, message)
    return f"failed: {code}"


def _wait(
    visit_id: uuid.UUID, code: str, texts: dict[str, str] | None, message: object, until: datetime.datetime | None
) -> str:
    """The visit waits, queued, for something outside it (the connection, the clinic's hold): not a try,
    not a failure. The worker's sweep queues its task again when the wait is over."""
    with transaction.atomic():
        row = VisitSend.objects.select_for_update().get(visit_id=visit_id)
        if row.sent < row.wanted and row.state == VisitSend.State.QUEUED:
            row.reason_code = code
            row.reason = str(message) if message else ""
            row.reason_texts = texts if texts is not None else in_every_language(message)
            row.next_attempt_at = until
            row.save(update_fields=["reason_code", "reason", "reason_texts", "next_attempt_at"])
    return f"waiting: {code}"


def _finish_retry(visit_id: uuid.UUID, start: Start, error: Retryable, until: datetime.datetime | None) -> str:
    """A try that found SATUSEHAT down (the clinic is held `until`), or failed on a fault of ours
    (`until` None: the visit's own wait). A rate limit is not counted as the visit's try."""
    now = timezone.now()
    with transaction.atomic():
        row = VisitSend.objects.select_for_update().get(visit_id=visit_id)
        if not error.rate_limited:
            row.attempts += 1
        if row.attempts >= MAX_ATTEMPTS and row.wanted == start.wanted:
            message = deferred(
                "SATUSEHAT could not be reached after %(count)d tries. Last: %(error)s. The visit is tried "
                "again by itself once SATUSEHAT answers again.",
                count=row.attempts,
                error=error.message,
            )
            row.state = VisitSend.State.FAILED
            _set_reason(row, Reason.UNAVAILABLE, message)
            row.failed_at = now
            row.next_attempt_at = None
            row.save()
            _event(visit_id, now, "failed", Reason.UNAVAILABLE, message)
            return "failed: unavailable"
        if until is None:
            until = now + datetime.timedelta(seconds=hold.backoff_seconds(row.attempts, error.retry_after))
        row.next_attempt_at = until
        _set_reason(row, Reason.UNAVAILABLE, error.message)
        row.save()
        _event(visit_id, now, "retry", Reason.UNAVAILABLE, error.message)
        _enqueue(visit_id, until)
    return "retry"


# --- what to send -------------------------------------------------------------------------------------


def _load_visit(visit_id: uuid.UUID) -> Visit | None:
    return (
        Visit.objects.select_related("patient", "practitioner")
        .prefetch_related(*fhir.visit_parts())
        .filter(pk=visit_id)
        .first()
    )


def _remote(keys: list[tuple[str, str]]) -> dict[tuple[str, str], RemoteResource]:
    if not keys:
        return {}
    wanted = set(keys)
    rows = RemoteResource.objects.filter(local_key__in={key for _type, key in keys})
    return {(row.resource_type, row.local_key): row for row in rows if (row.resource_type, row.local_key) in wanted}


def _check_people(visit: Visit, client: Client) -> None:
    patient = visit.patient
    if not patient.nik:
        raise CannotSendError(
            Reason.NO_NIK,
            deferred(
                "The patient %(name)s has no NIK. Fill in the NIK in the patient's details; the visit is then "
                "sent by itself.",
                name=patient.full_name,
            ),
        )
    if not client.search_by_nik("Patient", patient.nik):
        raise CannotSendError(
            Reason.PATIENT_UNKNOWN,
            deferred(
                "SATUSEHAT does not know the NIK %(nik)s of %(name)s. Check the NIK against the patient's KTP "
                "and correct it (the visit is then sent by itself); if it is right, the patient first registers "
                "with SATUSEHAT, then the clinic's owner retries the visit.",
                nik=patient.nik,
                name=patient.full_name,
            ),
        )
    doctor = visit.practitioner
    if doctor is None:
        raise CannotSendError(
            Reason.NO_PRACTITIONER,
            deferred(
                "The visit has no practitioner. Choose the doctor who saw the patient (an amendment); the visit is "
                "then sent by itself."
            ),
        )
    if not (doctor.nik or "").strip():
        raise CannotSendError(
            Reason.PRACTITIONER_NO_NIK,
            deferred(
                "%(name)s has no NIK. The clinic's owner fills it in on the staff settings page, then retries the "
                "visit.",
                name=doctor.full_name,
            ),
        )
    if not client.search_by_nik("Practitioner", doctor.nik.strip()):
        raise CannotSendError(
            Reason.PRACTITIONER_UNKNOWN,
            deferred(
                "SATUSEHAT does not know %(name)s by the NIK %(nik)s. The clinic's owner checks the NIK on the "
                "staff settings page (it must match the one registered with SATUSEHAT SDMK), then retries the "
                "visit.",
                name=doctor.full_name,
                nik=doctor.nik,
            ),
        )


def _order(builts: list[fhir.Built]) -> list[fhir.Built]:
    return sorted(builts, key=lambda built: SEND_ORDER.get(built.resource_type, 2))


def _placeholders(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _placeholders(item)
    elif isinstance(value, list):
        for item in value:
            yield from _placeholders(item)
    elif isinstance(value, str) and value.startswith(PLACEHOLDER):
        yield value


def _fill(value: Any, known: dict[str, str]) -> Any:
    """The resource with placeholders "urn:local:<Type>:<key>" replaced by "<Type>/<remote id>"."""
    if isinstance(value, dict):
        return {key: _fill(item, known) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, known) for item in value]
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        if value not in known:
            raise CannotSendError(
                Reason.INVALID, deferred("A resource points at %(ref)s, which was not sent.", ref=value)
            )
        return known[value]
    return value


def _encounter_for_now(resource: dict, known: dict[str, str]) -> tuple[dict, bool]:
    """The Encounter with only the diagnoses whose Conditions SATUSEHAT already holds (a Condition
    points at its Encounter, so a new visit's Encounter goes first, and again once they exist); and
    whether that is all of them."""
    diagnoses = resource.get("diagnosis") or []
    ready = [entry for entry in diagnoses if all(ref in known for ref in _placeholders(entry))]
    if len(ready) == len(diagnoses):
        return resource, True
    partial = {key: value for key, value in resource.items() if key != "diagnosis"}
    if ready:
        partial["diagnosis"] = ready
    return partial, False


def _remember(built: fhir.Built, visit_id: uuid.UUID, remote_id: str, conn: Connection) -> RemoteResource:
    """Record at once (its own transaction) a resource SATUSEHAT holds, so a crash right after keeps it;
    not if the clinic moved to another SATUSEHAT meanwhile (the connection row is locked against it)."""
    with transaction.atomic():
        same = Connection.objects.select_for_update().filter(
            pk=conn.pk, environment=conn.environment, organization_id=conn.organization_id
        )
        if not same.exists():
            raise ConnectionChangedError
        row, _created = RemoteResource.objects.update_or_create(
            resource_type=built.resource_type,
            local_key=built.local_key,
            defaults={"visit_id": visit_id, "remote_id": remote_id, "sent_at": timezone.now()},
        )
    return row


@dataclass
class Sending:
    """One send of a visit: what SATUSEHAT holds, and what was held back."""

    visit: Visit
    client: Client
    maybe_lost: bool  # an earlier try may have created resources whose answer never came back
    remote: dict[tuple[str, str], RemoteResource]
    known: dict[str, str]
    held: set[str]  # placeholders of resources held back (an optional one with a problem, refused)
    refused: list[object]
    sent: int = 0
    create_marked: bool = False


def _find(sending: Sending, built: fhir.Built) -> RemoteResource | None:
    """What SATUSEHAT holds under the resource's own identifier (a create whose answer was lost)."""
    found = sending.client.find_by_identifier(built.resource_type, *built.lookup) if built.lookup else None
    return _remember(built, sending.visit.pk, found, sending.client.connection) if found else None


def _retract(sending: Sending, built: fhir.Built, row: RemoteResource | None) -> None:
    """A voided record: only a resource SATUSEHAT holds is retracted; nothing new is created. After a
    try whose answer was lost, SATUSEHAT is asked first whether it holds one."""
    if row is None and sending.maybe_lost:
        row = _find(sending, built)
    if row is None:
        return
    sending.known[placeholder(built.resource_type, built.local_key)] = f"{built.resource_type}/{row.remote_id}"
    if row.retracted:
        return
    sending.client.update(built.resource_type, row.remote_id, _fill(built.resource, sending.known))
    RemoteResource.objects.filter(pk=row.pk).update(retracted=True, sent_at=timezone.now())
    sending.sent += 1


def _put(sending: Sending, built: fhir.Built, resource: dict) -> RemoteResource:
    """Create the resource, or update the one SATUSEHAT holds (known here, or found by its identifier)."""
    key = (built.resource_type, built.local_key)
    row = sending.remote.get(key)
    if row is None:
        row = _find(sending, built)
        if row is not None:
            sending.client.update(built.resource_type, row.remote_id, resource)
        else:
            _mark_create(sending)
            remote_id = sending.client.create(built.resource_type, resource)
            row = _remember(built, sending.visit.pk, remote_id, sending.client.connection)
        sending.remote[key] = row
    else:
        sending.client.update(built.resource_type, row.remote_id, resource)
        RemoteResource.objects.filter(pk=row.pk).update(sent_at=timezone.now())
    sending.known[placeholder(built.resource_type, built.local_key)] = f"{built.resource_type}/{row.remote_id}"
    sending.sent += 1
    return row


def _mark_create(sending: Sending) -> None:
    """Before the visit's first create: say so on its row (committed), so a void after an answer that
    never came (a timeout, a killed worker) asks SATUSEHAT what it holds."""
    if not sending.create_marked and not sending.maybe_lost:
        VisitSend.objects.filter(visit_id=sending.visit.pk).update(create_tried=True)
    sending.create_marked = True


def _send_one(sending: Sending, built: fhir.Built) -> fhir.Built | None:
    """Send one resource; the Encounter when it must be sent again once its Conditions exist."""
    if built.retract:
        _retract(sending, built, sending.remote.get((built.resource_type, built.local_key)))
        return None
    here = placeholder(built.resource_type, built.local_key)
    if here in sending.held or any(ref in sending.held for ref in _placeholders(built.resource)):
        sending.held.add(here)  # what points at a held resource waits with it
        return None
    resource, complete = built.resource, True
    if built.resource_type == "Encounter":
        resource, complete = _encounter_for_now(built.resource, sending.known)
    try:
        _put(sending, built, _fill(resource, sending.known))
    except Refused as exc:
        if not built.optional:
            raise
        sending.held.add(here)
        sending.refused.append(exc.message)
    return None if complete else built


def _send_resources(sending: Sending, builts: list[fhir.Built]) -> None:
    """Create or update each resource in order (the Encounter again at the end when its diagnoses could
    not be listed before their Conditions existed)."""
    keys = [(built.resource_type, built.local_key) for built in builts]
    sending.remote = _remote(keys)
    sending.known = {placeholder(t, key): f"{t}/{row.remote_id}" for (t, key), row in sending.remote.items()}
    again = None
    for built in _order(builts):
        again = _send_one(sending, built) or again
    if again is not None:
        encounter, _complete = _encounter_for_now(again.resource, sending.known)
        _put(sending, again, _fill(encounter, sending.known))
        sending.sent -= 1  # the same Encounter, counted once


# --- the task -----------------------------------------------------------------------------------------


def send_visit(visit_id: uuid.UUID) -> str:
    """Send the visit if it is behind; what happened ("sent", "retry", "waiting: <code>", "failed:
    <code>", "busy", "up to date"...)."""
    with visit_lock(visit_id) as held:
        if not held:
            # Another worker is sending it: try again shortly, so a change it did not see is not lost.
            wait = max(1.0, hold.backoff_seconds(1))
            _enqueue(visit_id, timezone.now() + datetime.timedelta(seconds=wait))
            return "busy"
        with translation.override(settings.LANGUAGE_CODE):
            return _send(visit_id)


NOT_CONNECTED_MESSAGE = (
    "SATUSEHAT is not connected yet. The clinic's owner enters the clinic's SATUSEHAT credentials on the "
    "SATUSEHAT settings page; waiting visits are then sent by themselves."
)


def _problems(builts: list[fhir.Built]) -> tuple[list[checks.Problem], list[checks.Problem], set[str]]:
    """The visit's problems: those that hold the whole visit, those of optional resources (held back
    alone), and the placeholders of those optional resources."""
    optional = {(built.resource_type, built.local_key) for built in builts if built.optional}
    blocking: list[checks.Problem] = []
    alone: list[checks.Problem] = []
    held: set[str] = set()
    for problem in checks.visit_problems_found(builts):
        key = (problem.resource_type, problem.local_key)
        if key in optional:
            alone.append(problem)
            held.add(placeholder(*key))
        else:
            blocking.append(problem)
    return blocking, alone, held


def _send(visit_id: uuid.UUID) -> str:
    start = _begin(visit_id)
    if isinstance(start, str):
        return start
    visit = _load_visit(visit_id)
    if visit is None:
        return _finish_failed(visit_id, start, Reason.INVALID, deferred("The visit is not in the clinic's records."))
    maybe_lost = start.create_tried
    if visit.is_voided and not maybe_lost and not RemoteResource.objects.filter(visit_id=visit_id).exists():
        return _finish_sent(visit_id, start, deferred("Voided before it was sent: nothing to send."))
    conn = Connection.objects.order_by("pk").first()
    if conn is None:
        return _wait(visit_id, Reason.NOT_CONNECTED, None, deferred(NOT_CONNECTED_MESSAGE), None)
    turn = hold.may_try(conn)
    if not turn:
        return _wait(visit_id, conn.hold_code, conn.hold_texts, "", conn.hold_until)
    client = Client(conn)
    try:
        return _try(visit, start, conn, client, turn)
    finally:
        client.close()


def _try(visit: Visit, start: Start, conn: Connection, client: Client, turn: str) -> str:
    """One try of the visit, and what it tells of SATUSEHAT: down (the clinic's hold), refusing the
    credentials, or up (answering, whatever it said of the visit: the hold ends)."""
    visit_id = visit.pk
    outcome: str | None = None
    try:
        _check_people(visit, client)
        kfa = selectors.kfa_codes(p.drug for p in visit.prescriptions.all())
        builts = fhir.visit_resources(visit, SatusehatRefs(conn, client), kfa=kfa)
        blocking, alone, held = _problems(builts)
        if blocking:
            outcome = _finish_failed(visit_id, start, Reason.INVALID, joined([p.message for p in blocking]))
        else:
            sending = Sending(visit, client, start.create_tried, {}, {}, held, [])
            _send_resources(sending, builts)
    except CannotSendError as stop:
        outcome = _finish_failed(visit_id, start, stop.code, stop.message)
    except NotConnected as exc:
        until = hold.hold_credentials(conn, exc.message)
        if until is None:
            return "connection changed"  # the owner saved new credentials meanwhile; the sweep sends it
        return _wait(visit_id, Reason.CREDENTIALS, None, exc.message, until)
    except Refused as exc:
        outcome = _finish_failed(
            visit_id, start, Reason.REFUSED, deferred("SATUSEHAT refused the visit: %(message)s", message=exc.message)
        )
    except Retryable as exc:
        return _finish_retry(
            visit_id, start, exc, hold.hold_unavailable(conn, exc, start.started, probing=turn == hold.PROBE)
        )
    except ConnectionChangedError:
        return "connection changed"
    except Exception:
        # A fault of ours (a bug): logged with its trace, retried like a network fault so it is not lost.
        logger.exception("Sending visit %s to SATUSEHAT failed unexpectedly", visit_id)
        outcome = _finish_retry(
            visit_id, start, Retryable(deferred("An unexpected error occurred while sending.")), None
        )
    if client.answered:
        hold.release(conn, start.started)
    elif turn == hold.PROBE:
        hold.hand_back(conn)
    return outcome if outcome is not None else _finished(visit_id, start, sending, alone)


def _finished(visit_id: uuid.UUID, start: Start, sending: Sending, alone: list[checks.Problem]) -> str:
    """Sent; or sent except what waits on its own (failed, with what to do). What is never sent by
    design (free-text allergies) is said, and is no failure."""
    noted = [problem.message for problem in alone if problem.code == Reason.ALLERGY_UNCODED]
    alone = [problem for problem in alone if problem.code != Reason.ALLERGY_UNCODED]
    sent = deferred("%(count)d resource(s) sent.", count=sending.sent)
    waiting = [problem.message for problem in alone] + [
        deferred("SATUSEHAT refused a part of the visit: %(message)s", message=message) for message in sending.refused
    ]
    waiting = list({str(message): message for message in waiting}.values())  # two lines of one drug: said once
    if not waiting:
        return _finish_sent(visit_id, start, joined([sent, *noted]) if noted else sent)
    if any(problem.code == Reason.NO_KFA for problem in alone):
        code = Reason.NO_KFA
    else:
        code = Reason.INVALID if alone else Reason.REFUSED
    return _finish_failed(visit_id, start, code, joined([deferred("Sent, except what waits:"), *waiting, *noted]))


def retry_failed(visit_ids: list[uuid.UUID] | None = None) -> int:
    """Queue failed visits again (these, or every failed one); how many."""
    from satusehat.outbox import queue_visits

    failed = VisitSend.objects.filter(state=VisitSend.State.FAILED)
    if visit_ids is not None:
        failed = failed.filter(visit_id__in=list(visit_ids))
    ids = list(failed.values_list("visit_id", flat=True))
    with transaction.atomic():
        if ids:
            # A retry asks SATUSEHAT again about NIKs it did not know (the person may have registered).
            IhsNumber.objects.filter(ihs_number="").delete()
        queue_visits(ids)
    return len(ids)
