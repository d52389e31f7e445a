"""The owner's reports, computed from the clinic's own schema: visits per day, week or month (new and
returning patients, by practitioner), the monthly morbidity report a clinic sends to the district
health office (LB1 shape: diagnoses by ICD-10 code, age group and sex, new and all cases), and the ten
commonest diagnoses and prescriptions. Voided records never count.

Days are the clinic's (settings.TIME_ZONE): a visit at 23:30 WIB is on that day, not the next.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Lower, Trim, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from records.models import Diagnosis, Prescription, Visit

PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}

# LB1's age groups (laporan bulanan data kesakitan): two of newborns in days, one of babies in months,
# then groups of years, each given by the age it starts at.
YEAR_GROUPS: tuple[tuple[int, str], ...] = (
    (1, "1-4 th"),
    (5, "5-9 th"),
    (10, "10-14 th"),
    (15, "15-19 th"),
    (20, "20-44 th"),
    (45, "45-54 th"),
    (55, "55-59 th"),
    (60, "60-69 th"),
    (70, "70+ th"),
)
AGE_GROUP_LABELS = ("0-7 hr", "8-28 hr", "1-11 bl", *(label for _start, label in YEAR_GROUPS))


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and the last day of the month holding `month`."""
    start = month.replace(day=1)
    return start, (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def _window(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end] as whole days of the clinic, as aware times: [start 00:00, the day after end 00:00)."""
    zone = timezone.get_current_timezone()
    first = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    after = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return first, after


def _visits(start: datetime.date, end: datetime.date) -> QuerySet[Visit]:
    first, after = _window(start, end)
    return Visit.objects.filter(
        voided_at__isnull=True, patient__voided_at__isnull=True, started_at__gte=first, started_at__lt=after
    )


def _parts(model: type[Diagnosis] | type[Prescription], start: datetime.date, end: datetime.date) -> QuerySet:
    """A visit's diagnoses or prescriptions in [start, end], none of them, their visit or patient voided."""
    first, after = _window(start, end)
    return model.objects.filter(
        voided_at__isnull=True,
        visit__voided_at__isnull=True,
        visit__patient__voided_at__isnull=True,
        visit__started_at__gte=first,
        visit__started_at__lt=after,
    )


def _first_visit_of_patient() -> QuerySet[Visit]:
    """A visit that is its patient's first (not voided): the patient is new that day."""
    earlier = Visit.objects.filter(
        patient=OuterRef("patient"), voided_at__isnull=True, started_at__lt=OuterRef("started_at")
    )
    return ~Exists(earlier)


@dataclass(frozen=True)
class VisitRow:
    period: datetime.date
    visits: int
    new_patients: int
    returning: int


def visits_report(start: datetime.date, end: datetime.date, period: str = "day") -> list[VisitRow]:
    """Visits per day, week (from Monday) or month, and how many were patients' first visits."""
    trunc = PERIODS[period]
    rows = (
        _visits(start, end)
        .annotate(first=_first_visit_of_patient())
        .annotate(period=trunc("started_at", tzinfo=timezone.get_current_timezone()))
        .values("period")
        .annotate(visits=Count("id"), new=Count("id", filter=Q(first=True)))
        .order_by("period")
    )
    return [
        VisitRow(
            period=row["period"].date(),
            visits=row["visits"],
            new_patients=row["new"],
            returning=row["visits"] - row["new"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class PractitionerRow:
    practitioner: str
    visits: int


def visits_by_practitioner(start: datetime.date, end: datetime.date) -> list[PractitionerRow]:
    """Visits per practitioner (the doctor who saw the patient; "" for none recorded), most first."""
    rows = (
        _visits(start, end)
        .values(name=F("practitioner__full_name"))
        .annotate(visits=Count("id"))
        .order_by("-visits", "name")
    )
    return [PractitionerRow(practitioner=row["name"] or "", visits=row["visits"]) for row in rows]


def age_group(birth_date: datetime.date, on: datetime.date) -> str:
    """The LB1 age group of a person born on `birth_date`, on the day `on`: 0-7 and 8-28 days, then
    months under a year, then years."""
    days = (on - birth_date).days
    if days <= 7:
        return "0-7 hr"
    if days <= 28:
        return "8-28 hr"
    years = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    if years < 1:
        return "1-11 bl"
    return [label for starts_at, label in YEAR_GROUPS if years >= starts_at][-1]


@dataclass
class MorbidityRow:
    code: str
    title: str
    # (age group, sex) -> new cases / all cases
    new: Counter = field(default_factory=Counter)
    all: Counter = field(default_factory=Counter)

    @property
    def new_total(self) -> int:
        return sum(self.new.values())

    @property
    def all_total(self) -> int:
        return sum(self.all.values())


def morbidity_report(month: datetime.date) -> list[MorbidityRow]:
    """LB1 for the month holding `month`: each diagnosis code with its cases by age group and sex; a
    case is new when it is the patient's first diagnosis with that code (kasus baru)."""
    start, end = month_bounds(month)
    earlier = Diagnosis.objects.filter(
        voided_at__isnull=True,
        visit__voided_at__isnull=True,
        visit__patient=OuterRef("visit__patient"),
        code=OuterRef("code"),
        visit__started_at__lt=OuterRef("visit__started_at"),
    )
    rows = (
        _parts(Diagnosis, start, end)
        .annotate(seen_before=Exists(earlier))
        .values_list(
            "code", "title", "visit__started_at", "visit__patient__birth_date", "visit__patient__sex", "seen_before"
        )
        .order_by("code")
    )
    zone = timezone.get_current_timezone()
    report: dict[str, MorbidityRow] = {}
    for code, title, started_at, birth_date, sex, seen_before in rows:
        row = report.setdefault(code, MorbidityRow(code=code, title=title))
        cell = (age_group(birth_date, started_at.astimezone(zone).date()), sex)
        row.all[cell] += 1
        if not seen_before:
            row.new[cell] += 1
    return sorted(report.values(), key=lambda row: (-row.all_total, row.code))


@dataclass(frozen=True)
class TopRow:
    name: str
    title: str
    count: int


def top_diagnoses(start: datetime.date, end: datetime.date, limit: int = 10) -> list[TopRow]:
    rows = (
        _parts(Diagnosis, start, end)
        .values("code")
        .annotate(count=Count("id"), title=Min("title"))
        .order_by("-count", "code")[:limit]
    )
    return [TopRow(name=row["code"], title=row["title"], count=row["count"]) for row in rows]


def top_prescriptions(start: datetime.date, end: datetime.date, limit: int = 10) -> list[TopRow]:
    """The drugs prescribed most, by name as written (case and spaces aside)."""
    rows = (
        _parts(Prescription, start, end)
        .annotate(key=Lower(Trim("drug")))
        .values("key")
        .annotate(count=Count("id"), name=Min("drug"))
        .order_by("-count", "key")[:limit]
    )
    return [TopRow(name=row["name"], title="", count=row["count"]) for row in rows]


def morbidity_cells() -> list[tuple[str, str]]:
    """LB1's columns: each age group, women then men."""
    return [(label, sex) for label in AGE_GROUP_LABELS for sex in ("F", "M")]
