"""The owner's reports page: the month's visits (new and returning), the LB1 morbidity table and the top
ten, each as a table with bars, printable, with its CSV export (the figures come from records.reports)."""

import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation

from records import icd10, reports
from tenants.accounts.access import owner_required


def _month_asked(request: HttpRequest) -> datetime.date:
    """The month in `?month=YYYY-MM`, or this month when it is missing or not a month."""
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        return datetime.date(year, month, 1)
    except ValueError:
        return timezone.localdate().replace(day=1)


def _title(code: str, title: str) -> str:
    """A diagnosis's title in the reader's language: Indonesian where the table has one."""
    entry = icd10.lookup(code)
    if entry and entry.title_id and translation.get_language() == "id":
        return entry.title_id
    return title


def _bars(values: list[int]) -> list[int]:
    """Each value as a percentage of the largest, for the table's bars."""
    top = max(values, default=0) or 1
    return [round(value * 100 / top) for value in values]


@owner_required
def reports_page(request: HttpRequest) -> HttpResponse:
    month = _month_asked(request)
    month, end = reports.month_bounds(month)
    days = reports.visits_report(month, end, "day")
    morbidity = reports.morbidity_report(month)
    cells = reports.morbidity_cells()
    context = {
        "month": month,
        "month_value": f"{month:%Y-%m}",
        "start": month.isoformat(),
        "end": end.isoformat(),
        "days": list(zip(days, _bars([row.visits for row in days]), strict=True)),
        "totals": {
            "visits": sum(row.visits for row in days),
            "new": sum(row.new_patients for row in days),
            "returning": sum(row.returning for row in days),
        },
        "by_practitioner": reports.visits_by_practitioner(month, end),
        "age_groups": reports.AGE_GROUP_LABELS,
        "morbidity": [(row, _title(row.code, row.title), [row.all[cell] for cell in cells]) for row in morbidity],
        "top_diagnoses": [(row, _title(row.name, row.title)) for row in reports.top_diagnoses(month, end)],
        "top_prescriptions": reports.top_prescriptions(month, end),
    }
    return render(request, "records/reports.html", context)
