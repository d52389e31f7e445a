"""The operator console on the apex: clinics with counts and status; suspend and reactivate."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_tenants.utils import schema_context

from tenants.accounts.models import Role, User
from tenants.models import Clinic, ClinicStatusEvent, Domain
from tenants.services import clinic_signup
from tests.conftest import PASSWORD, host_client, login

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]


def _operator():
    return login("localhost", "operator@platform.test")


def test_console_lists_every_clinic_with_its_counts(alpha, beta):
    response = _operator().get("/console/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    for clinic in (alpha, beta):
        row = body[body.index(f'data-subdomain="{clinic.subdomain}"') :]
        row = row[: row.index("</tr>")]
        assert clinic.clinic.name in row
        assert re.search(r'class="num staff-count">4</td>', row)
        assert re.search(r'class="num patient-count">0</td>', row)
        assert "Active" in row
    assert "clinic_template" not in body
    assert "Template" not in body


def _queries_for(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def test_console_query_count_does_not_grow_with_clinics(alpha, beta):
    operator = _operator()
    before = _queries_for(operator, "/console/")
    clinic_signup(
        name="Klinik Tambahan", subdomain="tambahan", owner_name="O", owner_email="o@t.test", password=PASSWORD
    )
    assert _queries_for(operator, "/console/") == before
    assert before <= 16


def test_suspend_shows_a_notice_refuses_the_api_and_keeps_the_data(alpha):
    operator = _operator()
    doctor = login(alpha.host, alpha.email(Role.DOCTOR))
    response = operator.post(
        f"/console/clinics/{alpha.clinic.pk}/status/", {"action": "suspend", "reason": "Unpaid invoice"}
    )
    assert response.status_code == 302
    alpha.clinic.refresh_from_db()
    assert alpha.clinic.is_suspended
    event = ClinicStatusEvent.objects.get(clinic=alpha.clinic)
    assert (event.status, event.reason, event.operator_email) == (
        "suspended",
        "Unpaid invoice",
        "operator@platform.test",
    )

    page = doctor.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 403
    assert b"suspended" in page.content
    api = doctor.get("/api/me/")
    assert api.status_code == 403
    assert api.json()["error"] == "clinic_suspended"
    sync = doctor.post("/api/sync/push", {}, content_type="application/json")
    assert sync.status_code == 403
    assert host_client(alpha.host).get("/healthz").status_code == 200
    with schema_context(alpha.clinic.schema_name):
        assert User.objects.count() == 4

    operator.post(f"/console/clinics/{alpha.clinic.pk}/status/", {"action": "reactivate"})
    alpha.clinic.refresh_from_db()
    assert not alpha.clinic.is_suspended
    assert doctor.get("/api/me/").status_code == 200


def test_suspending_needs_a_reason(alpha):
    _operator().post(f"/console/clinics/{alpha.clinic.pk}/status/", {"action": "suspend", "reason": " "})
    alpha.clinic.refresh_from_db()
    assert not alpha.clinic.is_suspended


def test_template_and_public_rows_cannot_be_suspended(platform_world):
    operator = _operator()
    for clinic in Clinic.objects.filter(status__in=[Clinic.Status.TEMPLATE, Clinic.Status.PLATFORM]):
        response = operator.post(f"/console/clinics/{clinic.pk}/status/", {"action": "suspend", "reason": "x"})
        assert response.status_code == 404


def test_console_needs_an_operator(alpha):
    anonymous = host_client("localhost").get("/console/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


def test_operator_login_lands_on_the_console(platform_world):
    response = host_client("localhost").post(
        "/accounts/login/", {"login": "operator@platform.test", "password": PASSWORD}
    )
    assert response["Location"] == "/console/"


def test_create_operator_command(platform_world):
    call_command("create_operator", email="ops2@platform.test", password="another-long-pass-1")
    with schema_context("public"):
        user = User.objects.get(email="ops2@platform.test")
    assert user.is_staff
    assert user.is_superuser
    assert user.role == ""
    login("localhost", "ops2@platform.test", "another-long-pass-1")


def test_create_operator_command_refuses_a_weak_password(platform_world):
    from django.core.management.base import CommandError

    with translation.override("en"), pytest.raises(CommandError, match="too short"):
        call_command("create_operator", email="ops3@platform.test", password="short")


def test_create_operator_is_documented_in_manage_help():
    result = subprocess.run(
        [sys.executable, "manage.py", "help", "create_operator"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--email" in result.stdout


def test_admin_login_goes_through_two_factor(platform_world):
    """The admin's own login form would skip TOTP; it is routed through allauth's."""
    response = host_client("localhost").post(
        "/admin/login/", {"username": "operator@platform.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in response.wsgi_request.session


def test_admin_cannot_add_clinics_or_edit_domains_or_status(platform_world):
    operator = login("localhost", "operator@platform.test")
    assert operator.get("/admin/tenants/clinic/add/").status_code == 403
    domain = Domain.objects.get(domain="alpha.localhost")
    page = operator.get(f"/admin/tenants/domain/{domain.pk}/change/")
    assert page.status_code == 200
    assert b'name="domain"' not in page.content  # read-only view
    clinic_page = operator.get(f"/admin/tenants/clinic/{domain.tenant_id}/change/")
    assert b'name="status"' not in clinic_page.content


def test_operators_must_use_two_factor_when_required(platform_world, settings):
    settings.OPERATORS_REQUIRE_TWO_FACTOR = True
    response = _operator().get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
