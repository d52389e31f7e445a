"""Every page in Bahasa Indonesia and English: complete catalogs, browser default first, user's choice."""

import gettext
import re
from pathlib import Path

import pytest

from tests.conftest import host_client

LOCALE = Path(__file__).resolve().parents[1] / "platform" / "locale"
ENTRY_RE = re.compile(r'^msgid "(.*)"\n((?:".*"\n)*)', re.MULTILINE)


def _po_entries(language: str) -> str:
    return (LOCALE / language / "LC_MESSAGES" / "django.po").read_text()


def _msgids(po: str) -> list[str]:
    ids = []
    for match in ENTRY_RE.finditer(po):
        text = match.group(1) + "".join(line[1:-1] for line in match.group(2).splitlines())
        if text:
            ids.append(text.encode().decode("unicode_escape").encode("latin-1").decode())
    return ids


def test_indonesian_catalog_is_complete_and_compiled():
    po = _po_entries("id")
    assert "#, fuzzy" not in po
    empty = re.findall(r'^msgid "(.+)"\nmsgstr ""\n\n', po, re.MULTILINE)
    assert empty == []
    catalog = gettext.GNUTranslations((LOCALE / "id" / "LC_MESSAGES" / "django.mo").open("rb"))
    ids = _msgids(po)
    assert len(ids) > 100
    compiled = {key if isinstance(key, str) else key[0] for key in catalog._catalog}
    missing = [msgid for msgid in ids if msgid not in compiled]
    assert missing == [], "run `make messages` after translating"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "expected"),
    [("id-ID,id;q=0.9", "Daftarkan klinik Anda"), ("en-US,en;q=0.9", "Register your clinic")],
)
def test_browser_language_is_the_default(platform_world, accept, expected):
    response = host_client("localhost").get("/", HTTP_ACCEPT_LANGUAGE=accept)
    assert expected in response.content.decode()


@pytest.mark.django_db
def test_user_choice_overrides_the_browser(alpha):
    client = host_client(alpha.host)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"}, HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 302
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="id")
    assert '<html lang="en">' in page.content.decode()


@pytest.mark.django_db
def test_an_unsupported_browser_language_falls_back_to_indonesian(platform_world):
    response = host_client("localhost").get("/", HTTP_ACCEPT_LANGUAGE="fr-FR")
    assert '<html lang="id">' in response.content.decode()
