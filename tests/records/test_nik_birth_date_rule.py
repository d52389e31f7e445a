"""A NIK's digits 7 to 12 are the patient's birth date (DDMMYY), 40 added to the day exactly for a woman:
held on every write path (REST create and change, sync create, update, merge and conflict resolution).
A patient stored with a NIK that does not match (before the rule) can still have other fields changed."""

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django_tenants.utils import schema_context

from records import services
from records.demo_data import generate
from records.models import Patient
from records.validators import validate_nik_matches_person
from tenants.accounts.models import Role
from tests.records.conftest import actor, make_patient

pytestmark = pytest.mark.django_db

SITI = {"full_name": "Siti Aminah", "birth_date": "1987-03-02", "sex": "F", "nik": "3174014203870001"}
BIRTH_DATE_MESSAGE = "its digits 7 to 12 should be"
WOMANS_NIK = "This NIK is a woman's"
MANS_NIK = "This NIK is a man's"


@dataclass(frozen=True)
class Outcome:
    refused: bool
    errors: dict[str, list[str]]


def _push(api, mutation: dict[str, Any]) -> Outcome:
    """One mutation from a device of its own (its first, seq 1)."""
    device = "nik-" + uuid.uuid4().hex[:12]
    response = api(Role.FRONT_DESK).post("/api/sync/push", {"device_id": device, "mutations": [{"seq": 1, **mutation}]})
    assert response.status_code == 200, response.content
    [result] = response.json()["results"]
    return Outcome(result["status"] == "rejected", result.get("errors") or {})


def _rest(response) -> Outcome:
    assert response.status_code in (200, 201, 400), response.content
    return Outcome(
        response.status_code == 400, response.json().get("errors", {}) if response.status_code == 400 else {}
    )


def create(api, path: str, fields: dict[str, Any]) -> tuple[Outcome, str]:
    record_id = str(uuid.uuid4())
    if path == "rest":
        return _rest(api(Role.FRONT_DESK).post("/api/patients/", {"id": record_id, **fields})), record_id
    mutation = {"entity": "patient", "record_id": record_id, "op": "create", "base_version": 0, "fields": fields}
    return _push(api, mutation), record_id


def _stored(alpha, record_id: str) -> dict[str, Any] | None:
    with schema_context(alpha.clinic.schema_name):
        patient = Patient.objects.filter(pk=record_id).first()
        return services.snapshot(patient) | {"version": patient.version} if patient else None


def update(api, alpha, path: str, record_id: str, fields: dict[str, Any]) -> Outcome:
    """A change by one path; "merge": another device changed the address first, so this change (made on
    the version before) is merged field by field."""
    version = _stored(alpha, record_id)["version"]
    if path == "rest":
        return _rest(api(Role.FRONT_DESK).patch(f"/api/patients/{record_id}/", {**fields, "version": version}))
    if path == "merge":
        with schema_context(alpha.clinic.schema_name):
            services.record_update(
                instance=Patient.objects.get(pk=record_id),
                actor=actor(alpha, Role.DOCTOR),
                changes={"address": f"Jl. Lain {uuid.uuid4().hex[:4]}"},
            )
    mutation = {"entity": "patient", "record_id": record_id, "op": "update", "base_version": version, "fields": fields}
    return _push(api, mutation)


def _refused_for(outcome: Outcome, message: str) -> None:
    assert outcome.refused, outcome
    assert set(outcome.errors) == {"nik"}, outcome.errors
    assert message in " ".join(outcome.errors["nik"]), outcome.errors


# --- create ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["rest", "sync"])
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (SITI, None),
        ({**SITI, "sex": "M", "nik": "3174010203870001"}, None),
        ({**SITI, "nik": ""}, None),
        ({**SITI, "nik": "3174014303870001"}, BIRTH_DATE_MESSAGE),  # the day is 03
        ({**SITI, "nik": "3174014204870001"}, BIRTH_DATE_MESSAGE),  # the month is 04
        ({**SITI, "nik": "3174014203880001"}, BIRTH_DATE_MESSAGE),  # the year is 88
        ({**SITI, "nik": "3174010203870001"}, MANS_NIK),  # a woman without 40 added
        ({**SITI, "sex": "M"}, WOMANS_NIK),  # a man with 40 added
    ],
    ids=["woman", "man", "no NIK", "day", "month", "year", "woman without 40", "man with 40"],
)
def test_a_new_patients_nik_matches_the_birth_date_and_sex(api, alpha, path, fields, message):
    outcome, record_id = create(api, path, fields)
    if message is None:
        assert not outcome.refused, outcome
        assert _stored(alpha, record_id)["nik"] == fields["nik"]
    else:
        _refused_for(outcome, message)
        assert _stored(alpha, record_id) is None


def test_the_message_says_what_the_digits_should_be_in_indonesian(api, alpha):
    client = api(Role.FRONT_DESK).client
    response = client.post(
        "/api/patients/",
        {**SITI, "nik": "3174014303870001"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="id",
    )
    assert response.status_code == 400
    [message] = response.json()["errors"]["nik"]
    assert "digit ke-7 sampai ke-12 seharusnya 420387" in message
    assert "Periksa NIK dan tanggal lahir." in message


# --- change -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["rest", "sync", "merge"])
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "0812 3456 7890"}, None),
        ({"nik": "3174014203870002"}, None),
        ({"nik": ""}, None),
        ({"birth_date": "1987-03-03", "nik": "3174014303870001"}, None),
        ({"sex": "M", "nik": "3174010203870001"}, None),
        ({"nik": "3174014303870001"}, BIRTH_DATE_MESSAGE),
        ({"birth_date": "1987-03-03"}, BIRTH_DATE_MESSAGE),
        ({"birth_date": "1988-03-02"}, BIRTH_DATE_MESSAGE),
        ({"sex": "M"}, WOMANS_NIK),
        ({"nik": "3174010203870001"}, MANS_NIK),
    ],
    ids=[
        "phone",
        "another matching NIK",
        "NIK removed",
        "birth date and NIK together",
        "sex and NIK together",
        "NIK of another day",
        "birth date alone",
        "birth year alone",
        "sex alone",
        "a man's NIK",
    ],
)
def test_a_change_keeps_the_nik_matching(api, alpha, path, changes, message):
    record_id = str(make_patient(alpha, **SITI).pk)
    before = _stored(alpha, record_id)
    outcome = update(api, alpha, path, record_id, changes)
    after = _stored(alpha, record_id)
    if message is None:
        assert not outcome.refused, outcome
        assert {name: after[name] for name in changes} == changes
    else:
        _refused_for(outcome, message)
        assert {name: after[name] for name in changes} == {name: before[name] for name in changes}


@pytest.mark.parametrize("path", ["rest", "sync", "merge"])
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "0812 3456 7890"}, None),
        ({"full_name": "Siti Aminah Lubis", "allergies": "Penisilin"}, None),
        ({"nik": "3174014203870001"}, None),  # put right
        ({"nik": "3174014203870001", "birth_date": "1987-03-02"}, None),  # the same date, sent again
        ({"birth_date": "1987-03-04"}, BIRTH_DATE_MESSAGE),
        ({"sex": "M"}, BIRTH_DATE_MESSAGE),
    ],
    ids=["phone", "name and allergies", "NIK put right", "NIK put right, date resent", "birth date", "sex"],
)
def test_a_patient_stored_before_the_rule_is_still_changed_where_the_change_is_not_the_nik(
    api, alpha, path, changes, message
):
    record_id = str(make_patient(alpha, **{**SITI, "nik": ""}).pk)
    with schema_context(alpha.clinic.schema_name):
        Patient.objects.filter(pk=record_id).update(nik="3174010103870001")  # a man born on 1 March
    outcome = update(api, alpha, path, record_id, changes)
    after = _stored(alpha, record_id)
    if message is None:
        assert not outcome.refused, outcome
        assert {name: after[name] for name in changes} == changes
    else:
        _refused_for(outcome, message)
        assert after["nik"] == "3174010103870001"


def test_a_conflict_on_the_nik_is_resolved_only_with_a_matching_one(api, alpha):
    record_id = str(make_patient(alpha, **SITI).pk)
    first = update(api, alpha, "sync", record_id, {"nik": "3174014203870002"})
    assert not first.refused
    device = "nik-" + uuid.uuid4().hex[:12]
    client = api(Role.FRONT_DESK)
    base = {"entity": "patient", "record_id": record_id, "op": "update", "base_version": 1}
    body = {"device_id": device, "mutations": [{"seq": 1, **base, "fields": {"nik": "3174014203870003"}}]}
    [result] = client.post("/api/sync/push", body).json()["results"]
    assert result["status"] == "conflict", result
    resolve = {"entity": "conflict", "record_id": result["conflict_id"], "op": "resolve", "base_version": 1}
    answers = client.post(
        "/api/sync/push",
        {
            "device_id": device,
            "mutations": [
                {"seq": 2, **resolve, "fields": {"value": "3174010203870003"}},  # a man's
                {"seq": 3, **resolve, "fields": {"value": "3174014203870003"}},
            ],
        },
    ).json()["results"]
    assert [answer["status"] for answer in answers] == ["rejected", "applied"], answers
    assert MANS_NIK in " ".join(answers[0]["errors"]["nik"])
    assert _stored(alpha, record_id)["nik"] == "3174014203870003"


def test_the_demo_patients_niks_match_their_birth_date_and_sex(alpha):
    """The demo's patients are written in bulk (not through the checked writes): each NIK is checked here."""
    with schema_context(alpha.clinic.schema_name):
        generate(patients=300, visits=0, seed=13)
        patients = list(Patient.objects.exclude(nik=""))
    assert len(patients) > 200
    for patient in patients:
        female = patient.sex == Patient.Sex.FEMALE
        validate_nik_matches_person(patient.nik, patient.birth_date, female)
