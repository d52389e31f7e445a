"""What the owner's SATUSEHAT pages and the app read: send counts (waiting apart from failed), the failed
visits page by page with their patients and latest tries, visits sent and failed per day, the clinic's
prescribed drugs with their KFA codes, visits' send states."""

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, When, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from records.models import Prescription, Visit
from satusehat.fhir import drug_key
from satusehat.models import Connection, Export, KfaCode, Reason, SendEvent, VisitSend

DAYS_SHOWN = 14


def state_counts() -> dict[str, int]:
    """How many visits are queued, sent and failed (every state present, 0 when none)."""
    counts = dict(VisitSend.objects.order_by().values_list("state").annotate(n=Count("pk")))
    return {state: counts.get(state, 0) for state in VisitSend.State.values}


def failed_sends() -> QuerySet[VisitSend]:
    """The failed sends, the latest failure first."""
    return VisitSend.objects.filter(state=VisitSend.State.FAILED).order_by("-failed_at", "visit_id")


def visits_by_id(visit_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Visit]:
    """The visits (with their patients), by id: a send row names its visit by id only."""
    visits = Visit.objects.filter(pk__in=list(visit_ids)).select_related("patient")
    return {visit.pk: visit for visit in visits}


@dataclass(frozen=True)
class DayCount:
    day: datetime.date
    sent: int
    failed: int
    retried: int


def tries_per_day(days: int = DAYS_SHOWN) -> list[DayCount]:
    """The tries of the last `days` days (today included, in the clinic's zone), newest first."""
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    rows = (
        SendEvent.objects.filter(at__gte=start)
        .annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values_list("day", "outcome")
        .annotate(n=Count("pk"))
    )
    found: dict[tuple[datetime.date, str], int] = {(day, outcome): n for day, outcome, n in rows}
    return [
        DayCount(
            day=day,
            sent=found.get((day, "sent"), 0),
            failed=found.get((day, "failed"), 0),
            retried=found.get((day, "retry"), 0),
        )
        for day in (today - datetime.timedelta(days=offset) for offset in range(days))
    ]


@dataclass(frozen=True)
class Drug:
    key: str  # drug_key of the drug as written: KfaCode.drug
    name: str  # the spelling written most often
    prescribed: int
    code: str
    display: str


def prescribed_drugs() -> list[Drug]:
    """The clinic's drugs as prescribed (not voided), folded as the sender looks them up, most
    prescribed first, each with its KFA code if the clinic mapped it. Counted by spelling in the
    database; a clinic writes some hundreds of spellings, so folding them here stays small."""
    spellings = (
        Prescription.objects.filter(voided_at__isnull=True).order_by().values_list("drug").annotate(n=Count("pk"))
    )
    totals: dict[str, int] = {}
    best: dict[str, tuple[int, str]] = {}
    for drug, n in spellings:
        key = drug_key(drug)
        totals[key] = totals.get(key, 0) + n
        if key not in best or n > best[key][0]:
            best[key] = (n, drug.strip())
    codes = {row.drug: row for row in KfaCode.objects.filter(drug__in=list(totals))}
    drugs = [
        Drug(
            key=key,
            name=best[key][1],
            prescribed=n,
            code=codes[key].code if key in codes else "",
            display=codes[key].display if key in codes else "",
        )
        for key, n in totals.items()
    ]
    return sorted(drugs, key=lambda drug: (-drug.prescribed, drug.key))


def kfa_codes(drugs: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
    """The clinic's KFA code and name of these drugs as written (every mapped drug when None), by
    `drug_key`: what `fhir.visit_resources` takes."""
    rows = KfaCode.objects.all()
    if drugs is not None:
        rows = rows.filter(drug__in={drug_key(drug) for drug in drugs})
    return {row.drug: (row.code, row.display) for row in rows}


def visit_states(visit_ids: list[uuid.UUID]) -> dict[uuid.UUID, VisitSend]:
    return {send.visit_id: send for send in VisitSend.objects.filter(visit_id__in=visit_ids)}


def recent_exports(limit: int = 5) -> QuerySet[Export]:
    return Export.objects.select_related("requested_by").order_by("-requested_at")[:limit]


def clinic_wait(conn: Connection | None) -> str:
    """What every queued visit of the clinic waits for, '' when nothing: Reason.NOT_CONNECTED (no
    connection yet), or the clinic's hold (Reason.CREDENTIALS, Reason.UNAVAILABLE) until it is released,
    its next try included."""
    if conn is None:
        return Reason.NOT_CONNECTED
    return conn.hold_code if conn.hold_code in Reason.WAITING else ""


def _waiting(wait: str) -> Q:
    """The queued visits that wait: all of them while the clinic waits, else those whose own try found
    SATUSEHAT down (they are tried again later by themselves)."""
    queued = Q(state=VisitSend.State.QUEUED)
    return queued if wait else queued & Q(reason_code=Reason.UNAVAILABLE)


def send_counts(wait: str = "") -> dict[str, int]:
    """How many visits are sent, queued to be sent, waiting (see `clinic_wait`: not a failure) and
    failed; every key present, 0 when none."""
    rows = (
        VisitSend.objects.order_by()
        .annotate(waiting=Case(When(_waiting(wait), then=True), default=False, output_field=BooleanField()))
        .values_list("state", "waiting")
        .annotate(n=Count("pk"))
    )
    counts = {"queued": 0, "waiting": 0, "sent": 0, "failed": 0}
    for state, waiting, n in rows:
        key = "waiting" if waiting else state
        counts[key] = counts.get(key, 0) + n
    return counts


def events_by_visit(visit_ids: Iterable[uuid.UUID], per_visit: int = 5) -> dict[uuid.UUID, list[SendEvent]]:
    """Each visit's latest tries (at most `per_visit`), newest first: one query for a page of visits."""
    ids = list(visit_ids)
    if not ids:
        return {}
    latest = (
        SendEvent.objects.filter(visit_id__in=ids)
        .annotate(rank=Window(RowNumber(), partition_by=[F("visit_id")], order_by=[F("at").desc(), F("pk").desc()]))
        .filter(rank__lte=per_visit)
        .order_by("visit_id", "-at", "-pk")
    )
    found: dict[uuid.UUID, list[SendEvent]] = {visit_id: [] for visit_id in ids}
    for event in latest:
        found[event.visit_id].append(event)
    return found


@dataclass(frozen=True)
class VisitDay:
    day: datetime.date
    sent: int  # visits sent that day (a visit sent twice that day counts once)
    failed: int  # visits that failed that day
    tries: int  # every try that day, whatever its outcome


def visits_per_day(days: int = DAYS_SHOWN) -> list[VisitDay]:
    """Per day of the last `days` days (today included, days of the clinic's time zone), newest first:
    the visits sent, the visits that failed (each visit once per day and outcome), and the tries."""
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=zone)
    events = SendEvent.objects.filter(at__gte=start).annotate(day=TruncDate("at", tzinfo=zone)).order_by()
    visits = events.values_list("day", "outcome").annotate(n=Count("visit_id", distinct=True))
    found: dict[tuple[datetime.date, str], int] = {(day, outcome): n for day, outcome, n in visits}
    tries = dict(events.values_list("day").annotate(n=Count("pk")))
    return [
        VisitDay(
            day=day, sent=found.get((day, "sent"), 0), failed=found.get((day, "failed"), 0), tries=tries.get(day, 0)
        )
        for day in (today - datetime.timedelta(days=offset) for offset in range(days))
    ]
