"""Pull: the change log in commit order, paged, filtered by role, with tombstones and resets."""

import psycopg2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from sync.changelog import take_numbers
from sync.models import Change
from tenants.accounts.models import User

pytestmark = pytest.mark.django_db


def chart(phone, n_patients=3):
    """Patients, each with a visit holding vitals, a diagnosis and a prescription."""
    ids = []
    for n in range(n_patients):
        patient = phone.create("patient", {"full_name": f"Pasien {n}", "birth_date": "1990-01-01", "sex": "M"})
        visit = phone.create(
            "visit", {"patient": patient, "started_at": timezone.now().isoformat(), "subjective": "Batuk"}
        )
        vitals = phone.create("vitals", {"visit": visit, "measured_at": timezone.now().isoformat(), "pulse": 80})
        diagnosis = phone.create("diagnosis", {"visit": visit, "code": "j069"})
        rx = phone.create(
            "prescription", {"visit": visit, "drug": "Paracetamol 500 mg", "dose": "500 mg", "frequency": "3x1"}
        )
        ids.append((patient, visit, vitals, diagnosis, rx))
    phone.push_all()
    assert phone.failed == []
    return ids


def test_full_download_pages_through_the_log_in_order(device):
    chart(device("doctor"))
    reader = device("nurse")
    seen, cursor = [], 0
    while True:
        response = reader.api.get("/api/sync/pull", cursor=cursor, limit=4, device_id=reader.device_id)
        body = response.json()
        # The headers say where the next page starts, so a slow link can ask for it before this body is in.
        assert response["X-Sync-Cursor"] == str(body["cursor"])
        assert response["X-Sync-More"] == ("1" if body["has_more"] else "0")
        seen += [change["seq"] for change in body["changes"]]
        cursor = body["cursor"]
        if not body["has_more"]:
            break
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 15


def test_pull_returns_whole_records_with_versions(device):
    doctor = device("doctor")
    [(patient, visit, vitals, diagnosis, _rx)] = chart(doctor, 1)
    doctor.pull()
    assert doctor.data("diagnosis", diagnosis)["code"] == "J06.9"
    assert doctor.data("diagnosis", diagnosis)["title"]
    assert doctor.data("visit", visit)["subjective"] == "Batuk"
    assert doctor.data("vitals", vitals)["pulse"] == 80
    assert doctor.copy[("patient", patient)]["version"] == 1


def test_front_desk_never_receives_clinical_content(device):
    doctor = device("doctor")
    [(patient, visit, *_parts)] = chart(doctor, 1)
    desk = device("frontdesk")
    desk.pull()
    assert {entity for entity, _id in desk.copy} == {"patient", "visit"}
    data = desk.data("visit", visit)
    for field in ("subjective", "objective", "assessment", "plan"):
        assert field not in data
    assert data["patient"] == patient


def test_voids_travel_as_tombstones(device):
    doctor = device("doctor")
    [(_p, _v, _vitals, _d, rx)] = chart(doctor, 1)
    doctor.pull()
    doctor.void("prescription", rx, "Salah obat")
    doctor.sync()
    entry = doctor.copy[("prescription", rx)]
    assert entry["op"] == "void"
    assert entry["version"] == 2
    assert entry["data"]["voided_at"]
    assert entry["data"]["void_reason"] == "Salah obat"


def test_log_keeps_one_row_per_record(alpha, device):
    doctor = device("doctor")
    [(patient, *_rest)] = chart(doctor, 1)
    doctor.pull()
    for n in range(5):
        doctor.update("patient", patient, {"phone": f"08123{n}"})
    doctor.sync()
    with schema_context(alpha.clinic.schema_name):
        assert Change.objects.filter(record_id=patient).count() == 1
        assert Change.objects.get(record_id=patient).version == 6


def test_a_role_change_resets_the_device(alpha, device):
    nurse = device("nurse")
    chart(device("doctor"), 1)
    nurse.pull()
    assert any(entity == "vitals" for entity, _id in nurse.copy)
    with schema_context(alpha.clinic.schema_name):
        User.objects.filter(email=alpha.email("nurse")).update(role="frontdesk")
    body = nurse.api.get("/api/sync/pull", cursor=nurse.cursor, device_id=nurse.device_id).json()
    assert body["reset"] is True
    assert body["changes"] == []
    nurse.pull()
    assert {entity for entity, _id in nurse.copy} == {"patient", "visit"}


def test_each_page_says_how_many_changes_remain(device):
    chart(device("doctor"))  # 15 records
    reader = device("nurse")
    cursor, remaining = 0, []
    while True:
        body = reader.api.get("/api/sync/pull", cursor=cursor, limit=4, device_id=reader.device_id).json()
        remaining.append(body["remaining"])
        cursor = body["cursor"]
        if not body["has_more"]:
            break
    assert remaining == [11, 7, 3, 0]


def test_a_client_that_knows_the_total_can_skip_the_count(device):
    chart(device("doctor"))  # 15 records
    reader = device("nurse")
    first = reader.api.get("/api/sync/pull", cursor=0, limit=4, device_id=reader.device_id).json()
    with CaptureQueriesContext(connection) as captured:
        later = reader.api.get("/api/sync/pull", cursor=first["cursor"], limit=4, count=0, device_id=reader.device_id)
    assert later.status_code == 200
    assert not any("COUNT(" in query["sql"] for query in captured.captured_queries)
    assert first["remaining"] == 11
    assert later.json()["remaining"] is None
    assert len(later.json()["changes"]) == 4
    refused = reader.api.get("/api/sync/pull", cursor=0, count="maybe", device_id=reader.device_id)
    assert refused.status_code == 400
    assert "count" in refused.json()["errors"]


def test_a_cursor_beyond_the_log_resets(device):
    doctor = device("doctor")
    chart(doctor, 1)
    body = doctor.api.get("/api/sync/pull", cursor=10**12, device_id=doctor.device_id).json()
    assert body["reset"] is True


@pytest.mark.parametrize("params", [{"cursor": "-1"}, {"cursor": "abc"}, {"limit": "0"}, {"cursor": "1" * 30}])
def test_bad_cursor_or_limit_is_400(api, params):
    response = api("doctor").get("/api/sync/pull", device_id="dev-12345678", **params)
    assert response.status_code == 400


def test_pull_needs_a_device_id(api):
    response = api("doctor").get("/api/sync/pull")
    assert response.status_code == 400
    assert "device_id" in response.json()["errors"]


def test_pull_query_count_does_not_grow_with_the_page(device):
    doctor = device("doctor")
    chart(doctor, 2)
    reader = device("doctor")
    reader.pull(limit=1)  # registers the device

    def queries(limit):
        with CaptureQueriesContext(connection) as captured:
            reader.api.get("/api/sync/pull", cursor=0, limit=limit, device_id=reader.device_id)
        return len(captured)

    small = queries(10)  # the two charts: every kind once at least
    chart(doctor, 6)
    assert queries(40) == small


def test_commit_order_follows_the_counter(alpha, device):
    doctor = device("doctor")
    chart(doctor, 2)
    with schema_context(alpha.clinic.schema_name), connection.cursor() as cursor:
        cursor.execute("SELECT value FROM sync_changecounter WHERE id = 1")
        (counter,) = cursor.fetchone()
        assert Change.objects.order_by("-seq").first().seq == counter


def test_a_second_writer_cannot_take_a_number_until_the_first_commits(alpha, device):
    """The reason pull never skips a change: a transaction that numbered a change holds the counter
    until it ends, so a later number cannot commit (and be read past) before an earlier one. Here the
    test's own transaction has written a record; a second connection tries to number a change."""
    doctor = device("doctor")
    doctor.create("patient", {"full_name": "Urutan Komit", "birth_date": "1980-01-01", "sex": "F"})
    doctor.push()  # inside this test's transaction, still open
    settings = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or None,
    )
    try:
        with other.cursor() as cursor:
            cursor.execute("SET search_path TO %s", [alpha.clinic.schema_name])
            cursor.execute("SET lock_timeout = '300ms'")
            with pytest.raises(psycopg2.errors.LockNotAvailable):
                take_numbers(cursor, 1)
    finally:
        other.rollback()
        other.close()


def test_a_push_takes_the_change_counter_only_at_its_end(alpha, device, monkeypatch):
    """Why pushes of one clinic neither deadlock nor queue: the change counter is a row lock taken by
    the statement that numbers changes, and a push numbers its changes once, at its end, after every
    other lock it holds (a patient's record-number counter included) and just before it commits. Here,
    in the middle of a push whose first mutation is an update and whose second creates a patient, the
    counter has not moved (so it is not locked by this push), and at its end it moved by both."""
    from sync import services as sync_services

    doctor = device("doctor")
    patient = doctor.create("patient", {"full_name": "Kunci Akhir", "birth_date": "1980-01-01", "sex": "F"})
    doctor.push()
    doctor.update("patient", patient, {"phone": "081234567890"})
    doctor.create("patient", {"full_name": "Pasien Kedua", "birth_date": "1991-03-04", "sex": "M"})
    applied, counters = sync_services._apply_or_refuse, []

    def counter() -> int:
        with schema_context(alpha.clinic.schema_name), connection.cursor() as cursor:
            cursor.execute("SELECT max(seq) FROM sync_change")
            return cursor.fetchone()[0]

    def apply_and_look(actor, mutation):
        result = applied(actor, mutation)
        counters.append(counter())
        return result

    before = counter()
    monkeypatch.setattr(sync_services, "_apply_or_refuse", apply_and_look)
    doctor.push()
    assert doctor.failed == []
    assert counters == [before, before]  # nothing numbered while the mutations applied
    assert counter() == before + 2
