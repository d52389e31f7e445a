"""The owner's audit trail page: every change of a record (who, which device, when, before and after
each field, the reason) and every chart opened, filtered by patient, person, days and kind, newest
first, page by page; and the same as a CSV file, streamed row by row so a long trail never sits in memory."""

import csv
import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tenants.utils import tenant_context

from records import selectors
from records.models import Patient, Revision
from records.specs import spec_for
from tenants.accounts.access import owner_required
from tenants.accounts.selectors import staff_list

PER_PAGE = 50
CHUNK = 500
KINDS = {"changes": gettext_lazy("Changes"), "chart_access": gettext_lazy("Charts opened")}
ENTITY_LABELS = {
    "patient": gettext_lazy("Patient details"),
    "visit": gettext_lazy("Visit"),
    "vitals": gettext_lazy("Vital signs"),
    "diagnosis": gettext_lazy("Diagnosis"),
    "prescription": gettext_lazy("Prescription"),
}


@dataclass(frozen=True)
class Asked:
    kind: str
    audit: selectors.AuditFilter
    errors: list[str]


def _date(request: HttpRequest, name: str, errors: list[str]) -> datetime.date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        errors.append(_("“%(value)s” is not a date; use the date picker (YYYY-MM-DD).") % {"value": raw[:20]})
        return None


def _asked(request: HttpRequest) -> Asked:
    """The filters in the query string; a part that cannot be read is said and left out."""
    errors: list[str] = []
    kind = request.GET.get("kind", "changes")
    if kind not in KINDS:
        kind = "changes"
    person = request.GET.get("person", "")
    user_id = int(person) if person.isascii() and person.isdigit() and len(person) < 10 else None
    start, end = _date(request, "start", errors), _date(request, "end", errors)
    if start and end and start > end:
        errors.append(_("The first day is after the last day; the two were swapped."))
        start, end = end, start
    patient = request.GET.get("patient", "").strip()[:100]
    return Asked(kind, selectors.AuditFilter(patient=patient, user_id=user_id, start=start, end=end), errors)


def _field(entity: str, name: str) -> Any:
    try:
        return spec_for(entity).model._meta.get_field(name)
    except (KeyError, FieldDoesNotExist):
        return None


def _label(entity: str, name: str) -> str:
    if name == "voided":
        return str(_("voided"))
    field = _field(entity, name)
    return str(field.verbose_name) if field is not None else name


def _shown(value: Any, entity: str = "", name: str = "") -> str:
    """A stored value as a person reads it: a choice in words with its code ("Perempuan (F)")."""
    if value is None or value == "":
        return "—"
    field = _field(entity, name) if entity else None
    if field is not None and field.choices and isinstance(value, str):
        words = dict(field.flatchoices).get(value)
        if words is not None:
            return f"{words} ({value})"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


def _field_changes(revision: Revision) -> list[FieldChange]:
    """Each field whose value differs between before and after (a new record: each field it was given)."""
    before, after = revision.before or {}, revision.after or {}
    names = [name for name in after if before.get(name) != after.get(name) and name not in ("id", "version")]
    if revision.action == Revision.Action.CREATE:
        names = [name for name in names if after.get(name) not in (None, "", [], {}, False)]
    return [
        FieldChange(
            _label(revision.entity, name),
            _shown(before.get(name), revision.entity, name),
            _shown(after.get(name), revision.entity, name),
        )
        for name in names
    ]


def _patient_text(patient: Patient | None) -> str:
    if patient is None:
        return ""
    return " · ".join(part for part in (patient.full_name, patient.medical_record_number) if part)


@owner_required
def audit_page(request: HttpRequest) -> HttpResponse:
    asked = _asked(request)
    if asked.kind == "chart_access":
        page = Paginator(selectors.audit_chart_openings(asked.audit), PER_PAGE).get_page(request.GET.get("page"))
        rows: list[Any] = list(page)
    else:
        page = Paginator(selectors.audit_changes(asked.audit), PER_PAGE).get_page(request.GET.get("page"))
        patients = selectors.audit_patients_of(page)
        rows = [
            {
                "revision": revision,
                "record": ENTITY_LABELS.get(revision.entity, revision.entity),
                "patient": _patient_text(patients.get((revision.entity, revision.record_id))),
                "fields": _field_changes(revision),
            }
            for revision in page
        ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "asked": asked,
        "kinds": KINDS.items(),
        "people": staff_list(),
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
    }
    return render(request, "records/audit.html", context)


class _Echo:
    """A file that hands back what is written: csv.writer then yields each line to the response."""

    def write(self, value: str) -> str:
        return value


def _safe(value: Any) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _chunks(queryset: Any) -> Iterator[list[Any]]:
    rows = queryset.iterator(chunk_size=CHUNK)
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


def _csv_rows(asked: Asked) -> Iterator[list[Any]]:
    local = timezone.get_current_timezone()
    if asked.kind == "chart_access":
        yield [
            _("Opened at"),
            _("Person"),
            _("Email"),
            _("Device"),
            _("Patient"),
            _("Medical record number"),
            _("Received at"),
        ]
        for chunk in _chunks(selectors.audit_chart_openings(asked.audit)):
            for access in chunk:
                yield [
                    access.at.astimezone(local).isoformat(),
                    access.user.full_name,
                    access.user.email,
                    access.device_id,
                    access.patient.full_name,
                    access.patient.medical_record_number,
                    access.received_at.astimezone(local).isoformat(),
                ]
        return
    yield [
        _("When"),
        _("Person"),
        _("Email"),
        _("Device"),
        _("Record"),
        _("Record ID"),
        _("Version"),
        _("Patient"),
        _("Action"),
        _("Field"),
        _("Before"),
        _("After"),
        _("Reason"),
    ]
    for chunk in _chunks(selectors.audit_changes(asked.audit)):
        patients = selectors.audit_patients_of(chunk)
        for revision in chunk:
            common = [
                revision.at.astimezone(local).isoformat(),
                revision.user.full_name,
                revision.user.email,
                revision.device_id,
                ENTITY_LABELS.get(revision.entity, revision.entity),
                revision.record_id,
                revision.version,
                _patient_text(patients.get((revision.entity, revision.record_id))),
                revision.get_action_display(),
            ]
            # One line per changed field, so a spreadsheet can filter by field.
            for change in _field_changes(revision) or [FieldChange("", "", "")]:
                yield [*common, change.label, change.before, change.after, revision.reason]


def _csv_lines(clinic: Any, asked: Asked) -> Iterator[str]:
    # The response is read after the view returns: the clinic's schema is set again for the reads.
    writer = csv.writer(_Echo())
    with tenant_context(clinic):
        for row in _csv_rows(asked):
            yield writer.writerow([_safe(cell) for cell in row])


@owner_required
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    asked = _asked(request)
    lines = _csv_lines(request.tenant, asked)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = "audit-changes" if asked.kind == "changes" else "audit-charts-opened"
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate():%Y%m%d}.csv"'
    return response
