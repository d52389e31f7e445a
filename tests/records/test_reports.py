"""The owner's reports against a small month worked out by hand: visits per day and month with new and
returning patients, the LB1 morbidity table (age groups, sex, new and all cases), the top ten, CSV
exports; voided records never count, days are the clinic's, and only owners read them."""

import csv
import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context

from records import reports, services
from records.models import Diagnosis
from tenants.accounts.models import Role
from tests.conftest import login
from tests.records.conftest import actor, make_part, make_patient, make_visit

pytestmark = pytest.mark.django_db
WIB = ZoneInfo("Asia/Jakarta")


def at(day: int, hour: int, month: int = 2) -> str:
    return datetime.datetime(2025, month, day, hour, 0, tzinfo=WIB).isoformat()


@pytest.fixture
def february(alpha):
    """February 2025 at a clinic: Siti twice with typhoid, Budi (4) with a cold at 23:30, a newborn with
    diarrhoea, Ani's hypertension seen already in January; a voided visit and a voided diagnosis."""
    siti = make_patient(alpha, full_name="Siti Aminah", birth_date="1987-03-02", sex="F")
    budi = make_patient(alpha, full_name="Budi Santoso", birth_date="2020-06-15", sex="M")
    bayi = make_patient(alpha, full_name="Bayi Ny. Rina", birth_date="2025-01-28", sex="F")
    ani = make_patient(alpha, full_name="Ani Lestari", birth_date="1960-01-01", sex="F")
    first = make_visit(alpha, siti, started_at=at(3, 9))
    make_part(alpha, "diagnosis", first, code="A01.0")
    make_part(alpha, "prescription", first, drug="Kloramfenikol 500 mg")
    again = make_visit(alpha, siti, started_at=at(10, 6))  # 06:00 WIB: 23:00 UTC on the 9th
    make_part(alpha, "diagnosis", again, code="A01.0")
    make_part(alpha, "prescription", again, drug="kloramfenikol 500 mg ")
    late = make_visit(alpha, budi, started_at=at(3, 23))  # 23:00 WIB: 16:00 UTC, still the 3rd at the clinic
    make_part(alpha, "diagnosis", late, code="J06.9")
    make_part(alpha, "prescription", late, drug="Parasetamol sirup")
    newborn = make_visit(alpha, bayi, started_at=at(3, 11))
    make_part(alpha, "diagnosis", newborn, code="A09")
    january = make_visit(alpha, ani, started_at=at(20, 9, month=1))
    make_part(alpha, "diagnosis", january, code="I10")
    control = make_visit(alpha, ani, started_at=at(20, 9))
    make_part(alpha, "diagnosis", control, code="I10")
    wrong = make_part(alpha, "diagnosis", control, code="J06.9")
    mistaken = make_visit(alpha, budi, started_at=at(5, 8))
    make_part(alpha, "diagnosis", mistaken, code="J06.9")
    with schema_context(alpha.clinic.schema_name):
        owner = actor(alpha, Role.OWNER)
        services.record_void(instance=Diagnosis.objects.get(pk=wrong.pk), actor=owner, reason="Salah input")
        services.record_void(instance=mistaken, actor=owner, reason="Pasien salah")
    return alpha


def in_clinic(clinic, work):
    with schema_context(clinic.clinic.schema_name):
        return work()


def test_visits_per_day_and_month_with_new_and_returning_patients(february):
    start, end = datetime.date(2025, 2, 1), datetime.date(2025, 2, 28)
    days = in_clinic(february, lambda: reports.visits_report(start, end, "day"))
    assert [(row.period.isoformat(), row.visits, row.new_patients, row.returning) for row in days] == [
        ("2025-02-03", 3, 3, 0),  # Siti, Budi at 23:00 and the newborn: each a first visit
        ("2025-02-10", 1, 0, 1),  # Siti again
        ("2025-02-20", 1, 0, 1),  # Ani, seen in January
    ]
    [month] = in_clinic(february, lambda: reports.visits_report(start, end, "month"))
    assert (month.period, month.visits, month.new_patients, month.returning) == (start, 5, 3, 2)
    by_practitioner = in_clinic(february, lambda: reports.visits_by_practitioner(start, end))
    assert sum(row.visits for row in by_practitioner) == 5


def test_the_lb1_table_splits_age_groups_and_sex_and_counts_new_cases_once(february):
    rows = in_clinic(february, lambda: reports.morbidity_report(datetime.date(2025, 2, 1)))
    table = {row.code: (dict(row.new), dict(row.all)) for row in rows}
    assert [row.code for row in rows] == ["A01.0", "A09", "I10", "J06.9"]
    assert table["A01.0"] == ({("20-44 th", "F"): 1}, {("20-44 th", "F"): 2})  # the second visit is no new case
    assert table["A09"] == ({("0-7 hr", "F"): 1}, {("0-7 hr", "F"): 1})  # six days old
    assert table["I10"] == ({}, {("60-69 th", "F"): 1})  # diagnosed in January already
    assert table["J06.9"] == ({("1-4 th", "M"): 1}, {("1-4 th", "M"): 1})  # the voided ones do not count


@pytest.mark.parametrize(
    ("born", "on", "group"),
    [
        ("2025-02-01", "2025-02-08", "0-7 hr"),
        ("2025-02-01", "2025-02-09", "8-28 hr"),
        ("2025-02-01", "2025-03-01", "8-28 hr"),
        ("2025-02-01", "2025-03-02", "1-11 bl"),
        ("2024-02-02", "2025-02-01", "1-11 bl"),
        ("2024-02-01", "2025-02-01", "1-4 th"),
        ("2020-02-02", "2025-02-01", "1-4 th"),
        ("2020-02-01", "2025-02-01", "5-9 th"),
        ("2005-06-01", "2025-06-01", "20-44 th"),
        ("1980-06-02", "2025-06-01", "20-44 th"),
        ("1980-06-01", "2025-06-01", "45-54 th"),
        ("1955-06-01", "2025-06-01", "70+ th"),
    ],
)
def test_age_groups_at_their_edges(born, on, group):
    assert reports.age_group(datetime.date.fromisoformat(born), datetime.date.fromisoformat(on)) == group


def test_the_top_ten_counts_a_drug_however_it_was_typed(february):
    start, end = datetime.date(2025, 2, 1), datetime.date(2025, 2, 28)
    diagnoses = in_clinic(february, lambda: reports.top_diagnoses(start, end))
    assert [(row.name, row.count) for row in diagnoses] == [("A01.0", 2), ("A09", 1), ("I10", 1), ("J06.9", 1)]
    drugs = in_clinic(february, lambda: reports.top_prescriptions(start, end))
    assert [(row.name, row.count) for row in drugs] == [("Kloramfenikol 500 mg", 2), ("Parasetamol sirup", 1)]


def test_the_api_gives_json_and_csv_to_owners(february, api):
    owner = api(Role.OWNER)
    visits = owner.get("/api/reports/visits/", start="2025-02-01", end="2025-02-28", period="month")
    assert visits.status_code == 200
    assert visits.json()["rows"] == [{"period": "2025-02-01", "visits": 5, "new_patients": 3, "returning": 2}]
    lb1 = owner.get("/api/reports/morbidity/", month="2025-02")
    assert lb1.status_code == 200
    assert lb1.json()["rows"][0] | {"title": ""} == {
        "code": "A01.0",
        "title": "",
        "new": {"20-44 th F": 1},
        "all": {"20-44 th F": 2},
        "new_total": 1,
        "all_total": 2,
    }
    exported = owner.get("/api/reports/morbidity/", month="2025-02", export="csv")
    assert exported["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(exported.content.decode())))
    assert len(table) == 5  # the header and four codes
    assert table[0][:2] == ["ICD-10 code", "diagnosis"]
    assert len(table[0]) == 2 + 2 * 24 + 2  # new and all, 12 age groups x F/M, then the totals
    top = owner.get("/api/reports/top/", start="2025-02-01", end="2025-02-28")
    assert top.json()["prescriptions"][0] == {"name": "Kloramfenikol 500 mg", "title": "", "count": 2}


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.FRONT_DESK])
@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/reports/visits/", {"start": "2025-02-01", "end": "2025-02-28"}),
        ("/api/reports/morbidity/", {"month": "2025-02"}),
        ("/api/reports/top/", {"start": "2025-02-01", "end": "2025-02-28"}),
    ],
)
def test_only_owners_read_reports(api, role, path, query):
    refused = api(role).get(path, **query)
    assert refused.status_code == 403
    assert "owner" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/reports/visits/", {}),
        ("/api/reports/visits/", {"start": "2025-02-28", "end": "2025-02-01"}),
        ("/api/reports/visits/", {"start": "2024-01-01", "end": "2025-02-28"}),
        ("/api/reports/visits/", {"start": "2025-02-01", "end": "2025-02-28", "period": "year"}),
        ("/api/reports/morbidity/", {"month": "2025-13"}),
        ("/api/reports/morbidity/", {"month": "0001-01"}),
        ("/api/reports/top/", {"start": "kemarin", "end": "2025-02-28"}),
    ],
)
def test_a_wrong_question_is_a_400_with_a_message(api, path, query):
    answer = api(Role.OWNER).get(path, **query)
    assert answer.status_code == 400
    assert answer.json()


def test_the_reports_page_shows_the_month_to_the_owner_in_indonesian(february):
    owner = login(february.host, february.email(Role.OWNER))
    page = owner.get("/reports/", {"month": "2025-02"}, HTTP_ACCEPT_LANGUAGE="id")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Laporan · Februari 2025" in text
    assert "5 kunjungan: 3 pasien baru, 2 pasien lama." in text
    assert "A01.0 Demam tifoid" in text  # the Indonesian title
    assert "Kloramfenikol 500 mg" in text
    assert "/api/reports/morbidity/?month=2025-02&export=csv" in text
    assert owner.get("/reports/", {"month": "bukan-bulan"}).status_code == 200  # this month instead


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.FRONT_DESK])
def test_only_owners_open_the_reports_page(alpha, role):
    assert login(alpha.host, alpha.email(role)).get("/reports/").status_code == 403
