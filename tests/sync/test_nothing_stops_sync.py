"""Nothing a device can send stops its sync: each input that once gave a 500 (or an HTML 400) gets a
JSON 4xx with a message, stores nothing, and in a push is answered `rejected` on its own while the next
valid mutation of the same batch applies. Sent the way a browser sends them: `json.dumps` writes a lone
surrogate as `\\ud83d`, exactly as `JSON.stringify` does for an emoji cut in two."""

import json
import uuid
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_tenants.utils import schema_context

from records.models import Patient, Revision, Visit
from tenants.accounts.models import Role
from tests.records.conftest import make_patient, make_visit

pytestmark = pytest.mark.django_db

HALF_EMOJI = "penisilin 🤒"[:-1] + "\ud83d"  # what "penisilin 🤒".slice(0, -1) leaves
DEVICE = "dev-nothing-stops-01"


def _patient(**overrides):
    return {"full_name": "Dewi Lestari", "birth_date": "1990-04-12", "sex": "F", **overrides}


def _push(client, mutations):
    return client.post("/api/sync/push", {"device_id": DEVICE, "mutations": mutations})


def _numbered(mutations):
    return [{"seq": seq, "base_version": 0, **m} for seq, m in enumerate(mutations, start=1)]


def _create(fields, entity="patient"):
    return {"entity": entity, "record_id": str(uuid.uuid4()), "op": "create", "fields": fields}


def _patients_in(clinic):
    with schema_context(clinic.clinic.schema_name):
        return set(Patient.objects.values_list("full_name", flat=True))


# Each: a mutation the server cannot accept, and the key its refusal is under.
BAD_MUTATIONS = {
    "half emoji in a text": (_create(_patient(allergies=HALF_EMOJI)), "allergies"),
    "half emoji in a name": (_create(_patient(full_name="Budi \udc00 Santoso")), "full_name"),
    "NUL in a text": (_create(_patient(address="Jl. Merdeka\x00 5")), "address"),
    "op as an object": ({**_create(_patient()), "op": {"create": 1}}, "op"),
    "op as a list": ({**_create(_patient()), "op": ["create"]}, "op"),
    "entity as an object": ({**_create(_patient()), "entity": {"x": "patient"}}, "entity"),
    "entity as a list": ({**_create(_patient()), "entity": ["patient"]}, "entity"),
    "record_id as an object": ({**_create(_patient()), "record_id": {"id": 1}}, "record_id"),
    "fields as a list": ({**_create(_patient()), "fields": ["full_name"]}, "fields"),
    "NUL in a field name": (_create({**_patient(), "full\x00name": "x"}), "fields"),
    "half emoji in a field name": (_create({**_patient(), "nama\ud83d": "x"}), "fields"),
    "a field name of 5,000 characters": (_create({**_patient(), "x" * 5000: "x"}), "fields"),
    "a hundred unknown fields": (_create({**_patient(), **{f"f{i}": i for i in range(100)}}), "fields"),
    "a note over its limit": (_create(_patient(allergies="a" * 1001)), "allergies"),
    "an address over its limit": (_create(_patient(address="Jl. " + "x" * 500)), "address"),
    "born in year 1": (_create(_patient(birth_date="0001-01-01")), "birth_date"),
    "born in 1899": (_create(_patient(birth_date="1899-12-31")), "birth_date"),
    "half emoji in a reason": ({**_create(_patient()), "reason": "salah ketik \ud83d"}, "reason"),
    "base_version as text": ({**_create(_patient()), "base_version": "1"}, "base_version"),
}


@pytest.mark.parametrize(("bad", "key"), BAD_MUTATIONS.values(), ids=BAD_MUTATIONS.keys())
def test_a_bad_mutation_is_rejected_alone_and_the_next_applies(api, alpha, bad, key):
    client = api(Role.DOCTOR)
    mutations = _numbered([bad, _create(_patient(full_name="Sesudahnya Tetap Sampai"))])
    response = _push(client, mutations)
    assert response.status_code == 200, response.content[:400]
    first, second = response.json()["results"]
    assert first["status"] == "rejected"
    assert key in first["errors"], first
    assert all(message.strip() for messages in first["errors"].values() for message in messages)
    assert second["status"] == "applied"
    assert _patients_in(alpha) == {"Sesudahnya Tetap Sampai"}
    # The device resends (it lost the answer): both come back as duplicates, so it moves on.
    again = _push(client, mutations).json()["results"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert again[0]["original_status"] == "rejected"


def test_a_half_emoji_in_an_update_and_a_void_reason_of_a_visit_is_rejected_and_the_next_applies(api, alpha):
    patient = make_patient(alpha)
    visit = make_visit(alpha, patient)
    client = api(Role.DOCTOR)
    fine = {"entity": "visit", "record_id": str(visit.pk), "op": "update", "base_version": 1}
    mutations = [
        {**fine, "seq": 1, "fields": {"plan": "Parasetamol 3x500 mg " + "\ud83d"}},
        {**fine, "seq": 2, "op": "void", "reason": "Salah pasien \udc9a"},
        {**fine, "seq": 3, "fields": {"plan": "Parasetamol 3x500 mg 🙏"}},
    ]
    results = _push(client, mutations).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert "plan" in results[0]["errors"]
    assert "reason" in results[1]["errors"]
    with schema_context(alpha.clinic.schema_name):
        visit = Visit.objects.get(pk=visit.pk)
        assert visit.plan == "Parasetamol 3x500 mg 🙏"
        assert not visit.is_voided


def test_an_honest_big_batch_is_taken_and_one_over_the_limit_is_413_json(api, alpha, settings):
    """500 visits with 5,000-character notes (2.5 MiB) now fit; a body over the limit is a 413 that
    names it, in JSON, before anything is read."""
    patient = make_patient(alpha)
    client = api(Role.DOCTOR)
    note = "Pasien mengeluh demam tiga hari, batuk berdahak, nafsu makan turun. " * 74  # ~5,000 characters
    visits = [
        _create({"patient": str(patient.pk), "started_at": timezone.now().isoformat(), "subjective": note}, "visit")
        for _ in range(500)
    ]
    body = {"device_id": DEVICE, "mutations": _numbered(visits)}
    assert len(json.dumps(body)) > 2.5 * 1024 * 1024
    response = client.post("/api/sync/push", body)
    assert response.status_code == 200, response.content[:300]
    assert {r["status"] for r in response.json()["results"]} == {"applied"}

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    more = {"device_id": DEVICE, "mutations": _numbered(visits)}
    for path in ("/api/sync/push", "/api/patients/"):
        response = client.post(path, more)
        assert response.status_code == 413
        assert response["Content-Type"] == "application/json"
        assert response.json()["max_bytes"] == 1024 * 1024
        assert "1.0 MB" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/patients/"])
def test_json_nested_ten_thousand_deep_is_a_400_with_a_message(api, alpha, path):
    deep = "[" * 10_000 + "]" * 10_000
    client = api(Role.DOCTOR).client
    for body in (deep, f'{{"device_id": "{DEVICE}", "mutations": {deep}}}'):
        response = client.post(path, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, response.content[:200]
        assert "nested more than 64 levels" in json.dumps(response.json()["errors"])
    nested = "[" * 20 + '"x"' + "]" * 20  # deep, but under the parser's limit: refused by its field
    if path == "/api/patients/":
        body = f'{{"full_name": "Uji", "birth_date": "1990-01-01", "sex": "M", "allergies": {nested}}}'
        response = client.post(path, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert "allergies" in response.json()["errors"]
    else:
        mutations = _numbered([_create(_patient(allergies="x")), _create(_patient(full_name="Sesudah Bersarang"))])
        body = json.dumps({"device_id": DEVICE, "mutations": mutations}).replace(
            '"allergies": "x"', f'"allergies": {nested}'
        )
        response = client.post(path, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
        assert [r["status"] for r in response.json()["results"]] == ["rejected", "applied"]


@pytest.mark.parametrize(
    ("name", "value"), [("cursor", "²"), ("limit", "³"), ("cursor", "٣"), ("limit", "\uff11\uff10")]
)  # fullwidth 10
def test_pull_parameters_are_ascii_whole_numbers(api, alpha, name, value):
    response = api(Role.DOCTOR).get("/api/sync/pull", device_id=DEVICE, **{name: value})
    assert response.status_code == 400
    assert name in response.json()["errors"]


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (_patient(allergies=HALF_EMOJI), "allergies"),
        (_patient(full_name="Sri \ud83d Wahyuni"), "full_name"),
        ({**_patient(), "nama\x00": "x"}, "fields"),
        ({**_patient(), "nama\udfff": "x"}, "fields"),
        (_patient(birth_date="0001-01-01"), "birth_date"),
        (_patient(allergies="b" * 1001), "allergies"),
    ],
    ids=["half emoji", "half emoji in the name", "NUL in a name", "half emoji in a name", "year 1", "too long"],
)
def test_rest_create_and_update_refuse_what_cannot_be_stored(api, alpha, body, key):
    client = api(Role.FRONT_DESK)
    response = client.post("/api/patients/", body)
    assert response.status_code == 400, response.content[:300]
    assert key in response.json()["errors"]
    patient = make_patient(alpha, full_name="Tetap Utuh")
    changed = {name: value for name, value in body.items() if name not in ("sex", "birth_date") or key == name}
    response = client.patch(f"/api/patients/{patient.pk}/", {**changed, "version": 1})
    assert response.status_code == 400, response.content[:300]
    with schema_context(alpha.clinic.schema_name):
        assert Patient.objects.get(pk=patient.pk).full_name == "Tetap Utuh"
        assert Revision.objects.filter(record_id=patient.pk).count() == 1
    assert _patients_in(alpha) == {"Tetap Utuh"}


@pytest.mark.parametrize("path", ["/api/sync/pull?device_id=" + DEVICE, "/api/patients/"])
def test_a_database_out_of_reach_is_503_with_retry_after(api, alpha, path):
    client = api(Role.DOCTOR).client
    client.raise_request_exception = False
    lost = OperationalError("server closed the connection unexpectedly")
    target = "sync.selectors.pull" if "sync" in path else "records.selectors.patient_search"
    with mock.patch(target, side_effect=lost):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["error"] == "unavailable"
    assert "Tidak ada yang tersimpan" in response.json()["detail"]


def test_a_database_out_of_reach_on_a_page_is_a_503_page(alpha):
    from tests.conftest import host_client

    client = host_client(alpha.host)
    client.raise_request_exception = False
    with mock.patch("config.middleware.ClinicMiddleware.process_request", side_effect=OperationalError("gone")):
        response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert b"out of reach" in response.content


@pytest.mark.parametrize("value", [1e30, "1e30", 1e300, "1e999999", -1e30])
def test_a_huge_number_is_refused_on_every_path(api, alpha, value):
    """A person can type 1e30 in a number input: a 400 or `rejected` with the range, never a 500
    (the canonical form of the value used to raise before any check)."""
    visit = make_visit(alpha, make_patient(alpha))
    client = api(Role.DOCTOR)
    now = timezone.now().isoformat()
    vitals = {"visit": str(visit.pk), "measured_at": now, "pulse": 80}
    created = client.post("/api/vitals/", vitals).json()
    mutations = [
        {
            "seq": 1,
            "entity": "vitals",
            "record_id": created["id"],
            "op": "update",
            "base_version": 1,
            "fields": {"temperature_c": value},
        },
        {"seq": 2, **_create({**vitals, "temperature_c": value}, "vitals")},
        {"seq": 3, **_create({**vitals, "weight_kg": value}, "vitals")},
        {"seq": 4, **_create({**vitals, "weight_kg": 60.2}, "vitals")},
    ]
    results = _push(client, mutations).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected", "applied"], results
    assert "temperature_c" in results[0]["errors"]
    assert "weight_kg" in results[2]["errors"]
    response = client.patch(f"/api/vitals/{created['id']}/", {"temperature_c": value, "version": 1})
    assert response.status_code == 400
    assert "temperature_c" in response.json()["errors"]


@pytest.mark.parametrize("value", ["0001-01-01T00:30:00+05:00", "0001-01-01T03:00:00+07:00"])
def test_a_time_before_year_one_in_utc_is_refused_on_every_path(api, alpha, value):
    patient = make_patient(alpha)
    visit = make_visit(alpha, patient)
    client = api(Role.DOCTOR)
    mutations = [
        # Two creates in a row take the bulk path; the update, the merge path.
        {"seq": 1, **_create({"patient": str(patient.pk), "started_at": value}, "visit")},
        {"seq": 2, **_create({"patient": str(patient.pk), "started_at": value}, "visit")},
        {
            "seq": 3,
            "entity": "visit",
            "record_id": str(visit.pk),
            "op": "update",
            "base_version": 1,
            "fields": {"started_at": value},
        },
        {"seq": 4, **_create({"patient": str(patient.pk), "started_at": timezone.now().isoformat()}, "visit")},
    ]
    results = _push(client, mutations).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected", "applied"], results
    response = client.post("/api/visits/", {"patient": str(patient.pk), "started_at": value})
    assert response.status_code == 400


class _PostgresError(Exception):
    """What psycopg2 raises, as Django wraps it: the driver's error with PostgreSQL's code."""

    def __init__(self, pgcode):
        super().__init__("from PostgreSQL")
        self.pgcode = pgcode


def _psycopg_error(pgcode):
    error = OperationalError("from PostgreSQL")
    error.__cause__ = _PostgresError(pgcode)
    return error


@pytest.mark.parametrize(
    ("pgcode", "status"),
    [(None, 503), ("08006", 503), ("40P01", 503), ("40001", 503), ("57P01", 503), ("57014", 500), ("54000", 500)],
    ids=["lost", "connection failure", "deadlock", "serialization", "shutdown", "statement timeout", "limit"],
)
def test_only_what_a_retry_can_pass_is_503(api, alpha, pgcode, status):
    """A device retries 5xx: 503 says try again (nothing was saved), a 500 is an error to look at."""
    client = api(Role.DOCTOR).client
    client.raise_request_exception = False
    with mock.patch("sync.selectors.pull", side_effect=_psycopg_error(pgcode)):
        response = client.get("/api/sync/pull?device_id=" + DEVICE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == status
    assert ("Retry-After" in response) is (status == 503)


def test_a_value_stored_before_a_rule_existed_never_blocks_a_change_of_another_field(api, alpha):
    """Rows from before the length limits and the 1900 rule: a change of another field goes through on
    every path; a change of that field itself must meet the rule."""
    patient = make_patient(alpha, full_name="Data Lama")
    with schema_context(alpha.clinic.schema_name):
        Patient.objects.filter(pk=patient.pk).update(allergies="a" * 1500, birth_date="0001-01-01")
    client = api(Role.FRONT_DESK)
    response = client.patch(f"/api/patients/{patient.pk}/", {"phone": "081211112222", "version": 1})
    assert response.status_code == 200, response.content
    change = {"entity": "patient", "record_id": str(patient.pk), "op": "update", "base_version": 2}
    results = _push(
        client,
        [
            {**change, "seq": 1, "fields": {"address": "Jl. Kenanga 3, Bekasi"}},
            {**change, "seq": 2, "fields": {"allergies": "b" * 1200}},
        ],
    ).json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert "allergies" in results[1]["errors"]
    with schema_context(alpha.clinic.schema_name):
        stored = Patient.objects.get(pk=patient.pk)
    assert (stored.phone, stored.address, len(stored.allergies)) == ("081211112222", "Jl. Kenanga 3, Bekasi", 1500)
