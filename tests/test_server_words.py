"""Words and formats on the server's pages and emails: dates in the person's language (never the US
12/07/2026), the app's names for the roles, the favicon. (Signup's help text: tests/test_signup.py.)"""

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import translation
from django_tenants.utils import schema_context

from tenants.accounts.models import Invitation, Role
from tests.conftest import host_client, login

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
MONTHS = {
    "id": "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember",
    "en": "January February March April May June July August September October November December",
}
US_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b")
JAKARTA = ZoneInfo("Asia/Jakarta")


def _written(moment: datetime, language: str, *, time: bool = False) -> str:
    """How a person reads `moment` in `language`: 7 Desember 2026, 09.05 WIB / 7 December 2026, 09:05 WIB."""
    local = moment.astimezone(JAKARTA)
    month = MONTHS[language].split()[local.month - 1]
    date = f"{local.day} {month} {local.year}"
    if not time:
        return date
    separator = "." if language == "id" else ":"
    return f"{date}, {local.hour:02d}{separator}{local.minute:02d} WIB"


def _app_role_names() -> dict[str, dict[str, str]]:
    """The app's role_* words by language, read from pwa/src/i18n.js (`id: {...}` first, then `en: {...}`)."""
    source = (ROOT / "pwa" / "src" / "i18n.js").read_text()
    indonesian, english = source.split("\n  en: {", 1)
    return {
        language: dict(re.findall(r"role_(\w+): '([^']+)'", text))
        for language, text in (("id", indonesian), ("en", english))
    }


@pytest.mark.parametrize("language", ["id", "en"])
def test_role_names_are_the_apps(language):
    with translation.override(language):
        server = {role.value: str(role.label) for role in Role}
    assert server == _app_role_names()[language]


@pytest.mark.parametrize(("language", "front_desk"), [("id", "Pendaftaran"), ("en", "Front desk")])
def test_the_staff_page_writes_dates_and_roles_in_the_persons_language(alpha, language, front_desk):
    owner = login(alpha.host, alpha.email(Role.OWNER))
    owner.post("/staff/", {"email": "maya@alpha.test", "role": Role.FRONT_DESK}, HTTP_ACCEPT_LANGUAGE=language)
    expires = datetime(2099, 12, 7, 10, 0, tzinfo=JAKARTA)
    with schema_context(alpha.clinic.schema_name):
        Invitation.objects.filter(email="maya@alpha.test").update(expires_at=expires)
    body = owner.get("/staff/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    valid_until = {"id": "berlaku sampai", "en": "valid until"}[language]
    assert f"maya@alpha.test · {front_desk} · {valid_until} {_written(expires, language)}" in body
    assert f">{front_desk}</td>" in body  # the front-desk member in the staff table
    assert not US_DATE.search(body)


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_invitation_email_writes_its_date_in_the_inviters_language(alpha, language):
    owner = login(alpha.host, alpha.email(Role.OWNER))
    owner.post("/staff/", {"email": "budi@alpha.test", "role": Role.FRONT_DESK}, HTTP_ACCEPT_LANGUAGE=language)
    with schema_context(alpha.clinic.schema_name):
        expires = Invitation.objects.get(email="budi@alpha.test").expires_at
    assert expires - datetime.now(JAKARTA) > timedelta(days=6)
    body = mail.outbox[0].body
    assert _written(expires, language, time=True) in body
    assert {"id": "dengan peran Pendaftaran", "en": "as Front desk"}[language] in body
    assert not US_DATE.search(body)


def test_the_console_writes_the_clinics_created_date_in_words(alpha):
    operator = login("localhost", "operator@platform.test")
    body = operator.get("/console/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert f">{_written(alpha.clinic.created_at, 'id')}</td>" in body
    assert not US_DATE.search(body)


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_the_favicon_is_the_apps_icon_and_cached(platform_world, host):
    client = host_client(host)
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "max-age=86400" in response["Cache-Control"]
    icon = ROOT / "pwa" / "dist" / "icons" / "icon-192.png"
    assert b"".join(response.streaming_content) == icon.read_bytes()
    page = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/favicon.ico" type="image/png">' in page
