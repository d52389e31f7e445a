"""Role rules over every owner page of issue 14: owners only; others 403; visitors to sign-in; another
clinic's owner never reaches this clinic's data; the app's menu lists them for owners only."""

import pytest
from django_tenants.utils import schema_context

from sync.models import Device
from tenants.accounts.models import Role, User
from tests.conftest import host_client, login, user_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def routes(alpha) -> list[str]:
    with schema_context(alpha.clinic.schema_name):
        nurse = User.objects.get(email=alpha.email(Role.NURSE))
        Device.objects.get_or_create(id="tablet-roles-1", defaults={"user": nurse})
    return [
        "/settings/",
        "/devices/",
        "/devices/tablet-roles-1/revoke/",
        "/audit/",
        "/audit/?kind=chart_access",
        "/audit/export.csv",
        f"/staff/{nurse.pk}/role/",
        f"/staff/{nurse.pk}/active/",
    ]


def test_owners_open_every_page(alpha, routes):
    owner = login(alpha.host, alpha.email(Role.OWNER))
    for route in routes:
        assert owner.get(route).status_code == 200, route


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.FRONT_DESK])
def test_other_roles_are_refused(alpha, routes, role):
    client = login(alpha.host, alpha.email(role))
    for route in routes:
        assert client.get(route).status_code == 403, route
    assert client.post("/devices/tablet-roles-1/revoke/").status_code == 403
    assert client.post("/settings/", {"name": "Hacked"}).status_code == 403


def test_visitors_are_sent_to_sign_in(alpha, routes):
    visitor = host_client(alpha.host)
    for route in routes:
        response = visitor.get(route)
        assert response.status_code == 302, route
        assert response["Location"].startswith("/accounts/login/"), route


def test_another_clinics_owner_reaches_nothing_here(alpha, beta, routes):
    beta_owner = login(beta.host, beta.email(Role.OWNER))
    for route in routes:
        # Their session means nothing at alpha's host: sign in there.
        response = beta_owner.get(route, HTTP_HOST=alpha.host)
        assert response.status_code == 302, route
    # At their own clinic, alpha's device and person are not found.
    beta_owner = login(beta.host, beta.email(Role.OWNER))
    nurse = user_in(alpha, alpha.email(Role.NURSE))
    assert beta_owner.get("/devices/tablet-roles-1/revoke/").status_code == 404
    assert "tablet-roles-1" not in beta_owner.get("/devices/").content.decode()
    beta_ids = set()
    with schema_context(beta.clinic.schema_name):
        beta_ids = set(User.objects.values_list("pk", flat=True))
    if nurse.pk not in beta_ids:
        assert beta_owner.get(f"/staff/{nurse.pk}/role/").status_code == 404


def test_the_apps_menu_lists_the_pages_for_owners_only(alpha):
    links = login(alpha.host, alpha.email(Role.OWNER)).get("/api/me/").json()["links"]
    assert {"clinic_settings": "/settings/", "devices": "/devices/", "audit": "/audit/"}.items() <= links.items()
    for role in (Role.DOCTOR, Role.NURSE, Role.FRONT_DESK):
        others = login(alpha.host, alpha.email(role)).get("/api/me/").json()["links"]
        assert not {"clinic_settings", "devices", "audit"} & others.keys()


def test_the_owners_navigation_links_them(alpha):
    page = login(alpha.host, alpha.email(Role.OWNER)).get("/").content.decode()
    for path in ('href="/settings/"', 'href="/devices/"', 'href="/audit/"'):
        assert path in page
    assert 'href="/audit/"' not in login(alpha.host, alpha.email(Role.DOCTOR)).get("/").content.decode()
