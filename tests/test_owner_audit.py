"""The owner's audit trail page and its CSV export: changes and chart openings, filtered, newest first."""

import csv
import datetime
import io

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from records import services
from records.models import ChartAccess, Revision
from tenants.accounts.models import Role, User
from tests.conftest import login, user_in
from tests.records.conftest import actor, make_patient

pytestmark = pytest.mark.django_db


def _owner(alpha):
    return login(alpha.host, alpha.email(Role.OWNER))


@pytest.fixture
def trail(alpha):
    siti = make_patient(alpha, full_name="Siti Aminah")
    budi = make_patient(alpha, full_name="Budi Santoso")
    with schema_context(alpha.clinic.schema_name):
        doctor = actor(alpha, Role.DOCTOR)
        services.record_update(instance=siti, actor=doctor, changes={"phone": "08123456789"})
        ChartAccess.objects.create(patient=budi, user=doctor.user, device_id="tablet-poli-1")
        old = Revision.objects.get(record_id=budi.pk, version=1)
        Revision.objects.filter(pk=old.pk).update(at=timezone.now() - datetime.timedelta(days=10))
    return {"siti": siti, "budi": budi}


def test_changes_show_who_device_when_and_before_and_after(alpha, trail):
    page = _owner(alpha).get("/audit/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.index("08123456789") < page.index("Budi Santoso")  # newest first
    assert "Doctor Klinik Alpha" in page
    assert "test-device" in page
    assert "<ins>08123456789</ins>" in page


def test_filter_by_patient_person_and_days(alpha, trail):
    owner = _owner(alpha)
    siti = owner.get("/audit/", {"patient": "siti"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Siti Aminah" in siti
    assert "Budi Santoso" not in siti
    doctor = user_in(alpha, alpha.email(Role.DOCTOR))
    by_doctor = owner.get("/audit/", {"person": doctor.pk}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2 entries" not in by_doctor
    assert "1 entry" in by_doctor
    today = timezone.localdate().isoformat()
    recent = owner.get("/audit/", {"start": today, "end": today}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Budi Santoso" not in recent
    assert "Siti Aminah" in recent
    wrong = owner.get("/audit/", {"start": "kemarin"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "is not a date" in wrong


def test_chart_openings_show_who_device_and_patient(alpha, trail):
    page = _owner(alpha).get("/audit/", {"kind": "chart_access"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="audit-openings"' in page
    assert "Budi Santoso" in page
    assert "tablet-poli-1" in page
    none = _owner(alpha).get("/audit/", {"kind": "chart_access", "patient": "siti"}).content.decode()
    assert "Budi Santoso" not in none


def test_pages_of_fifty(alpha):
    with schema_context(alpha.clinic.schema_name):
        user = User.objects.get(email=alpha.email(Role.DOCTOR))
        Revision.objects.bulk_create(
            Revision(
                entity="patient",
                record_id=f"00000000-0000-0000-0000-{n:012d}",
                version=1,
                action="create",
                user=user,
                after={"full_name": f"P{n}"},
            )
            for n in range(60)
        )
    owner = _owner(alpha)
    first = owner.get("/audit/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Page 1 of 2" in first
    assert 'id="next-page"' in first
    second = owner.get("/audit/", {"page": 2}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Page 2 of 2" in second


def test_csv_export_streams_the_same_filter(alpha, trail):
    response = _owner(alpha).get("/audit/export.csv", {"patient": "siti"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["When", "Person", "Email"]
    assert all("Budi Santoso" not in " ".join(row) for row in rows)
    phone = [row for row in rows if row[10:12] == ["—", "08123456789"]]
    assert len(phone) == 1
    assert phone[0][3] == "test-device"
    openings = _owner(alpha).get("/audit/export.csv", {"kind": "chart_access"}, HTTP_ACCEPT_LANGUAGE="en")
    lines = list(csv.reader(io.StringIO(b"".join(openings.streaming_content).decode())))
    assert lines[1][3:5] == ["tablet-poli-1", "Budi Santoso"]


def test_a_formula_in_a_value_is_not_run_by_a_spreadsheet(alpha):
    make_patient(alpha, full_name="=HYPERLINK(1)")
    response = _owner(alpha).get("/audit/export.csv")
    assert "'=HYPERLINK(1)" in b"".join(response.streaming_content).decode()


def test_a_choice_is_shown_in_words_with_its_code(alpha, trail):
    with schema_context(alpha.clinic.schema_name):
        services.record_update(instance=trail["siti"], actor=actor(alpha, Role.DOCTOR), changes={"sex": "M"})
    english = _owner(alpha).get("/audit/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<del>Female (F)</del>" in english
    assert "<ins>Male (M)</ins>" in english
    indonesian = _owner(alpha).get("/audit/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "<ins>Laki-laki (M)</ins>" in indonesian
