"""Signing in at a clinic: login, logout, password reset, rate limits, and cross-clinic refusal."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django_tenants.utils import schema_context

from tenants.accounts.models import Role
from tenants.accounts.services import user_create
from tests.conftest import PASSWORD, host_client, login

pytestmark = pytest.mark.django_db


def test_staff_sign_in_and_see_their_clinic(alpha):
    client = login(alpha.host, alpha.email(Role.DOCTOR))
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert b"Klinik Alpha" in response.content
    assert client.get("/api/me/").json()["role"] == "doctor"


def test_me_carries_the_letterhead_and_the_staff_without_their_emails(alpha):
    from tenants.models import Clinic

    Clinic.objects.filter(pk=alpha.clinic.pk).update(
        address="Jl. Merdeka No. 5, Bandung", phone="022-123456", licence_number="503/0123/DPMPTSP"
    )
    with schema_context(alpha.clinic.schema_name):
        from tenants.accounts.models import User

        User.objects.filter(email=alpha.email(Role.DOCTOR)).update(sip_number="SIP 446/123/DINKES/2025")
        User.objects.filter(email=alpha.email(Role.NURSE)).update(is_active=False)
    me = login(alpha.host, alpha.email(Role.FRONT_DESK)).get("/api/me/").json()
    assert me["clinic_details"] == {
        "name": "Klinik Alpha",
        "address": "Jl. Merdeka No. 5, Bandung",
        "phone": "022-123456",
        "licence_number": "503/0123/DPMPTSP",
        "queue_per_practitioner": False,
    }
    staff = {person["role"]: person for person in me["staff"]}
    assert staff["doctor"]["sip_number"] == "SIP 446/123/DINKES/2025"
    assert "nurse" not in staff  # deactivated people are no one's practitioner
    assert all("email" not in person for person in me["staff"])


def test_wrong_password_is_refused(alpha):
    response = host_client(alpha.host).post(
        "/accounts/login/",
        {"login": alpha.email(Role.DOCTOR), "password": "wrong-password"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert b"not correct" in response.content


def test_user_of_clinic_a_cannot_sign_in_at_clinic_b(alpha, beta):
    client = host_client(beta.host)
    response = client.post("/accounts/login/", {"login": alpha.email(Role.OWNER), "password": PASSWORD})
    assert response.status_code == 200  # the form again, with an error: no such user at B
    assert "_auth_user_id" not in response.wsgi_request.session
    assert client.get("/api/me/").status_code == 403


def test_operator_cannot_sign_in_at_a_clinic(alpha):
    response = host_client(alpha.host).post(
        "/accounts/login/", {"login": "operator@platform.test", "password": PASSWORD}
    )
    assert response.status_code == 200


def test_logout(alpha):
    client = login(alpha.host, alpha.email(Role.NURSE))
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_password_reset_sends_a_link_that_works(alpha):
    client = host_client(alpha.host)
    response = client.post("/accounts/password/reset/", {"email": alpha.email(Role.NURSE)})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://alpha\.localhost(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    response = client.get(link)
    assert response.status_code == 302  # allauth moves the key into the session
    response = client.post(response["Location"], {"password1": "a-new-secret-2026", "password2": "a-new-secret-2026"})
    assert response.status_code == 302
    login(alpha.host, alpha.email(Role.NURSE), "a-new-secret-2026")


def test_login_attempts_are_rate_limited_and_the_limit_is_scoped_to_the_clinic(alpha, beta):
    cache.clear()
    email = alpha.email(Role.FRONT_DESK)
    # The same address exists at clinic B as a different person (users belong to one clinic).
    with schema_context(beta.clinic.schema_name):
        user_create(email=email, full_name="Namesake", role=Role.FRONT_DESK, password=PASSWORD)
    for _attempt in range(5):
        host_client(alpha.host).post("/accounts/login/", {"login": email, "password": "wrong"})
    blocked = host_client(alpha.host).post(
        "/accounts/login/", {"login": email, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert b"Too many failed sign-in attempts" in blocked.content
    assert "_auth_user_id" not in blocked.wsgi_request.session
    # clinic B keeps its own counter for the same address and the same IP
    assert host_client(beta.host).post("/accounts/login/", {"login": email, "password": PASSWORD}).status_code == 302
    cache.clear()


@pytest.mark.parametrize(
    ("language", "greeting", "button"),
    [
        ("id", "Selamat datang, dr. Rahma Wijaya", "Buka aplikasi klinik"),
        ("en", "Welcome, dr. Rahma Wijaya", "Open the clinic app"),
    ],
)
def test_the_home_page_leads_to_the_app_and_greets_by_the_whole_name(alpha, language, greeting, button):
    """Staff find the app from where sign-in lands them; "Welcome, dr." (the name's first word) is gone."""
    with schema_context(alpha.clinic.schema_name):
        user_create(email="rahma@alpha.test", full_name="dr. Rahma Wijaya", role=Role.DOCTOR, password=PASSWORD)
    page = login(alpha.host, "rahma@alpha.test").get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert greeting in page
    assert re.search(rf'<a class="button" id="open-app" href="/app/">{button}</a>', page)
    assert "arrive here next" not in page
