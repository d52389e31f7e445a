"""Patients: register (with a duplicate warning), search and page, change, void; clear 400s."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from records.models import Patient, Revision
from tenants.accounts.models import Role
from tests.records.conftest import make_patient

pytestmark = pytest.mark.django_db
VALID_NIK = "3174014203870001"  # DKI Jakarta, woman born 02-03-1987


def test_front_desk_registers_a_patient_and_gets_a_record_number(api, alpha):
    response = api(Role.FRONT_DESK).post(
        "/api/patients/",
        {"full_name": "Siti Aminah", "birth_date": "1987-03-02", "sex": "F", "nik": VALID_NIK, "phone": "0812"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["medical_record_number"].startswith("RM")
    assert body["version"] == 1
    assert body["warnings"] == []
    with schema_context(alpha.clinic.schema_name):
        revision = Revision.objects.get(record_id=body["id"])
    assert revision.action == "create"
    assert revision.after["full_name"] == "Siti Aminah"
    assert revision.before is None


def test_record_numbers_are_unique_and_a_clinic_may_assign_its_own(api):
    client = api(Role.FRONT_DESK)
    first = client.post("/api/patients/", {"full_name": "A", "birth_date": "1990-01-01", "sex": "M"}).json()
    second = client.post("/api/patients/", {"full_name": "B", "birth_date": "1990-01-01", "sex": "M"}).json()
    assert first["medical_record_number"] != second["medical_record_number"]
    own = client.post(
        "/api/patients/", {"full_name": "C", "birth_date": "1990-01-01", "sex": "M", "medical_record_number": "K-77"}
    )
    assert own.json()["medical_record_number"] == "K-77"
    taken = client.post(
        "/api/patients/", {"full_name": "D", "birth_date": "1990-01-01", "sex": "M", "medical_record_number": "K-77"}
    )
    assert taken.status_code == 400
    assert "medical_record_number" in taken.json()["errors"]


@pytest.mark.parametrize(
    "duplicate",
    [{"nik": VALID_NIK, "full_name": "Siti A."}, {"full_name": "siti aminah", "birth_date": "1987-03-02"}],
)
def test_a_likely_duplicate_is_registered_with_a_warning(api, alpha, duplicate):
    make_patient(alpha, nik=VALID_NIK)
    body = {"full_name": "Siti Aminah", "birth_date": "1987-03-02", "sex": "F", **duplicate}
    response = api(Role.FRONT_DESK).post("/api/patients/", body)
    assert response.status_code == 201
    warning = response.json()["warnings"][0]
    assert warning["code"] == "possible_duplicate"
    assert warning["patients"][0]["full_name"] == "Siti Aminah"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nik", "12345", "A NIK is exactly 16 digits."),
        ("nik", "9974014203870001", "This NIK is not valid"),
        ("nik", "3174019903870001", "This NIK is not valid"),
        ("birth_date", "2999-01-01", "This date is in the future."),
        ("birth_date", "02/03/1987", "invalid date format"),
        ("sex", "X", "is not a valid choice"),
        ("full_name", "", "This field cannot be blank."),
    ],
)
def test_bad_input_gets_a_field_message_and_nothing_is_saved(api, alpha, field, value, message):
    body = {"full_name": "Budi", "birth_date": "1980-05-05", "sex": "M", field: value}
    response = api(Role.FRONT_DESK).post("/api/patients/", body)
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"][field])
    with schema_context(alpha.clinic.schema_name):
        assert not Patient.objects.filter(full_name="Budi").exists()


@pytest.mark.parametrize("body", [[1, 2], "text", {"unknown_field": 1, "full_name": "X"}])
def test_malformed_bodies_are_400_not_500(api, body):
    response = api(Role.FRONT_DESK).post("/api/patients/", body)
    assert response.status_code == 400
    assert "errors" in response.json()


def test_search_by_name_record_number_and_nik(api, alpha):
    siti = make_patient(alpha, full_name="Siti Aminah", nik=VALID_NIK)
    make_patient(alpha, full_name="Bambang Pamungkas", birth_date="1975-06-01", sex="M")
    client = api(Role.FRONT_DESK)
    for query in ("amin", "SITI", siti.medical_record_number, VALID_NIK[:8]):
        names = [row["full_name"] for row in client.get("/api/patients/", q=query).json()["results"]]
        assert names == ["Siti Aminah"], query
    assert client.get("/api/patients/", q="zzz").json()["count"] == 0


def test_list_is_paged_and_its_query_count_is_pinned(api, alpha):
    for index in range(30):
        make_patient(alpha, full_name=f"Pasien {index:02d}", birth_date="1990-01-01")
    client = api(Role.FRONT_DESK)
    client.get("/api/patients/")  # warm the session
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/api/patients/", page=2).json()
    assert page["count"] == 30
    assert len(page["results"]) == 5
    # search_path x2, domain, session, user, count, page: the same at any size
    assert len(queries) == 7, "\n".join(q["sql"][:120] for q in queries)


def test_change_with_a_stale_version_is_a_conflict(api, alpha):
    patient = make_patient(alpha)
    client = api(Role.FRONT_DESK)
    changed = client.patch(f"/api/patients/{patient.pk}/", {"phone": "0811", "version": 1})
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    stale = client.patch(f"/api/patients/{patient.pk}/", {"phone": "0822", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["version"] == 2


def test_void_needs_a_reason_and_hides_the_patient_from_search(api, alpha):
    patient = make_patient(alpha, full_name="Salah Daftar")
    client = api(Role.FRONT_DESK)
    assert client.post(f"/api/patients/{patient.pk}/void/", {"reason": " "}).status_code == 400
    voided = client.post(f"/api/patients/{patient.pk}/void/", {"reason": "Registered twice"})
    assert voided.status_code == 200
    assert voided.json()["void_reason"] == "Registered twice"
    assert client.get("/api/patients/", q="Salah").json()["count"] == 0
    assert client.get("/api/patients/", q="Salah", include_voided="true").json()["count"] == 1
    with schema_context(alpha.clinic.schema_name):
        assert Patient.objects.filter(pk=patient.pk).exists()  # never deleted
    again = client.post(f"/api/patients/{patient.pk}/void/", {"reason": "again"})
    assert again.status_code == 400
    assert client.patch(f"/api/patients/{patient.pk}/", {"phone": "1"}).status_code == 400


def test_unknown_ids_are_404(api):
    client = api(Role.DOCTOR)
    assert client.get("/api/patients/not-a-uuid/").status_code == 404
    assert client.get("/api/patients/0b7e0000-0000-4000-8000-000000000000/").status_code == 404


def test_anonymous_gets_403(alpha):
    from tests.conftest import host_client

    response = host_client(alpha.host).get("/api/patients/")
    assert response.status_code == 403


def test_device_id_is_recorded(api, alpha):
    response = api(Role.FRONT_DESK, device_id="tablet-0007").post(
        "/api/patients/", {"full_name": "Dewi", "birth_date": "2000-01-01", "sex": "F"}
    )
    with schema_context(alpha.clinic.schema_name):
        assert Revision.objects.get(record_id=response.json()["id"]).device_id == "tablet-0007"
    bad = api(Role.FRONT_DESK, device_id="bad id!").get("/api/patients/")
    assert bad.status_code == 400


def test_birth_date_today_is_fine(api):
    today = timezone.localdate().isoformat()
    response = api(Role.FRONT_DESK).post("/api/patients/", {"full_name": "Bayi", "birth_date": today, "sex": "M"})
    assert response.status_code == 201
