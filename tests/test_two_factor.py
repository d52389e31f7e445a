"""TOTP two-factor authentication: a user turns it on; an owner can require it for the clinic."""

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

from tenants.accounts.models import Role
from tests.conftest import PASSWORD, host_client, login

pytestmark = pytest.mark.django_db


def _code(secret: str) -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def _activate_totp(client) -> str:
    page = client.get("/accounts/2fa/totp/activate/")
    # allauth asks for the password again before a security change
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/reauthenticate/")
    assert client.post(page["Location"], {"password": PASSWORD}).status_code == 302
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post("/accounts/2fa/totp/activate/", {"code": _code(secret)})
    assert response.status_code == 302, response.content.decode()[:500]
    return secret


def test_user_turns_on_totp_and_then_login_asks_for_the_code(alpha):
    client = login(alpha.host, alpha.email(Role.DOCTOR))
    secret = _activate_totp(client)
    fresh = host_client(alpha.host)
    response = fresh.post("/accounts/login/", {"login": alpha.email(Role.DOCTOR), "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert fresh.get("/api/me/").status_code == 403  # not signed in before the code
    wrong = fresh.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    done = fresh.post("/accounts/2fa/authenticate/", {"code": _code(secret)})
    assert done.status_code == 302
    assert fresh.get("/api/me/").status_code == 200


def test_owner_requires_two_factor_and_staff_without_it_must_set_it_up(alpha):
    owner = login(alpha.host, alpha.email(Role.OWNER))
    assert owner.post("/staff/security/", {"require_two_factor": "on"}).status_code == 302
    alpha.clinic.refresh_from_db()
    assert alpha.clinic.require_two_factor

    nurse = login(alpha.host, alpha.email(Role.NURSE))
    response = nurse.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    api = nurse.get("/api/me/")
    assert api.status_code == 403
    assert api.json()["error"] == "two_factor_required"
    _activate_totp(nurse)
    assert nurse.get("/").status_code == 200
