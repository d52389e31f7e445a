"""Each clinic's counts in the console's table: bumped as work happens, recounted from one schema.

Every statement here reads or writes one clinic's schema, or the public table; none spans schemas.
The bumps run inside the transaction of the work (a new patient, a visit, a device, a staff change), so
a count never includes work that rolled back. They lock the clinic's usage row until commit, which the
clinic's writes already queue on (its change counter), so they add no contention.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django_tenants.utils import get_public_schema_name
from psycopg2 import sql

from console.models import ClinicUsage
from tenants.models import Clinic
from tenants.subdomains import SCHEMA_NAME_RE

# Signing in refreshes "last activity" only when the stored time is older than this.
ACTIVITY_EVERY = timedelta(minutes=5)


def current_month() -> date:
    """The first day of this month, in the clinics' time zone."""
    return timezone.localdate().replace(day=1)


def month_start() -> datetime:
    return timezone.make_aware(datetime.combine(current_month(), datetime.min.time()))


def is_clinic_schema(schema_name: str) -> bool:
    return schema_name not in (get_public_schema_name(), settings.TENANT_BASE_SCHEMA)


# --- Reading one clinic's schema -------------------------------------------------------------------


def schema_table(schema_name: str, table: str) -> sql.Composable | None:
    """The schema-qualified table, or None when that schema does not have it (yet)."""
    if not SCHEMA_NAME_RE.fullmatch(schema_name):
        raise ValueError(f"not a clinic schema: {schema_name!r}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'"{schema_name}"."{table}"'])
        if cursor.fetchone()[0] is None:
            return None
    return sql.Identifier(schema_name, table)


def schema_fetch(query: sql.Composable, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return cursor.fetchall()


@dataclass(frozen=True)
class SchemaCounts:
    staff: int = 0
    devices_active: int = 0
    devices_revoked: int = 0
    patients: int = 0
    visits_this_month: int = 0
    last_activity_at: datetime | None = None


def _staff_count(schema_name: str) -> int:
    users = schema_table(schema_name, "accounts_user")
    if users is None:
        return 0
    return schema_fetch(sql.SQL("SELECT count(*) FROM {} WHERE is_active AND role <> ''").format(users))[0][0]


def _device_counts(schema_name: str) -> tuple[int, int]:
    devices = schema_table(schema_name, "sync_device")
    if devices is None:
        return 0, 0
    query = sql.SQL(
        "SELECT count(*) FILTER (WHERE revoked_at IS NULL), count(*) FILTER (WHERE revoked_at IS NOT NULL) FROM {}"
    ).format(devices)
    active, revoked = schema_fetch(query)[0]
    return active, revoked


def _record_counts(schema_name: str) -> tuple[int, int]:
    """Patients, and visits recorded this month; voided records are not counted."""
    patients_table = schema_table(schema_name, "records_patient")
    visits_table = schema_table(schema_name, "records_visit")
    patients = visits = 0
    if patients_table is not None:
        patients = schema_fetch(sql.SQL("SELECT count(*) FROM {} WHERE voided_at IS NULL").format(patients_table))[0][0]
    if visits_table is not None:
        query = sql.SQL("SELECT count(*) FROM {} WHERE voided_at IS NULL AND created_at >= %s").format(visits_table)
        visits = schema_fetch(query, [month_start()])[0][0]
    return patients, visits


def _last_activity(schema_name: str) -> datetime | None:
    """The latest staff sign-in or device sync seen in the schema."""
    times = []
    users = schema_table(schema_name, "accounts_user")
    devices = schema_table(schema_name, "sync_device")
    if users is not None:
        times.append(schema_fetch(sql.SQL("SELECT max(last_login) FROM {}").format(users))[0][0])
    if devices is not None:
        times.append(schema_fetch(sql.SQL("SELECT max(last_seen) FROM {}").format(devices))[0][0])
    known = [time for time in times if time is not None]
    return max(known) if known else None


def schema_counts(schema_name: str) -> SchemaCounts:
    """Every count of one clinic, read from its own schema (one clinic per call)."""
    active, revoked = _device_counts(schema_name)
    patients, visits = _record_counts(schema_name)
    return SchemaCounts(
        staff=_staff_count(schema_name),
        devices_active=active,
        devices_revoked=revoked,
        patients=patients,
        visits_this_month=visits,
        last_activity_at=_last_activity(schema_name),
    )


# --- Writing the console's table --------------------------------------------------------------------


@transaction.atomic
def usage_recount(clinic: Clinic) -> ClinicUsage:
    """Recount one clinic from its schema (repair, and clinics that existed before the table).

    The row is locked before counting: work that bumps it either committed before (and is counted) or
    waits and bumps on top of the recount.
    """
    usage, _created = ClinicUsage.objects.get_or_create(clinic=clinic)
    usage = ClinicUsage.objects.select_for_update().get(pk=usage.pk)
    counts = schema_counts(clinic.schema_name)
    usage.staff_count = counts.staff
    usage.devices_active = counts.devices_active
    usage.devices_revoked = counts.devices_revoked
    usage.patient_count = counts.patients
    usage.visits_this_month = counts.visits_this_month
    usage.visits_month = current_month()
    if counts.last_activity_at and (usage.last_activity_at is None or counts.last_activity_at > usage.last_activity_at):
        usage.last_activity_at = counts.last_activity_at
    usage.recounted_at = timezone.now()
    usage.save()
    return usage


def _usage_of(schema_name: str) -> QuerySet[ClinicUsage]:
    return ClinicUsage.objects.filter(clinic__schema_name=schema_name)


def _update_or_recount(schema_name: str, **values: object) -> None:
    """Update the clinic's row; a clinic without one yet (it predates the table) is recounted instead."""
    if _usage_of(schema_name).update(**values):
        return
    clinic = Clinic.objects.filter(schema_name=schema_name, status__in=[Clinic.Status.ACTIVE, Clinic.Status.SUSPENDED])
    if clinic.exists():
        usage_recount(clinic.get())


def usage_bump(*, patients: int = 0, visits: int = 0) -> None:
    """Add new (or take away voided) patients and this month's visits for the clinic being worked in."""
    schema_name = connection.schema_name
    if not is_clinic_schema(schema_name) or not (patients or visits):
        return
    month = current_month()
    values: dict[str, object] = {"last_activity_at": timezone.now()}
    if patients:
        values["patient_count"] = Greatest(F("patient_count") + patients, Value(0))
    if visits:
        values["visits_this_month"] = Case(
            When(visits_month=month, then=Greatest(F("visits_this_month") + visits, Value(0))),
            default=Value(max(visits, 0)),
        )
        values["visits_month"] = Value(month)
    _update_or_recount(schema_name, **values)


def staff_refresh() -> None:
    """Recount the active staff of the clinic being worked in (a small table)."""
    schema_name = connection.schema_name
    if is_clinic_schema(schema_name):
        _update_or_recount(schema_name, staff_count=_staff_count(schema_name))


def devices_refresh() -> None:
    """Recount the devices of the clinic being worked in; a new device is also activity."""
    schema_name = connection.schema_name
    if is_clinic_schema(schema_name):
        active, revoked = _device_counts(schema_name)
        _update_or_recount(schema_name, devices_active=active, devices_revoked=revoked, last_activity_at=timezone.now())


def activity_touch() -> None:
    """Staff of the clinic being worked in did something: write the time unless it is recent already."""
    schema_name = connection.schema_name
    if not is_clinic_schema(schema_name):
        return
    now = timezone.now()
    stale = Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=now - ACTIVITY_EVERY)
    _usage_of(schema_name).filter(stale).update(last_activity_at=now)


def usage_create(clinic: Clinic) -> None:
    """A new clinic starts with an empty row (its owner is counted as the account is made)."""
    if clinic.status in (Clinic.Status.ACTIVE, Clinic.Status.SUSPENDED):
        ClinicUsage.objects.get_or_create(clinic=clinic, defaults={"visits_month": current_month()})
