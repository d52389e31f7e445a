"""Reads about clinics for the operator console: counts per clinic, never patient content."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import QuerySet
from psycopg2 import sql

from tenants.models import Clinic
from tenants.subdomains import SCHEMA_NAME_RE


@dataclass(frozen=True)
class ClinicSummary:
    clinic: Clinic
    staff_count: int
    patient_count: int

    @property
    def created_at(self) -> datetime:
        return self.clinic.created_at


def clinics_for_console() -> QuerySet[Clinic]:
    return Clinic.objects.filter(status__in=[Clinic.Status.ACTIVE, Clinic.Status.SUSPENDED]).order_by("-created_at")


def _existing_tables(schema_names: list[str], table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = %s AND table_schema = ANY(%s)",
            [table, schema_names],
        )
        return {row[0] for row in cursor.fetchall()}


def _count_per_schema(schema_names: list[str], table: str, active_only: bool = False) -> dict[str, int]:
    """Row counts of one table in many schemas, in one query; identifiers are quoted by psycopg2."""
    existing = _existing_tables(schema_names, table)
    present = [name for name in schema_names if name in existing and SCHEMA_NAME_RE.fullmatch(name)]
    if not present:
        return {}
    where = sql.SQL(" WHERE is_active") if active_only else sql.SQL("")
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {name}, count(*) FROM {table}{where}").format(
            name=sql.Literal(name), table=sql.Identifier(name, table), where=where
        )
        for name in present
    )
    with connection.cursor() as cursor:
        cursor.execute(query)
        return dict(cursor.fetchall())


def clinic_summaries(clinics: list[Clinic]) -> list[ClinicSummary]:
    """Staff and patient counts for a page of clinics (patients are 0 until the record exists)."""
    names = [clinic.schema_name for clinic in clinics]
    staff = _count_per_schema(names, "accounts_user", active_only=True)
    patients = _count_per_schema(names, "records_patient")
    return [
        ClinicSummary(
            clinic=clinic,
            staff_count=staff.get(clinic.schema_name, 0),
            patient_count=patients.get(clinic.schema_name, 0),
        )
        for clinic in clinics
    ]


def clinic_get_for_console(clinic_id: int) -> Clinic:
    return clinics_for_console().get(pk=clinic_id)
