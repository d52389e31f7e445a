"""The NIK rule is the same on the server and in the app: one file of cases (nik_cases.json) run through
the server's Patient.full_clean and through the app's pwa/src/rules.js (in node, with the rules the
models export now), which must find the same problem case by case."""

import datetime
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from records.models import Patient
from records.services import AUDIT_FIELDS
from tests.app_rules import run_rules_in_node

ROOT = Path(__file__).resolve().parents[2]
CASES = json.loads((Path(__file__).parent / "nik_cases.json").read_text())["cases"]
# The app's name for a problem the server names otherwise.
SERVER_NAME = {"too_long": "max_length"}

IN_NODE = """
const person = (c) => ({ nik: c.nik, birth_date: c.birth_date, sex: c.sex });
const found = input.cases.map((c) => problems('patient', person(c), null).nik || []);
process.stdout.write(JSON.stringify(found));
"""


def _on_the_server(case: dict) -> list[tuple[str, str | None]]:
    birth_date = datetime.date.fromisoformat(case["birth_date"]) if case["birth_date"] else None
    patient = Patient(
        full_name="Uji", medical_record_number="RM-NIK", nik=case["nik"], birth_date=birth_date, sex=case["sex"]
    )
    try:
        patient.full_clean(exclude=AUDIT_FIELDS, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return [(error.code, (error.params or {}).get("expected")) for error in exc.error_dict.get("nik", [])]
    return []


@pytest.fixture(scope="module")
def in_the_app() -> list[list[tuple[str, str | None]]]:
    return [
        [(SERVER_NAME.get(p["code"], p["code"]), (p.get("params") or {}).get("expected")) for p in found]
        for found in run_rules_in_node(IN_NODE, {"cases": CASES})
    ]


@pytest.mark.parametrize("index", range(len(CASES)), ids=[case["name"] for case in CASES])
def test_the_server_and_the_app_find_the_same(index, in_the_app):
    case = CASES[index]
    server, app = _on_the_server(case), in_the_app[index]
    assert sorted(server, key=str) == sorted(app, key=str), case
    codes = {code for code, _digits in server}
    if case["expect"] == "ok":
        assert codes == set(), case
    else:
        assert case["expect"] in codes, (case, server)
    if "digits" in case:
        assert (case["expect"], case["digits"]) in server, (case, server)


def test_the_cases_cover_every_problem_of_a_nik():
    expected = {case["expect"] for case in CASES}
    assert expected == {"ok", "nik_format", "nik_invalid", "nik_birth_date", "nik_sex"}
