"""The operator console's counts (kept in the platform's table as work happens), search and sort, a
clinic's page, confirming a suspension, and who may see any of it; never patient content."""

import datetime
import io
import re
import uuid

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from console.models import ClinicUsage
from console.usage import current_month
from records import services
from records.bulk import NewRecord, records_create_many
from sync.models import Device
from sync.services import device_for, device_revoke
from tenants.accounts.models import Role, User
from tenants.accounts.services import user_create, user_set_active
from tenants.models import Clinic, ClinicStatusEvent
from tests.conftest import PASSWORD, host_client, login
from tests.records.conftest import ApiClient, actor, make_patient, make_visit

pytestmark = pytest.mark.django_db

DISTINCTIVE_NAME = "Zubaidah Kartikasari"
DISTINCTIVE_NIK = "3174014203870001"  # DKI Jakarta, woman born 02-03-1987


def _operator():
    return login("localhost", "operator@platform.test")


def _usage(clinic) -> ClinicUsage:
    return ClinicUsage.objects.get(clinic=clinic.clinic)


def _routes(clinic: Clinic) -> list[tuple[str, str]]:
    return [
        ("get", "/console/"),
        ("get", "/console/?q=alp&sort=-patients&page=1"),
        ("get", f"/console/clinics/{clinic.pk}/"),
        ("get", f"/console/clinics/{clinic.pk}/suspend/"),
        ("post", f"/console/clinics/{clinic.pk}/status/"),
    ]


def _request(client, method: str, path: str, host: str = "localhost"):
    if method == "post":
        return client.post(path, {"action": "suspend", "reason": "Unpaid"}, HTTP_HOST=host)
    return client.get(path, HTTP_HOST=host)


# --- Counts kept as work happens -------------------------------------------------------------------


def test_a_new_clinic_has_its_counts_from_the_start(alpha):
    usage = _usage(alpha)
    assert (usage.staff_count, usage.patient_count, usage.devices_active) == (4, 0, 0)


def test_patients_and_visits_are_counted_as_they_are_written_and_voided(alpha):
    before = _usage(alpha)
    patient = make_patient(alpha)
    visit = make_visit(alpha, patient)
    usage = _usage(alpha)
    assert usage.patient_count == before.patient_count + 1
    assert (usage.visits_this_month, usage.visits_month) == (1, current_month())
    assert usage.last_activity_at is not None

    with schema_context(alpha.clinic.schema_name):
        services.record_void(instance=visit, actor=actor(alpha), reason="Wrong patient")
        services.record_void(instance=patient, actor=actor(alpha, Role.OWNER), reason="Duplicate")
    usage = _usage(alpha)
    assert (usage.patient_count, usage.visits_this_month) == (before.patient_count, 0)


def test_a_device_batch_is_counted(alpha):
    before = _usage(alpha).patient_count
    items = [
        NewRecord("patient", uuid.uuid4(), {"full_name": f"P {n}", "birth_date": "1990-01-01", "sex": "M"})
        for n in range(3)
    ]
    with schema_context(alpha.clinic.schema_name):
        outcomes = records_create_many(actor=actor(alpha, Role.FRONT_DESK), items=items)
    assert all(not isinstance(outcome, Exception) for outcome in outcomes)
    assert _usage(alpha).patient_count == before + 3


def test_staff_and_devices_are_counted_as_they_change(alpha):
    with schema_context(alpha.clinic.schema_name):
        owner = User.objects.get(email=alpha.email(Role.OWNER))
        doctor = User.objects.get(email=alpha.email(Role.DOCTOR))
        user_set_active(user=doctor, active=False, by=owner)
        assert _usage(alpha).staff_count == 3
        user_create(email="new@alpha.test", full_name="New Nurse", role=Role.NURSE, password=PASSWORD)
        assert _usage(alpha).staff_count == 4

        device = device_for(device_id="d" * 32, user=owner)
        device_for(device_id="e" * 32, user=owner)
        usage = _usage(alpha)
        assert (usage.devices_active, usage.devices_revoked) == (2, 0)
        device_revoke(device=device)
    usage = _usage(alpha)
    assert (usage.devices_active, usage.devices_revoked) == (1, 1)


def test_signing_in_is_last_activity_written_at_most_every_few_minutes(alpha):
    ClinicUsage.objects.filter(clinic=alpha.clinic).update(last_activity_at=None)
    login(alpha.host, alpha.email(Role.NURSE))
    first = _usage(alpha).last_activity_at
    assert first is not None
    login(alpha.host, alpha.email(Role.DOCTOR))
    assert _usage(alpha).last_activity_at == first  # recent already: not written again

    long_ago = timezone.now() - timezone.timedelta(hours=3)
    ClinicUsage.objects.filter(clinic=alpha.clinic).update(last_activity_at=long_ago)
    login(alpha.host, alpha.email(Role.DOCTOR))
    assert _usage(alpha).last_activity_at > long_ago


def test_the_list_reads_no_clinic_schema(alpha, beta):
    make_patient(alpha)
    with CaptureQueriesContext(connection) as captured:
        response = _operator().get("/console/?sort=-visits&q=a")
    assert response.status_code == 200
    statements = " ".join(query["sql"] for query in captured.captured_queries if not query["sql"].startswith("SET "))
    assert "UNION" not in statements
    assert "records_" not in statements
    assert 'FROM "clinic_' not in statements


def test_recount_command_repairs_one_clinic_or_all(alpha, beta):
    make_patient(alpha)
    ClinicUsage.objects.filter(clinic=alpha.clinic).update(patient_count=99, staff_count=0)
    ClinicUsage.objects.filter(clinic=beta.clinic).update(staff_count=0)
    call_command("console_recount", clinic="alpha", stdout=io.StringIO())
    assert (_usage(alpha).patient_count, _usage(alpha).staff_count) == (1, 4)
    assert _usage(beta).staff_count == 0
    call_command("console_recount", stdout=io.StringIO())
    assert _usage(beta).staff_count == 4
    with pytest.raises(CommandError):
        call_command("console_recount", clinic="nope")


def test_the_migration_fills_clinics_that_already_exist(alpha):
    from importlib import import_module

    make_patient(alpha)
    ClinicUsage.objects.filter(clinic=alpha.clinic).delete()
    import_module("console.migrations.0002_fill_clinic_usage").fill(django_apps, None)
    assert (_usage(alpha).staff_count, _usage(alpha).patient_count) == (4, 1)


# --- Search, sort, pages ---------------------------------------------------------------------------


def _order(body: str) -> list[str]:
    return re.findall(r'data-subdomain="([a-z0-9-]+)"', body)


def _ours(body: str) -> list[str]:
    """The order of alpha and beta among the clinics listed (other test files make clinics of their own)."""
    return [subdomain for subdomain in _order(body) if subdomain in ("alpha", "beta")]


def test_search_by_name_or_subdomain_partial_and_any_case(alpha, beta):
    operator = _operator()
    assert _order(operator.get("/console/?q=ALPH").content.decode()) == ["alpha"]
    assert _order(operator.get("/console/?q=klinik bet").content.decode()) == ["beta"]
    empty = operator.get("/console/?q=zzzz", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _order(empty) == []
    assert "No clinic matches “zzzz”" in empty


def test_sort_by_each_column_both_ways(alpha, beta):
    operator = _operator()
    make_patient(beta)
    make_visit(beta, make_patient(beta))
    ClinicUsage.objects.filter(clinic=alpha.clinic).update(last_activity_at=timezone.now())
    ClinicUsage.objects.filter(clinic=beta.clinic).update(last_activity_at=timezone.now() - timezone.timedelta(days=2))
    assert _ours(operator.get("/console/?sort=name").content.decode()) == ["alpha", "beta"]
    assert _ours(operator.get("/console/?sort=-name").content.decode()) == ["beta", "alpha"]
    assert _ours(operator.get("/console/?sort=created").content.decode()) == ["alpha", "beta"]
    assert _ours(operator.get("/console/?sort=-created").content.decode()) == ["beta", "alpha"]
    assert _ours(operator.get("/console/?sort=-patients").content.decode()) == ["beta", "alpha"]
    assert _ours(operator.get("/console/?sort=patients").content.decode()) == ["alpha", "beta"]
    assert _ours(operator.get("/console/?sort=-visits").content.decode()) == ["beta", "alpha"]
    assert _ours(operator.get("/console/?sort=-activity").content.decode()) == ["alpha", "beta"]
    assert _ours(operator.get("/console/?sort=activity").content.decode()) == ["beta", "alpha"]
    assert operator.get("/console/?sort=nonsense").status_code == 200


def test_visits_of_an_earlier_month_do_not_count_this_month(alpha):
    ClinicUsage.objects.filter(clinic=alpha.clinic).update(visits_this_month=7, visits_month="2001-01-01")
    body = _operator().get("/console/").content.decode()
    row = body[body.index('data-subdomain="alpha"') :]
    assert re.search(r'class="num visit-count">0</td>', row[: row.index("</tr>")])


def test_pages_keep_the_search_and_the_sort(alpha, beta, monkeypatch):
    monkeypatch.setattr("console.views.PAGE_SIZE", 1)
    body = _operator().get("/console/?q=klinik&sort=name").content.decode()
    first = _order(body)
    assert len(first) == 1
    next_link = re.search(r'<a href="([^"]+)">[^<]*</a>\s*</nav>', body).group(1).replace("&amp;", "&")
    assert "q=klinik" in next_link
    assert "sort=name" in next_link
    assert "page=2" in next_link
    second = _order(_operator().get("/console/" + next_link).content.decode())
    assert len(second) == 1
    assert second != first


def test_the_clinic_page(alpha):
    operator = _operator()
    with schema_context(alpha.clinic.schema_name):
        owner = User.objects.get(email=alpha.email(Role.OWNER))
        device_for(device_id="f" * 32, user=owner)
    make_visit(alpha, make_patient(alpha))
    operator.post(f"/console/clinics/{alpha.clinic.pk}/status/", {"action": "suspend", "reason": "Unpaid invoice"})
    operator.post(f"/console/clinics/{alpha.clinic.pk}/status/", {"action": "reactivate", "reason": "Paid"})

    response = operator.get(f"/console/clinics/{alpha.clinic.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Owner Klinik Alpha" in body
    assert "owner@alpha.test" in body
    staff = body[body.index('id="clinic-staff"') :]
    for role in ("Owner", "Doctor", "Nurse", "Front desk"):
        assert re.search(rf"<dt>{role}</dt><dd>1</dd>", staff)
    assert re.search(r'id="devices-active">1<', body)
    assert re.search(r'id="patients">1<', body)
    assert re.search(r'id="visits">1<', body)
    assert re.search(r'id="storage">[\d.,]+\s(KB|MB)<', body)
    history = body[body.index('id="status-history"') :]
    assert "Unpaid invoice" in history
    assert "Paid" in history
    assert "operator@platform.test" in history
    assert history.index("Reactivated") < history.index("Suspended")  # newest first
    assert "http://alpha.localhost" in body


def test_no_console_page_shows_patient_content(alpha, beta):
    patient = make_patient(alpha, full_name=DISTINCTIVE_NAME, nik=DISTINCTIVE_NIK)
    make_visit(alpha, patient)
    operator = _operator()
    pages = [
        "/console/",
        f"/console/clinics/{alpha.clinic.pk}/",
        f"/console/clinics/{alpha.clinic.pk}/suspend/",
    ]
    operator.post(f"/console/clinics/{alpha.clinic.pk}/status/", {"action": "suspend", "reason": "Unpaid"})
    pages.append(f"/console/clinics/{alpha.clinic.pk}/")
    for language in ("id", "en"):
        for path in pages:
            body = operator.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()
            assert DISTINCTIVE_NAME.split()[0] not in body, path
            assert DISTINCTIVE_NIK not in body, path
    assert re.search(r'id="patients">1<', operator.get(f"/console/clinics/{alpha.clinic.pk}/").content.decode())
    assert _order(operator.get(f"/console/?q={DISTINCTIVE_NAME[:8]}").content.decode()) == []  # patients unsearched


# --- Confirming a suspension -----------------------------------------------------------------------


def test_suspending_asks_for_confirmation_with_a_reason(alpha):
    operator = _operator()
    page = operator.get(f"/console/clinics/{alpha.clinic.pk}/suspend/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    body = page.content.decode()
    assert "cannot use the clinic app, its pages or its API" in body
    assert "data is kept" in body
    assert "Suspend Klinik Alpha</button>" in body
    alpha.clinic.refresh_from_db()
    assert not alpha.clinic.is_suspended  # looking at the confirmation changes nothing

    refused = operator.post(
        f"/console/clinics/{alpha.clinic.pk}/status/", {"action": "suspend", "reason": ""}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert refused.status_code == 400
    assert "Please give a reason" in refused.content.decode()
    alpha.clinic.refresh_from_db()
    assert not alpha.clinic.is_suspended

    done = operator.post(f"/console/clinics/{alpha.clinic.pk}/status/", {"action": "suspend", "reason": "Unpaid"})
    assert done["Location"] == f"/console/clinics/{alpha.clinic.pk}/"
    alpha.clinic.refresh_from_db()
    assert alpha.clinic.is_suspended
    again = operator.get(f"/console/clinics/{alpha.clinic.pk}/suspend/")
    assert again.status_code == 302


def test_reactivating_is_one_step_and_the_reason_optional(alpha):
    operator = _operator()
    operator.post(f"/console/clinics/{alpha.clinic.pk}/status/", {"action": "suspend", "reason": "Unpaid"})
    page = operator.get(f"/console/clinics/{alpha.clinic.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'value="reactivate"' in page
    operator.post(f"/console/clinics/{alpha.clinic.pk}/status/", {"action": "reactivate"})
    alpha.clinic.refresh_from_db()
    assert not alpha.clinic.is_suspended
    assert ClinicStatusEvent.objects.filter(clinic=alpha.clinic, status="active", reason="").exists()


# --- Who may use the console -----------------------------------------------------------------------


def test_every_console_route_is_for_operators_only(alpha):
    anonymous = host_client("localhost")
    owner = login(alpha.host, alpha.email(Role.OWNER))
    with schema_context("public"):
        user_create(email="someone@platform.test", full_name="Not An Operator", role="", password=PASSWORD)
    not_operator = login("localhost", "someone@platform.test")
    operator = _operator()
    for method, path in _routes(alpha.clinic):
        response = _request(anonymous, method, path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/"), path
        assert _request(owner, method, path, host=alpha.host).status_code == 404, path  # at the clinic's host
        at_apex = _request(owner, method, path)  # the owner's account does not exist at the apex
        assert at_apex.status_code == 302, path
        assert at_apex["Location"].startswith("/accounts/login/"), path
        assert _request(not_operator, method, path).status_code == 404, path
        alpha.clinic.refresh_from_db()
        assert not alpha.clinic.is_suspended, path
    for method, path in _routes(alpha.clinic):
        response = _request(operator, method, path)
        if method == "get":
            assert response.status_code == 200, path
        else:
            assert response.status_code == 302
            assert response["Location"] == f"/console/clinics/{alpha.clinic.pk}/"
    alpha.clinic.refresh_from_db()
    assert alpha.clinic.is_suspended


def test_a_device_that_only_downloads_keeps_its_clinic_active(alpha):
    """A pull after a while moves the device's last_seen on, and with it the clinic's last activity."""
    nurse = ApiClient(login(alpha.host, alpha.email(Role.NURSE)))
    assert nurse.get("/api/sync/pull", cursor=0, device_id="only-reads-01").status_code == 200
    long_ago = timezone.now() - datetime.timedelta(days=3)
    with schema_context(alpha.clinic.schema_name):
        Device.objects.filter(pk="only-reads-01").update(last_seen=long_ago)
    ClinicUsage.objects.filter(clinic=alpha.clinic).update(last_activity_at=long_ago)
    assert nurse.get("/api/sync/pull", cursor=0, device_id="only-reads-01").status_code == 200
    seen = ClinicUsage.objects.get(clinic=alpha.clinic).last_activity_at
    assert seen > timezone.now() - datetime.timedelta(minutes=1)
