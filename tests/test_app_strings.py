"""The offline app's own strings (pwa/src/i18n.js) in Bahasa Indonesia and English: both tables hold the
same keys, every key the app asks for exists, and so does a label for every name the app shows from the
server's data (each field of each kind of record, roles, kinds of record, sync operations)."""

import re
from pathlib import Path

from records.specs import SPECS
from sync.api import OPS
from tenants.accounts.models import Role

PWA_SRC = Path(__file__).resolve().parents[1] / "pwa" / "src"
KEY_RE = re.compile(r"(\w+):\s+['\"]")  # prettier writes a string holding ' in double quotes
USED_RE = re.compile(r"\bt\('(\w+)'")


def _tables() -> dict[str, set[str]]:
    source = (PWA_SRC / "i18n.js").read_text()
    blocks = re.search(r"\n  id: \{(.*?)\n  \},\n  en: \{(.*?)\n  \},\n\};", source, re.DOTALL)
    assert blocks, "i18n.js: the id and en tables were not found"
    return {"id": set(KEY_RE.findall(blocks[1])), "en": set(KEY_RE.findall(blocks[2]))}


def test_both_languages_have_the_same_keys():
    tables = _tables()
    assert len(tables["en"]) > 100
    assert tables["id"] ^ tables["en"] == set()


def test_every_key_the_app_asks_for_is_in_both_languages():
    used = {key for path in PWA_SRC.rglob("*.js") for key in USED_RE.findall(path.read_text())}
    assert len(used) > 50
    for language, keys in _tables().items():
        assert used - keys == set(), language


def test_every_name_shown_from_the_servers_data_has_a_label():
    """Field names come back in refusals and conflicts, and roles, kinds and operations are shown on
    the header and the Sync page: none may reach the screen untranslated."""
    wanted = {name for spec in SPECS.values() for name in spec.fields}
    wanted |= {"reason", "op", "record_id", "value", "fields"}
    wanted |= {f"role_{role}" for role in Role.values}
    wanted |= {f"entity_{entity}" for entity in [*SPECS, "conflict"]}
    wanted |= {f"op_{op}" for op in OPS}
    for language, keys in _tables().items():
        assert wanted - keys == set(), language
