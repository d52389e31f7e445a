"""Reads about clinics for the operator console: counts and status, never patient content.

The list reads only the public schema (the clinic rows and the console's `ClinicUsage`), in one query
whatever the number of clinics; a clinic's own page reads that one clinic's schema.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from psycopg2 import sql

from console.models import ClinicUsage
from console.usage import current_month, schema_fetch, schema_table
from tenants.accounts.models import Role
from tenants.models import Clinic, ClinicStatusEvent

# The sorts the console offers: the query-string key and what it orders by ("-key": descending).
SORTS = {
    "name": Lower("name"),
    "created": F("created_at"),
    "activity": F("usage__last_activity_at"),
    "patients": F("usage__patient_count"),
    "visits": F("visits_now"),
}
DEFAULT_SORT = "-created"


@dataclass(frozen=True)
class ClinicSummary:
    clinic: Clinic
    staff_count: int
    patient_count: int
    visits_this_month: int
    devices_active: int
    last_activity_at: datetime | None

    @property
    def created_at(self) -> datetime:
        return self.clinic.created_at


def sort_key(value: str | None) -> str:
    """The sort asked for, if it is one we offer, else the default (newest first)."""
    value = value or ""
    return value if value.lstrip("-") in SORTS else DEFAULT_SORT


def _visits_now() -> Case:
    """This month's visits (a count kept for an earlier month is 0 now)."""
    return Case(When(usage__visits_month=current_month(), then=F("usage__visits_this_month")), default=Value(0))


def clinics_for_console(*, search: str = "", sort: str = DEFAULT_SORT) -> QuerySet[Clinic]:
    """Clinics (not the template or the platform), matching `search` in name or subdomain, sorted."""
    clinics = (
        Clinic.objects.filter(status__in=[Clinic.Status.ACTIVE, Clinic.Status.SUSPENDED])
        .select_related("usage")
        .annotate(visits_now=_visits_now())
    )
    search = search.strip()
    if search:
        clinics = clinics.filter(Q(name__icontains=search) | Q(subdomain__icontains=search))
    sort = sort_key(sort)
    column = SORTS[sort.lstrip("-")]
    # Never-active (or uncounted) clinics come first going up and last going down; ties by age.
    if sort.startswith("-"):
        return clinics.order_by(column.desc(nulls_last=True), "-pk")
    return clinics.order_by(column.asc(nulls_first=True), "pk")


def _summary(clinic: Clinic) -> ClinicSummary:
    usage = getattr(clinic, "usage", None) or ClinicUsage(clinic=clinic)
    visits = usage.visits_this_month if usage.visits_month == current_month() else 0
    return ClinicSummary(
        clinic=clinic,
        staff_count=usage.staff_count,
        patient_count=usage.patient_count,
        visits_this_month=visits,
        devices_active=usage.devices_active,
        last_activity_at=usage.last_activity_at,
    )


def clinic_summaries(clinics: list[Clinic]) -> list[ClinicSummary]:
    """The counts of a page of clinics, from the console's table (fetched with them: no query here)."""
    return [_summary(clinic) for clinic in clinics]


def clinic_get_for_console(clinic_id: int) -> Clinic:
    return clinics_for_console().get(pk=clinic_id)


@dataclass(frozen=True)
class Person:
    full_name: str
    email: str


@dataclass(frozen=True)
class ClinicDetail:
    """One clinic for its console page: who owns it, how it is used, its status history."""

    summary: ClinicSummary
    owners: list[Person]
    staff_by_role: list[tuple[str, int]]  # (role label, count), every role
    devices_revoked: int
    storage_bytes: int
    events: list[ClinicStatusEvent]


def _owners(schema_name: str) -> list[Person]:
    users = schema_table(schema_name, "accounts_user")
    if users is None:
        return []
    query = sql.SQL("SELECT full_name, email FROM {} WHERE role = %s AND is_active ORDER BY date_joined, id")
    return [Person(name, email) for name, email in schema_fetch(query.format(users), [Role.OWNER])]


def _staff_by_role(schema_name: str) -> list[tuple[str, int]]:
    users = schema_table(schema_name, "accounts_user")
    counts: dict[str, int] = {}
    if users is not None:
        query = sql.SQL("SELECT role, count(*) FROM {} WHERE is_active AND role <> '' GROUP BY role")
        counts = dict(schema_fetch(query.format(users)))
    return [(str(role.label), counts.get(role.value, 0)) for role in Role]


def schema_storage_bytes(schema_name: str) -> int:
    """Bytes of one schema's tables with their indexes and TOAST (one clinic)."""
    query = sql.SQL(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')"
    )
    return int(schema_fetch(query, [schema_name])[0][0])


def clinic_detail(clinic: Clinic) -> ClinicDetail:
    """Everything the clinic's console page shows; reads this one clinic's schema."""
    usage = getattr(clinic, "usage", None) or ClinicUsage(clinic=clinic)
    return ClinicDetail(
        summary=_summary(clinic),
        owners=_owners(clinic.schema_name),
        staff_by_role=_staff_by_role(clinic.schema_name),
        devices_revoked=usage.devices_revoked,
        storage_bytes=schema_storage_bytes(clinic.schema_name),
        events=list(clinic.status_events.all()),
    )
