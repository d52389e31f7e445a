"""Sending one finished visit (or its amendment, or its void) to SATUSEHAT, exactly once.

`send_visit` runs in the worker, in the clinic's schema. One worker at a time sends a visit (a
PostgreSQL advisory lock per visit); the visit's `VisitSend` row is read and written in short
transactions, never held across HTTP calls. A resource SATUSEHAT created is recorded at once
(`RemoteResource`), and before creating one the sender asks SATUSEHAT for its identifier, so a create
whose answer was lost is found again instead of made twice. A resend updates (PUT) what exists.

Outcomes: sent; retried later with a growing wait (network trouble, timeouts, 5xx, 429), failed after
`MAX_ATTEMPTS`; failed at once, with what to do, when something on our side must change first (no
connection, no NIK, a problem the checks find) or SATUSEHAT refused the data. A failed visit is sent
again when its record changes, when the connection or the patient's NIK is set, or by `retry_failed`.
"""

import datetime
import hashlib
import logging
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from records.models import Diagnosis, Patient, Prescription, Visit
from satusehat import checks, fhir, selectors
from satusehat.client import Client, NotConnected, Refused, Retryable
from satusehat.models import Connection, IhsNumber, Reason, RemoteResource, SendEvent, VisitSend

logger = logging.getLogger("satusehat.sender")

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 3600
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


def backoff_seconds(attempts: int, retry_after: float | None) -> float:
    """How long to wait before try number `attempts + 1`: SATUSEHAT's Retry-After when it gave one,
    else base·2^attempts up to an hour, with up to a fifth more at random so retries spread out."""
    if retry_after is not None:
        return retry_after
    base = float(settings.SATUSEHAT_BACKOFF_SECONDS)
    wait = min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    return wait + random.uniform(0, wait / 5)


def _enqueue(visit_id: uuid.UUID, at: datetime.datetime) -> None:
    from satusehat.tasks import send_visit as task

    task.using(run_after=at).enqueue(str(visit_id))


@dataclass(frozen=True)
class Start:
    wanted: int
    attempts: int


def _begin(visit_id: uuid.UUID) -> Start | str:
    """Read the visit's send state; a string when there is nothing to do."""
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
        row.last_attempt_at = timezone.now()
        row.save(update_fields=["last_attempt_at"])
        return Start(wanted=row.wanted, attempts=row.attempts)


def _finish_sent(visit_id: uuid.UUID, start: Start, message: str) -> str:
    now = timezone.now()
    with transaction.atomic():
        row = VisitSend.objects.select_for_update().get(visit_id=visit_id)
        row.sent = max(row.sent, start.wanted)
        if row.sent >= row.wanted:
            row.state = VisitSend.State.SENT
            row.attempts = 0
            row.reason_code = ""
            row.reason = ""
            row.next_attempt_at = None
            row.failed_at = None
        # else: changed while we sent; the change queued its own task, and the row stays queued.
        row.sent_at = now
        row.save()
        SendEvent.objects.create(visit_id=visit_id, at=now, outcome="sent", message=message)
    return "sent"


def _finish_failed(visit_id: uuid.UUID, start: Start, code: str, message: str) -> str:
    now = timezone.now()
    with transaction.atomic():
        row = VisitSend.objects.select_for_update().get(visit_id=visit_id)
        row.attempts += 1  # a try that failed at once is a try (the failures page shows them)
        if row.wanted == start.wanted:
            row.state = VisitSend.State.FAILED
            row.failed_at = now
            row.next_attempt_at = None
        # else: the record changed while we sent; its own task tries again (it may mend this).
        row.reason_code = code
        row.reason = message
        row.save()
        SendEvent.objects.create(visit_id=visit_id, at=now, outcome="failed", reason_code=code, message=message)
    return f"failed: {code}"


def _finish_retry(visit_id: uuid.UUID, start: Start, error: Retryable) -> str:
    now = timezone.now()
    with transaction.atomic():
        row = VisitSend.objects.select_for_update().get(visit_id=visit_id)
        row.attempts += 1
        if row.attempts >= MAX_ATTEMPTS:
            message = _("SATUSEHAT could not be reached after %(count)d tries. Last: %(error)s") % {
                "count": row.attempts,
                "error": error.message,
            }
            row.state = VisitSend.State.FAILED
            row.reason_code = Reason.UNAVAILABLE
            row.reason = message
            row.failed_at = now
            row.next_attempt_at = None
            row.save()
            SendEvent.objects.create(
                visit_id=visit_id, at=now, outcome="failed", reason_code=Reason.UNAVAILABLE, message=message
            )
            return "failed: unavailable"
        row.next_attempt_at = now + datetime.timedelta(seconds=backoff_seconds(row.attempts, error.retry_after))
        row.reason_code = Reason.UNAVAILABLE
        row.reason = error.message
        row.save()
        SendEvent.objects.create(
            visit_id=visit_id, at=now, outcome="retry", reason_code=Reason.UNAVAILABLE, message=error.message
        )
        _enqueue(visit_id, row.next_attempt_at)
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
    rows = RemoteResource.objects.filter(local_key__in={key for _type, key in keys})
    return {(row.resource_type, row.local_key): row for row in rows if (row.resource_type, row.local_key) in set(keys)}


def _check_people(visit: Visit, client: Client) -> None:
    patient = visit.patient
    if not patient.nik:
        raise CannotSendError(
            Reason.NO_NIK,
            _(
                "The patient %(name)s has no NIK. Fill in the NIK in the patient's details; the visit is then "
                "sent by itself."
            )
            % {"name": patient.full_name},
        )
    if not client.search_by_nik("Patient", patient.nik):
        raise CannotSendError(
            Reason.PATIENT_UNKNOWN,
            _(
                "SATUSEHAT does not know the NIK %(nik)s of %(name)s. Check the NIK against the patient's KTP "
                "and correct it (the visit is then sent by itself); if it is right, the patient first registers "
                "with SATUSEHAT, then retry the visit."
            )
            % {"nik": patient.nik, "name": patient.full_name},
        )
    doctor = visit.practitioner
    if doctor is None:
        raise CannotSendError(
            Reason.NO_PRACTITIONER,
            _("The visit has no practitioner. Choose the doctor who saw the patient (an amendment), then retry."),
        )
    if not (doctor.nik or "").strip():
        raise CannotSendError(
            Reason.PRACTITIONER_NO_NIK,
            _("%(name)s has no NIK. The clinic's owner fills it in on the staff settings page, then retries the visit.")
            % {"name": doctor.full_name},
        )
    if not client.search_by_nik("Practitioner", doctor.nik.strip()):
        raise CannotSendError(
            Reason.PRACTITIONER_UNKNOWN,
            _(
                "SATUSEHAT does not know %(name)s by the NIK %(nik)s. The clinic's owner checks the NIK on the "
                "staff settings page (it must match the one registered with SATUSEHAT SDMK), then retries the "
                "visit."
            )
            % {"name": doctor.full_name, "nik": doctor.nik},
        )


def _order(builts: list[fhir.Built]) -> list[fhir.Built]:
    return sorted(builts, key=lambda built: SEND_ORDER.get(built.resource_type, 2))


def _fill(value: Any, known: dict[str, str]) -> Any:
    """The resource with placeholders "urn:local:<Type>:<key>" replaced by "<Type>/<remote id>"."""
    if isinstance(value, dict):
        return {key: _fill(item, known) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, known) for item in value]
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        if value not in known:
            raise CannotSendError(
                Reason.INVALID, _("A resource points at %(ref)s, which was not sent.") % {"ref": value}
            )
        return known[value]
    return value


def _own_identifier(resource: dict) -> tuple[str, str] | None:
    """The clinic's identifier of a resource (system and value), by which SATUSEHAT finds it."""
    for identifier in resource.get("identifier") or []:
        system, value = identifier.get("system", ""), identifier.get("value", "")
        if system.startswith(fhir.IDENTIFIER_BASE + "/") and value:
            return system, value
    return None


def _remember(built: fhir.Built, visit_id: uuid.UUID, remote_id: str) -> RemoteResource:
    """Record at once (its own transaction) a resource SATUSEHAT holds, so a crash right after keeps it."""
    with transaction.atomic():
        row, _created = RemoteResource.objects.update_or_create(
            resource_type=built.resource_type,
            local_key=built.local_key,
            defaults={"visit_id": visit_id, "remote_id": remote_id, "sent_at": timezone.now()},
        )
    return row


def _send_resources(visit: Visit, builts: list[fhir.Built], client: Client) -> int:
    """Create or update each resource in order; how many were sent."""
    remote = _remote([(built.resource_type, built.local_key) for built in builts])
    known = {placeholder(t, key): f"{t}/{row.remote_id}" for (t, key), row in remote.items()}
    sent = 0
    for built in _order(builts):
        row = remote.get((built.resource_type, built.local_key))
        if built.retract:
            # A voided record: only a resource SATUSEHAT holds is retracted; nothing new is created.
            if row is None or row.retracted:
                continue
            client.update(built.resource_type, row.remote_id, _fill(built.resource, known))
            RemoteResource.objects.filter(pk=row.pk).update(retracted=True, sent_at=timezone.now())
            sent += 1
            continue
        resource = _fill(built.resource, known)
        if row is None:
            identifier = _own_identifier(resource)
            found = client.find_by_identifier(built.resource_type, *identifier) if identifier else None
            if found:
                row = _remember(built, visit.pk, found)
                client.update(built.resource_type, found, resource)
            else:
                row = _remember(built, visit.pk, client.create(built.resource_type, resource))
            remote[(built.resource_type, built.local_key)] = row
        else:
            client.update(built.resource_type, row.remote_id, resource)
            RemoteResource.objects.filter(pk=row.pk).update(sent_at=timezone.now())
        known[placeholder(built.resource_type, built.local_key)] = f"{built.resource_type}/{row.remote_id}"
        sent += 1
    return sent


# --- the task -----------------------------------------------------------------------------------------


def send_visit(visit_id: uuid.UUID) -> str:
    """Send the visit if it is behind; what happened ("sent", "retry", "failed: <code>", "busy",
    "up to date"...)."""
    with visit_lock(visit_id) as held:
        if not held:
            # Another worker is sending it: try again shortly, so a change it did not see is not lost.
            wait = max(1.0, backoff_seconds(1, None))
            _enqueue(visit_id, timezone.now() + datetime.timedelta(seconds=wait))
            return "busy"
        with translation.override(settings.LANGUAGE_CODE):
            return _send(visit_id)


def _send(visit_id: uuid.UUID) -> str:
    start = _begin(visit_id)
    if isinstance(start, str):
        return start
    visit = _load_visit(visit_id)
    if visit is None:
        return _finish_failed(visit_id, start, Reason.INVALID, _("The visit is not in the clinic's records."))
    if visit.is_voided and not RemoteResource.objects.filter(visit_id=visit_id).exists():
        return _finish_sent(visit_id, start, _("Voided before it was sent: nothing to send."))
    conn = Connection.objects.order_by("pk").first()
    if conn is None:
        return _finish_failed(
            visit_id,
            start,
            Reason.NOT_CONNECTED,
            _(
                "SATUSEHAT is not connected yet. The clinic's owner enters the clinic's SATUSEHAT credentials "
                "on the SATUSEHAT settings page; waiting visits are then sent by themselves."
            ),
        )
    client = Client(conn)
    try:
        _check_people(visit, client)
        kfa = selectors.kfa_codes(p.drug for p in visit.prescriptions.all())
        builts = fhir.visit_resources(visit, SatusehatRefs(conn, client), kfa=kfa)
        problems = checks.visit_problems(builts)
        if problems:
            return _finish_failed(visit_id, start, Reason.INVALID, "\n".join(problems))
        count = _send_resources(visit, builts, client)
    except CannotSendError as stop:
        return _finish_failed(visit_id, start, stop.code, stop.message)
    except NotConnected as exc:
        return _finish_failed(visit_id, start, Reason.NOT_CONNECTED, exc.message)
    except Refused as exc:
        return _finish_failed(
            visit_id, start, Reason.REFUSED, _("SATUSEHAT refused the visit: %(message)s") % {"message": exc.message}
        )
    except Retryable as exc:
        return _finish_retry(visit_id, start, exc)
    except Exception:
        # A fault of ours (a bug): logged with its trace, retried like a network fault so it is not lost.
        logger.exception("Sending visit %s to SATUSEHAT failed unexpectedly", visit_id)
        return _finish_retry(visit_id, start, Retryable(_("An unexpected error occurred while sending.")))
    finally:
        client.close()
    return _finish_sent(visit_id, start, _("%(count)d resource(s) sent.") % {"count": count})


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
