"""The app's pure helpers of the visit screen, run in Node as the browser runs them: whether a drug
matches a patient's allergies (pwa/src/allergies.js) and a patient's age on the visit's day
(pwa/src/age.js)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

PWA_SRC = Path(__file__).resolve().parents[1] / "pwa" / "src"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js builds the app; these tests need it too")


def _run(module: str, function: str, calls: list[list]) -> list:
    """`function` of `module` (in pwa/src) over each argument list, in one Node process."""
    script = (
        f"import {{ {function} }} from {json.dumps((PWA_SRC / module).as_uri())};"
        "let input = ''; process.stdin.on('data', (d) => { input += d; });"
        f"process.stdin.on('end', () => console.log(JSON.stringify(JSON.parse(input).map((a) => {function}(...a)))));"
    )
    result = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)


def matches(allergies: str, drug: str) -> list[tuple[str, str | None]]:
    [found] = _run("allergies.js", "allergyMatches", [[allergies, drug]])
    return [(m["allergy"], m["group"]) for m in found]


@pytest.mark.parametrize(
    ("allergies", "drug", "expected"),
    [
        # A direct match, whatever the case and however the allergy is written.
        ("amoksisilin", "Amoksisilin 500 mg", [("amoksisilin", None)]),
        ("Alergi obat: Ponstan (ruam)", "PONSTAN 500", [("Alergi obat: Ponstan (ruam)", None)]),
        # Penicillins: the group's name, or one of them, and the English spelling.
        ("Penisilin, udang", "Amoksisilin 500 mg", [("Penisilin", "penicillin")]),
        ("penicillin", "Amoxicillin 500 mg", [("penicillin", "penicillin")]),
        ("Penisilin", "Ampisilin injeksi 1 g", [("Penisilin", "penicillin")]),
        ("amoksisilin", "Ampicillin", [("amoksisilin", "penicillin")]),
        ("penisilin", "Ko-amoksiklav 625 mg", [("penisilin", "penicillin")]),
        # Sulfonamides, but not the sulfate salts.
        ("sulfa", "Kotrimoksazol 480 mg", [("sulfa", "sulfa")]),
        ("golongan sulfa", "Co-trimoxazole", [("golongan sulfa", "sulfa")]),
        ("sulfa", "Sulfas ferosus 300 mg", []),
        ("sulfa", "Magnesium sulfat", []),
        # NSAIDs, by the Indonesian and the English names of the group.
        ("NSAID", "Ibuprofen 400 mg", [("NSAID", "nsaid")]),
        ("OAINS", "Asam mefenamat 500 mg", [("OAINS", "nsaid")]),
        ("OAINS", "Natrium diklofenak 50 mg", [("OAINS", "nsaid")]),
        ("oains", "Piroksikam 20 mg", [("oains", "nsaid")]),
        ("ibuprofen", "Mefenamic acid", [("ibuprofen", "nsaid")]),
        ("aspirin", "Ketoprofen", [("aspirin", "nsaid")]),
        # Several allergies: each that matches, as written.
        ("Penisilin; sulfa dan udang", "Kotrimoksazol", [("sulfa", "sulfa")]),
        # What must not warn: a shared salt or form, an allergen that is no drug, nothing recorded.
        ("asam mefenamat", "Asam traneksamat 500 mg", []),
        ("natrium diklofenak", "Natrium klorida 0,9%", []),
        ("Udang, telur", "Parasetamol 500 mg", []),
        ("tidak ada", "Obat batuk hitam", []),
        ("", "Amoksisilin", []),
        ("Penisilin", "", []),
    ],
)
def test_a_drug_matches_the_allergies_it_should_and_no_others(allergies, drug, expected):
    assert matches(allergies, drug) == expected


def test_allergy_items_are_split_as_written():
    [items] = _run("allergies.js", "allergyItems", [["Penisilin, udang; sulfa / debu dan telur\nNSAID"]])
    assert items == ["Penisilin", "udang", "sulfa", "debu", "telur", "NSAID"]


@pytest.mark.parametrize(
    ("born", "on", "expected"),
    [
        ("1990-05-10", "2026-05-09", {"count": 35, "unit": "years"}),  # the day before the birthday
        ("1990-05-10", "2026-05-10", {"count": 36, "unit": "years"}),
        ("2024-06-15", "2026-06-14", {"count": 23, "unit": "months"}),  # under two: months
        ("2024-06-15", "2026-06-15", {"count": 2, "unit": "years"}),
        ("2025-07-01", "2026-03-01", {"count": 8, "unit": "months"}),
        ("2026-01-31", "2026-02-28", {"count": 28, "unit": "days"}),  # under a month: days
        ("2026-01-31", "2026-03-01", {"count": 1, "unit": "months"}),
        ("2026-03-01", "2026-03-01", {"count": 0, "unit": "days"}),
        ("2000-02-29", "2026-02-28", {"count": 25, "unit": "years"}),
        ("2026-03-02", "2026-03-01", None),  # born after the visit: no age
        (None, "2026-03-01", None),
    ],
)
def test_the_age_on_the_visits_day(born, on, expected):
    assert _run("age.js", "ageAt", [[born, on]]) == [expected]
