"""The owner's reports over the API (owners only): each as JSON for the screen's table and chart, or as
CSV (`?export=csv`) for a spreadsheet or the district health office."""

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records import access, reports
from records.api import DEVICE_HEADER, actor_for

LONGEST_RANGE = datetime.timedelta(days=366)


class RangeQuery(serializers.Serializer):
    start = serializers.DateField(help_text="The first day (YYYY-MM-DD), in the clinic's time zone.")
    end = serializers.DateField(help_text="The last day, included; at most 366 days after `start`.")
    period = serializers.ChoiceField(["day", "week", "month"], default="day", required=False)
    export = serializers.ChoiceField(["csv"], required=False, help_text="`csv`: the same figures as a CSV file.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": [_("The last day is before the first.")]})
        if attrs["end"] - attrs["start"] > LONGEST_RANGE:
            raise serializers.ValidationError({"end": [_("A report covers at most 366 days.")]})
        return attrs


class MonthQuery(serializers.Serializer):
    month = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$", help_text="The month, as YYYY-MM.")
    export = serializers.ChoiceField(["csv"], required=False, help_text="`csv`: the same figures as a CSV file.")

    def validate_month(self, value: str) -> datetime.date:
        year, month = (int(part) for part in value.split("-"))
        if not 1900 <= year <= 9998:
            raise serializers.ValidationError(_("Give a month between 1900 and 9998."))
        return datetime.date(year, month, 1)


def _owner_only(request: Request) -> None:
    actor_for(request)
    if not access.can_read_reports(request.user):
        raise PermissionDenied(_("Only the clinic's owner reads its reports."))


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _csv(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


_CSV_OR_JSON = "The figures as JSON, or as CSV with `export=csv`."


def report_schema(
    summary: str,
    query: type[serializers.Serializer],
    reply: serializers.Serializer,
    description: str = _CSV_OR_JSON,
) -> Any:
    """A report's schema: its question as query parameters, its figures as JSON or CSV."""
    return extend_schema(
        summary=summary,
        description=description,
        parameters=[query, DEVICE_HEADER],
        responses={(200, "application/json"): reply, (200, "text/csv"): OpenApiTypes.STR},
    )


class VisitsReportApi(APIView):
    @report_schema(
        "Visits per day, week or month, new and returning patients, and by practitioner (owners only)",
        RangeQuery,
        inline_serializer(
            "VisitsReport",
            {
                "rows": inline_serializer(
                    "VisitsReportRow",
                    {
                        "period": serializers.DateField(),
                        "visits": serializers.IntegerField(),
                        "new_patients": serializers.IntegerField(),
                        "returning": serializers.IntegerField(),
                    },
                    many=True,
                ),
                "by_practitioner": inline_serializer(
                    "VisitsByPractitioner",
                    {"practitioner": serializers.CharField(), "visits": serializers.IntegerField()},
                    many=True,
                ),
            },
        ),
    )
    def get(self, request: Request) -> Response | HttpResponse:
        _owner_only(request)
        query = _query(RangeQuery, request)
        rows = reports.visits_report(query["start"], query["end"], query["period"])
        by_practitioner = reports.visits_by_practitioner(query["start"], query["end"])
        if query.get("export") == "csv":
            return _csv(
                f"visits-{query['start']}-{query['end']}",
                [_("period"), _("visits"), _("new patients"), _("returning patients")],
                [(row.period.isoformat(), row.visits, row.new_patients, row.returning) for row in rows],
            )
        return Response(
            {
                "rows": [vars(row) | {"period": row.period.isoformat()} for row in rows],
                "by_practitioner": [vars(row) for row in by_practitioner],
            }
        )


class MorbidityReportApi(APIView):
    @report_schema(
        "The month's morbidity report, LB1 shape: cases by ICD-10 code, age group and sex (owners only)",
        MonthQuery,
        inline_serializer(
            "MorbidityReport",
            {
                "month": serializers.CharField(),
                "age_groups": serializers.ListField(child=serializers.CharField()),
                "rows": inline_serializer(
                    "MorbidityRow",
                    {
                        "code": serializers.CharField(),
                        "title": serializers.CharField(),
                        "new": serializers.DictField(
                            child=serializers.IntegerField(), help_text="'<age group> F|M' -> new cases."
                        ),
                        "all": serializers.DictField(
                            child=serializers.IntegerField(), help_text="'<age group> F|M' -> all cases."
                        ),
                        "new_total": serializers.IntegerField(),
                        "all_total": serializers.IntegerField(),
                    },
                    many=True,
                ),
            },
        ),
        description=_CSV_OR_JSON + " A case is new when it is the patient's first diagnosis with that code.",
    )
    def get(self, request: Request) -> Response | HttpResponse:
        _owner_only(request)
        query = _query(MonthQuery, request)
        month = query["month"]
        rows = reports.morbidity_report(month)
        cells = reports.morbidity_cells()
        if query.get("export") == "csv":
            header = [_("ICD-10 code"), _("diagnosis")]
            for kind in (_("new"), _("all")):
                header += [f"{kind} {group} {sex}" for group, sex in cells]
            header += [_("new cases"), _("all cases")]
            return _csv(
                f"lb1-{month:%Y-%m}",
                header,
                [
                    [
                        row.code,
                        row.title,
                        *(row.new[c] for c in cells),
                        *(row.all[c] for c in cells),
                        row.new_total,
                        row.all_total,
                    ]
                    for row in rows
                ],
            )
        return Response(
            {
                "month": f"{month:%Y-%m}",
                "age_groups": list(reports.AGE_GROUP_LABELS),
                "rows": [
                    {
                        "code": row.code,
                        "title": row.title,
                        "new": {f"{group} {sex}": count for (group, sex), count in row.new.items()},
                        "all": {f"{group} {sex}": count for (group, sex), count in row.all.items()},
                        "new_total": row.new_total,
                        "all_total": row.all_total,
                    }
                    for row in rows
                ],
            }
        )


_TOP_ROW = {"name": serializers.CharField(), "title": serializers.CharField(), "count": serializers.IntegerField()}


class TopReportApi(APIView):
    @report_schema(
        "The ten commonest diagnoses and prescriptions of a period (owners only)",
        RangeQuery,
        inline_serializer(
            "TopReport",
            {
                "diagnoses": inline_serializer("TopDiagnosis", _TOP_ROW, many=True),
                "prescriptions": inline_serializer("TopPrescription", _TOP_ROW, many=True),
            },
        ),
    )
    def get(self, request: Request) -> Response | HttpResponse:
        _owner_only(request)
        query = _query(RangeQuery, request)
        diagnoses = reports.top_diagnoses(query["start"], query["end"])
        prescriptions = reports.top_prescriptions(query["start"], query["end"])
        if query.get("export") == "csv":
            return _csv(
                f"top-{query['start']}-{query['end']}",
                [_("kind"), _("name"), _("title"), _("count")],
                [(_("diagnosis"), row.name, row.title, row.count) for row in diagnoses]
                + [(_("prescription"), row.name, row.title, row.count) for row in prescriptions],
            )
        return Response(
            {"diagnoses": [vars(row) for row in diagnoses], "prescriptions": [vars(row) for row in prescriptions]}
        )
