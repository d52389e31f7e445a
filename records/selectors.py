"""Reads of the clinical record: patient search, a patient's chart, history and the audit trail."""

import datetime
import functools
import operator
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from records import access
from records.models import ChartAccess, Diagnosis, Patient, Prescription, Revision, Visit, VitalSigns
from records.specs import spec_for
from tenants.accounts.models import User

_DIGITS = re.compile(r"^\d+$")


def patient_search(*, query: str = "", include_voided: bool = False) -> QuerySet[Patient]:
    """Patients by name (any part), medical record number or NIK (from the start)."""
    patients = Patient.objects.all()
    if not include_voided:
        patients = patients.filter(voided_at__isnull=True)
    query = query.strip()
    if query:
        condition = Q(full_name__icontains=query) | Q(medical_record_number__istartswith=query)
        if _DIGITS.fullmatch(query):
            condition |= Q(nik__startswith=query)
        patients = patients.filter(condition)
    return patients.order_by("full_name", "id")


def patient_possible_duplicates(*, nik: str, full_name: str, birth_date: object, exclude_id: object) -> list[Patient]:
    """Registered patients that are probably the same person: same NIK, or same name and birth date."""
    condition = Q(full_name__iexact=full_name.strip(), birth_date=birth_date)
    if nik:
        condition |= Q(nik=nik)
    return list(Patient.objects.filter(condition, voided_at__isnull=True).exclude(pk=exclude_id)[:5])


def record_get(*, entity: str, record_id: str | uuid.UUID, user: User) -> object:
    """The access helper for one record: 404 if it is not in this clinic, 403 if the role may not see it."""
    access.check_can_read(user, entity)
    try:
        record_uuid = uuid.UUID(str(record_id))
    except ValueError as exc:
        raise Http404 from exc
    instance = spec_for(entity).model.objects.filter(pk=record_uuid).first()
    if instance is None:
        raise Http404
    return instance


def patient_chart(*, patient: Patient, user: User) -> list[Visit]:
    """Every visit of the patient (voided ones too, marked) with the parts this user may see."""
    visits = Visit.objects.filter(patient=patient).select_related("practitioner").order_by("-started_at", "id")
    if access.can_read_clinical(user):
        visits = visits.prefetch_related(
            Prefetch("vital_signs", queryset=VitalSigns.objects.order_by("measured_at", "id")),
            Prefetch("diagnoses", queryset=Diagnosis.objects.order_by("kind", "code", "id")),
            Prefetch("prescriptions", queryset=Prescription.objects.order_by("created_at", "id")),
        )
    return list(visits)


def record_revisions(*, entity: str, record_id: uuid.UUID) -> QuerySet[Revision]:
    return Revision.objects.filter(entity=entity, record_id=record_id).select_related("user").order_by("version")


@dataclass(frozen=True)
class HistorySince:
    """What a merge needs of a record's history since the version a device saw."""

    base: dict[str, Any] | None  # the record at that version ({} before it existed; None: not known)
    changed_by_others: frozenset[str]  # fields changed since by anyone but that device


def record_history_since(*, entity: str, record_id: uuid.UUID, base_version: int, device_id: str) -> HistorySince:
    """From one read of the record's revisions: the record as it was at `base_version` and the fields
    changed since by anyone but `device_id` (a device's own edits count as seen)."""
    base: dict[str, Any] | None = {} if base_version <= 0 else None
    changed: set[str] = set()
    for revision in Revision.objects.filter(entity=entity, record_id=record_id, version__gte=base_version):
        if revision.version == base_version:
            base = revision.after
            continue
        if device_id and revision.device_id == device_id:
            continue
        before, after = revision.before or {}, revision.after or {}
        changed.update(name for name in after if before.get(name) != after.get(name))
    return HistorySince(base=base, changed_by_others=frozenset(changed))


@dataclass(frozen=True)
class FieldWrite:
    """Who wrote a field's value, and when it reached the server."""

    user_name: str
    at: datetime.datetime


FieldAt = tuple[str, uuid.UUID, str, datetime.datetime]  # entity, record_id, field, a time


def field_writes(wanted: Iterable[FieldAt]) -> dict[FieldAt, FieldWrite]:
    """For each (entity, record_id, field, time): the last change of that field of that record made
    before that time (the value a conflict kept, say), from one read of the records' revisions."""
    wanted = list(wanted)
    if not wanted:
        return {}
    records = {(entity, record_id) for entity, record_id, _field, _at in wanted}
    condition = functools.reduce(operator.or_, (Q(entity=e, record_id=r) for e, r in records))
    history: dict[tuple[str, uuid.UUID], list[Revision]] = {}
    for revision in Revision.objects.filter(condition).select_related("user").order_by("-version"):
        history.setdefault((revision.entity, revision.record_id), []).append(revision)
    found: dict[FieldAt, FieldWrite] = {}
    for key in wanted:
        entity, record_id, field, before = key
        for revision in history.get((entity, record_id), []):
            if revision.at <= before and (revision.before or {}).get(field) != (revision.after or {}).get(field):
                found[key] = FieldWrite(revision.user.full_name or revision.user.email, revision.at)
                break
    return found


def audit_revisions() -> QuerySet[Revision]:
    return Revision.objects.select_related("user").order_by("-at", "-id")


def audit_chart_accesses() -> QuerySet[ChartAccess]:
    return ChartAccess.objects.select_related("user", "patient").order_by("-at", "-id")


@dataclass(frozen=True)
class AuditFilter:
    """What the owner narrows the audit trail to; empty parts narrow nothing. Dates are the clinic's
    local days, both ends included."""

    patient: str = ""  # a name (any part) or a medical record number (from the start)
    user_id: int | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None


def _patients_matching(query: str) -> QuerySet[Patient]:
    query = query.strip()
    return Patient.objects.filter(Q(full_name__icontains=query) | Q(medical_record_number__istartswith=query))


def _within(queryset: QuerySet, field: str, audit: AuditFilter) -> QuerySet:
    if audit.user_id is not None:
        queryset = queryset.filter(user_id=audit.user_id)
    if audit.start is not None:
        queryset = queryset.filter(**{f"{field}__date__gte": audit.start})
    if audit.end is not None:
        queryset = queryset.filter(**{f"{field}__date__lte": audit.end})
    return queryset


def audit_changes(audit: AuditFilter) -> QuerySet[Revision]:
    """Revisions, newest first, of the records of the matching patients (their visits and each visit's
    parts too), by the person and within the days asked."""
    revisions = _within(audit_revisions(), "at", audit)
    if audit.patient.strip():
        patients = _patients_matching(audit.patient).values("pk")
        visits = Visit.objects.filter(patient__in=patients).values("pk")
        condition = Q(entity="patient", record_id__in=patients) | Q(entity="visit", record_id__in=visits)
        for name in ("vitals", "diagnosis", "prescription"):
            model = spec_for(name).model
            condition |= Q(entity=name, record_id__in=model.objects.filter(visit__in=visits).values("pk"))
        revisions = revisions.filter(condition)
    return revisions


def audit_chart_openings(audit: AuditFilter) -> QuerySet[ChartAccess]:
    """Charts opened, newest first (by when they were opened, on the device's clock for a device)."""
    openings = _within(audit_chart_accesses(), "at", audit)
    if audit.patient.strip():
        openings = openings.filter(patient__in=_patients_matching(audit.patient).values("pk"))
    return openings


def audit_patients_of(revisions: Iterable[Revision]) -> dict[tuple[str, uuid.UUID], Patient]:
    """The patient each revision's record belongs to, in a query per kind of record (for one page)."""
    wanted: dict[str, set[uuid.UUID]] = {}
    for revision in revisions:
        wanted.setdefault(revision.entity, set()).add(revision.record_id)
    found: dict[tuple[str, uuid.UUID], Patient] = {}
    for entity, ids in wanted.items():
        if entity == "patient":
            for patient in Patient.objects.filter(pk__in=ids):
                found[(entity, patient.pk)] = patient
        elif entity == "visit":
            for visit in Visit.objects.filter(pk__in=ids).select_related("patient"):
                found[(entity, visit.pk)] = visit.patient
        elif entity in ("vitals", "diagnosis", "prescription"):
            model = spec_for(entity).model
            for part in model.objects.filter(pk__in=ids).select_related("visit__patient"):
                found[(entity, part.pk)] = part.visit.patient
    return found
