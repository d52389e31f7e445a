"""Tenant isolation is a security boundary: clinic A's people, cookies and hosts reach nothing of B."""

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tenants.accounts.models import Invitation, Role, User
from tenants.accounts.services import user_create
from tenants.subdomains import schema_name_for
from tests.conftest import PASSWORD, host_client, login, user_in

pytestmark = pytest.mark.django_db


def _cookie_client(source: Client, host: str) -> Client:
    """A client for `host` carrying the cookies that `source` received elsewhere."""
    client = Client(HTTP_HOST=host)
    client.cookies = source.cookies
    return client


def test_session_cookie_of_a_is_anonymous_at_b(alpha, beta):
    a_session = login(alpha.host, alpha.email(Role.OWNER))
    at_b = _cookie_client(a_session, beta.host)
    assert at_b.get("/").status_code == 302  # to B's login page
    assert at_b.get("/staff/").status_code == 302
    me = at_b.get("/api/me/")
    assert me.status_code == 403
    assert "email" not in me.json()


def test_cookie_of_a_with_host_of_b_writes_nothing_at_b(alpha, beta):
    a_session = login(alpha.host, alpha.email(Role.OWNER))
    at_b = _cookie_client(a_session, beta.host)
    csrf = a_session.cookies["csrftoken"].value
    response = at_b.post("/staff/", {"email": "intruder@evil.test", "role": Role.OWNER, "csrfmiddlewaretoken": csrf})
    assert response.status_code in (302, 403)
    with schema_context(beta.clinic.schema_name):
        assert not Invitation.objects.filter(email="intruder@evil.test").exists()
    with schema_context(alpha.clinic.schema_name):
        assert not Invitation.objects.filter(email="intruder@evil.test").exists()
    at_b.post("/staff/security/", {"require_two_factor": "on", "csrfmiddlewaretoken": csrf})
    beta.clinic.refresh_from_db()
    assert beta.clinic.require_two_factor is False


def test_ids_of_another_clinic_are_not_found(alpha, beta):
    with schema_context(beta.clinic.schema_name):
        b_only = user_create(email="late@beta.test", full_name="Late Hire", role=Role.NURSE, password=PASSWORD)
    assert user_in(alpha, "late@beta.test") is None
    with schema_context(alpha.clinic.schema_name):
        assert not User.objects.filter(pk=b_only.pk).exists()  # this id names nobody at A
    owner_a = login(alpha.host, alpha.email(Role.OWNER))
    response = owner_a.post(f"/staff/{b_only.pk}/active/", {"active": "0"})
    assert response.status_code == 404
    with schema_context(beta.clinic.schema_name):
        assert User.objects.get(pk=b_only.pk).is_active


def test_csrf_origin_of_a_sibling_clinic_is_refused(alpha):
    client = Client(enforce_csrf_checks=True, HTTP_HOST=alpha.host)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    signed_in = client.post(
        "/accounts/login/", {"login": alpha.email(Role.OWNER), "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert signed_in.status_code == 302
    token = client.cookies["csrftoken"].value
    invite = {"email": "csrf@alpha.test", "role": Role.NURSE, "csrfmiddlewaretoken": token}
    forged = client.post("/staff/", invite, HTTP_ORIGIN="http://beta.localhost")
    assert forged.status_code == 403
    same_origin = client.post("/staff/", invite, HTTP_ORIGIN="http://alpha.localhost")
    assert same_origin.status_code == 302
    with schema_context(alpha.clinic.schema_name):
        assert Invitation.objects.filter(email="csrf@alpha.test").count() == 1


def test_email_management_is_closed(alpha):
    """Sign-in addresses come from invitations; nobody adds an unverified one to their account."""
    client = login(alpha.host, alpha.email(Role.DOCTOR))
    assert client.get("/accounts/email/").status_code == 404
    assert client.post("/accounts/email/", {"action_add": "", "email": "late@beta.test"}).status_code == 404


def test_users_belong_to_one_schema(alpha, beta):
    assert user_in(alpha, beta.email(Role.OWNER)) is None
    assert user_in(beta, alpha.email(Role.OWNER)) is None
    with schema_context("public"):
        assert not User.objects.filter(email=alpha.email(Role.OWNER)).exists()
    for clinic in (alpha, beta):
        assert user_in(clinic, "operator@platform.test") is None


def test_clinic_users_cannot_reach_the_console_or_the_admin(alpha):
    a_session = login(alpha.host, alpha.email(Role.OWNER))
    at_apex = _cookie_client(a_session, "localhost")
    console = at_apex.get("/console/")
    assert console.status_code == 302
    assert "/accounts/login/" in console["Location"]
    admin = at_apex.get("/admin/")
    assert admin.status_code == 302
    assert "/admin/login/" in admin["Location"]
    # their credentials do not exist on the apex
    response = host_client("localhost").post(
        "/accounts/login/", {"login": alpha.email(Role.OWNER), "password": PASSWORD}
    )
    assert response.status_code == 200
    # and the console is not served on clinic hosts at all
    assert a_session.get("/console/").status_code == 404
    assert a_session.get("/admin/").status_code == 404


def test_operator_session_means_nothing_at_a_clinic(alpha):
    operator = login("localhost", "operator@platform.test")
    assert operator.get("/console/").status_code == 200
    at_clinic = _cookie_client(operator, alpha.host)
    assert at_clinic.get("/").status_code == 302
    assert at_clinic.get("/api/me/").status_code == 403


@pytest.mark.parametrize(
    "hostile",
    ['x"; drop schema public cascade; --', "public", "pg_catalog", "information_schema", "a b", "../etc", "ALPHA"],
)
def test_schema_names_come_only_from_validated_subdomains(hostile):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        schema_name_for(hostile)


def test_hostile_host_header_reaches_no_schema(platform_world):
    for host in ['alpha";drop schema alpha;--.localhost', "alpha%00.localhost", "*.localhost", "..localhost"]:
        response = host_client(host).get("/")
        assert response.status_code in (400, 404)
    with schema_context("alpha"):
        assert User.objects.exists()
