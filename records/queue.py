"""The day's queue (antrian): numbers given by the server, the calls a waiting-room display shows, and
the display links the owner hands out.

A visit joins the queue when it is checked in (`arrived_at`). Its number is given by the server when it
first learns of the check-in, in the order it learns of them: a device checking patients in offline
shows "number pending" until it syncs, so two front-desk devices offline never give the same number.
Numbers count per clinic day, and per practitioner where the owner asks for a queue per practitioner.
Where a visit stands (waiting, called, in consultation, done, left) follows from its own fields; the
app and the display read it from there.
"""

import contextlib
import datetime
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from records.models import DisplayLink, QueueCounter, Visit
from tenants.accounts.models import User
from tenants.models import Clinic

DISPLAY_CALLS = 6  # the calls a display shows: the newest large, the ones before it smaller


def _clinic() -> Clinic | None:
    """The clinic being served: the request's (middleware), else the one whose schema is in use."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Clinic):
        return tenant
    return Clinic.objects.filter(schema_name=connection.schema_name).first()


def queue_key(visit: Visit, per_practitioner: bool) -> int:
    """Which count a visit's number comes from: the clinic's (0) or its practitioner's."""
    return (visit.practitioner_id or 0) if per_practitioner else 0


def number_visit(visit: Visit, *, moved: bool = False) -> None:
    """Give a checked-in visit its number and day, in the writing transaction (the counter's row stays
    locked until it commits, so numbers follow commit order and are never given twice). A visit keeps
    its number, unless the clinic numbers each doctor's queue apart and the patient `moved` to another
    doctor: then they join the end of that doctor's queue with its next number (two patients of one
    doctor never share a number). In such a clinic a check-in names its doctor.

    Inside `numbers_at_end` (a device's batch) the number is given when the block ends, after every
    other lock the batch took: a batch holds the day's counter only from then to its commit, and two
    batches never wait on each other's rows and counter in opposite orders."""
    if visit.arrived_at is None:
        return
    clinic = _clinic()
    per_practitioner = bool(clinic and clinic.queue_per_practitioner)
    if per_practitioner and visit.practitioner_id is None:
        raise ValidationError(
            {"practitioner": [_("This clinic keeps a queue for each doctor: choose the doctor at check-in.")]}
        )
    if visit.queue_number is not None and not (moved and per_practitioner):
        return
    visit.queue_number = visit.queue_day = None
    pending = getattr(connection, "queue_pending", None)
    if pending is not None:
        pending.append(visit.pk)
        return
    visit.queue_day = timezone.localdate(visit.arrived_at)
    visit.queue_number = _next_number(visit.queue_day, queue_key(visit, per_practitioner))


def _next_number(day: datetime.date, key: int) -> int:
    table = QueueCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, practitioner_key, last_value) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (day, practitioner_key) DO UPDATE SET last_value = {table}.last_value + 1 "
            "RETURNING last_value",
            [day, key],
        )
        return cursor.fetchone()[0]


@contextlib.contextmanager
def numbers_at_end() -> Iterator[None]:
    """Inside a transaction: the visits checked in (or moved) in the block are numbered when it ends,
    in the order they were written. One whose write was rolled back (a refused mutation's savepoint) is
    found unnumbered no more, or not at all, and takes no number."""
    pending: list[object] = []
    connection.queue_pending = pending
    try:
        yield
    finally:
        connection.queue_pending = None
    if not pending:
        return
    clinic = _clinic()
    per_practitioner = bool(clinic and clinic.queue_per_practitioner)
    waiting = Visit.objects.filter(pk__in=pending, queue_number__isnull=True, arrived_at__isnull=False).only(
        "arrived_at", "practitioner_id"
    )
    by_id = {visit.pk: visit for visit in waiting}
    for visit_id in dict.fromkeys(pending):  # in order, once each
        visit = by_id.get(visit_id)
        if visit is None:
            continue
        day = timezone.localdate(visit.arrived_at)
        number = _next_number(day, queue_key(visit, per_practitioner))
        Visit.objects.filter(pk=visit_id).update(queue_number=number, queue_day=day)


# --- the waiting-room display ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One call as a display shows it: never more of the patient than a first name, and that only
    where the owner allowed it."""

    key: str  # changes with every call, "call again" included: the display speaks each new key once
    number: int
    practitioner: str
    first_name: str
    called_at: datetime.datetime


def _first_name(full_name: str) -> str:
    return full_name.split()[0] if full_name.split() else ""


def calls_today(*, first_names: bool, limit: int = DISPLAY_CALLS) -> list[Call]:
    """Today's calls, newest first (a call again moves a number back to the top)."""
    visits = (
        Visit.objects.filter(queue_day=timezone.localdate(), called_at__isnull=False, voided_at__isnull=True)
        .select_related("practitioner", *(["patient"] if first_names else []))
        .order_by("-called_at", "id")[:limit]
    )
    return [
        Call(
            key=f"{visit.queue_number}-{visit.practitioner_id or 0}-{visit.called_at.isoformat()}",
            number=visit.queue_number,
            practitioner=visit.practitioner.full_name if visit.practitioner else "",
            first_name=_first_name(visit.patient.full_name) if first_names else "",
            called_at=visit.called_at,
        )
        for visit in visits
    ]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def display_link_create(*, label: str, user: User) -> tuple[DisplayLink, str]:
    """A new display link and its secret, which is shown once (only its hash is kept)."""
    token = secrets.token_urlsafe(24)
    link = DisplayLink.objects.create(label=label.strip(), token_hash=_hash(token), created_by=user)
    return link, token


def display_link_revoke(*, link: DisplayLink, user: User) -> None:
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by = timezone.now(), user
        link.save(update_fields=["revoked_at", "revoked_by"])


def display_link_for(token: str) -> DisplayLink | None:
    """The link behind a display's token, or None if unknown or revoked."""
    if not token or len(token) > 100:
        return None
    return DisplayLink.objects.filter(token_hash=_hash(token), revoked_at__isnull=True).first()


def display_link_used(link: DisplayLink) -> None:
    """Note when a display last asked (shown to the owner), at most once a minute per display."""
    now = timezone.now()
    if link.last_used_at is None or now - link.last_used_at > datetime.timedelta(minutes=1):
        DisplayLink.objects.filter(pk=link.pk).update(last_used_at=now)


def display_links() -> list[DisplayLink]:
    return list(DisplayLink.objects.select_related("created_by", "revoked_by"))
