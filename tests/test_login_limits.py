"""Sign-in limits that cannot be turned against staff: per address and per email at an address, told in
the person's language with the wait, and our own 429 page."""

import time
from collections.abc import Callable

import pytest
from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpResponse
from django.utils import translation
from django_tenants.utils import schema_context

from tenants.accounts.models import Role
from tenants.accounts.services import user_create
from tests.conftest import PASSWORD, ClinicFixture, host_client

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
HEROKU_ROUTER = "10.1.2.3"
LIMITED = {
    "id": "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {} menit.",
    "en": "Too many failed sign-in attempts. Try again in {} minutes.",
}


def _sign_in(clinic: ClinicFixture, email: str, password: str, *, language: str = "en", **meta: str) -> HttpResponse:
    return host_client(clinic.host).post(
        "/accounts/login/", {"login": email, "password": password}, HTTP_ACCEPT_LANGUAGE=language, **meta
    )


def _direct(address: str) -> dict[str, str]:
    return {"REMOTE_ADDR": address}


def _behind_router(address: str) -> dict[str, str]:
    # Heroku's router appends the address it saw; whatever the client wrote before it is not trusted.
    return {"REMOTE_ADDR": HEROKU_ROUTER, "HTTP_X_FORWARDED_FOR": f"6.6.6.6, {address}"}


def _is_limited(response: HttpResponse) -> bool:
    return "Too many failed sign-in attempts" in response.content.decode()


def _wrong_password_shown(response: HttpResponse, language: str = "en") -> bool:
    """The ordinary "not correct" answer, not a limit (of ours or allauth's own)."""
    with translation.override(language):
        mismatch = str(DefaultAccountAdapter.error_messages["email_password_mismatch"])
    return response.status_code == 200 and mismatch in response.content.decode()


@pytest.mark.parametrize(("proxies", "via"), [(0, _direct), (1, _behind_router)], ids=["direct", "behind-router"])
def test_wrong_passwords_from_one_address_do_not_lock_the_person_out_at_another(
    alpha: ClinicFixture, settings, proxies: int, via: Callable[[str], dict[str, str]]
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = proxies
    doctor = alpha.email(Role.DOCTOR)
    for _attempt in range(10):
        _sign_in(alpha, doctor, "wrong-password", **via(ATTACKER))
    at_attacker = _sign_in(alpha, doctor, PASSWORD, **via(ATTACKER))
    assert _is_limited(at_attacker)
    assert "_auth_user_id" not in at_attacker.wsgi_request.session

    at_the_clinic = _sign_in(alpha, doctor, PASSWORD, **via(ELSEWHERE))
    assert at_the_clinic.status_code == 302
    assert at_the_clinic.wsgi_request.session["_auth_user_id"]


@pytest.mark.parametrize("language", ["id", "en"])
def test_five_failures_at_one_address_limit_it_and_the_message_says_how_long(
    alpha: ClinicFixture, monkeypatch, language: str
):
    nurse = alpha.email(Role.NURSE)
    for _attempt in range(5):
        response = _sign_in(alpha, nurse, "wrong-password", language=language, **_direct(ATTACKER))
        assert _wrong_password_shown(response, language)

    # 62 seconds later the oldest failure leaves the 5-minute window in 238 seconds: "4 minutes".
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 62)
    blocked = _sign_in(alpha, nurse, PASSWORD, language=language, **_direct(ATTACKER))
    assert blocked.status_code == 200
    page = blocked.content.decode()
    assert LIMITED[language].format(4) in page
    assert f'<html lang="{language}">' in page
    assert "_auth_user_id" not in blocked.wsgi_request.session


def test_a_clinic_behind_one_address_signs_in_at_shift_change_despite_typos(alpha: ClinicFixture):
    with schema_context(alpha.clinic.schema_name):
        staff = [alpha.email(role) for role in Role.values]
        for number in range(30 - len(staff)):
            email = f"staff{number}@alpha.test"
            user_create(email=email, full_name=f"Staff {number}", role=Role.NURSE, password=PASSWORD)
            staff.append(email)
    for number, email in enumerate(staff):
        if number % 3 == 0:  # ten of them mistype first
            typo = _sign_in(alpha, email, "wrong-password", **_direct(ATTACKER))
            assert _wrong_password_shown(typo), email
        response = _sign_in(alpha, email, PASSWORD, **_direct(ATTACKER))
        assert response.status_code == 302, (email, response.status_code)


def test_password_spraying_from_one_address_stops_there_and_nowhere_else(alpha: ClinicFixture):
    for number in range(30):
        guess = _sign_in(alpha, f"guess{number}@alpha.test", "Password123!", **_direct(ATTACKER))
        assert _wrong_password_shown(guess), number
    owner = alpha.email(Role.OWNER)
    at_attacker = _sign_in(alpha, owner, PASSWORD, **_direct(ATTACKER))
    assert LIMITED["en"].replace("{} minutes", "1 minute") in at_attacker.content.decode()
    assert _sign_in(alpha, owner, PASSWORD, **_direct(ELSEWHERE)).status_code == 302


@pytest.mark.parametrize(
    ("language", "title"), [("id", "Terlalu banyak permintaan"), ("en", "Too many requests")], ids=["id", "en"]
)
def test_too_many_requests_is_our_page_in_the_persons_language(
    alpha: ClinicFixture, settings, language: str, title: str
):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "1/m/ip"}
    _sign_in(alpha, alpha.email(Role.DOCTOR), "wrong-password", language=language)
    response = _sign_in(alpha, alpha.email(Role.DOCTOR), PASSWORD, language=language)
    assert response.status_code == 429
    assert "429.html" in [template.name for template in response.templates]
    page = response.content.decode()
    assert f"<h1>{title}</h1>" in page
    assert f'<html lang="{language}">' in page
    assert "Klinik Alpha" in page  # the clinic's own header, from the base template
    assert "Too Many Requests" not in page
