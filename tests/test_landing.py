"""One product: signing in at a clinic lands in the app; every server page leads back to it; /api/me/
tells the app which server pages this person may open."""

import re

import pytest
import yaml

from tenants.accounts.models import Role
from tests.conftest import PASSWORD, host_client, login
from tests.test_two_factor import _activate_totp, _code

pytestmark = pytest.mark.django_db

APP_LINK = {"id": "Buka aplikasi klinik", "en": "Open the clinic app"}
BACK_TO_APP = {"id": "Kembali ke aplikasi klinik", "en": "Back to the clinic app"}


def _sign_in(host: str, email: str, path: str = "/accounts/login/"):
    return host_client(host).post(path, {"login": email, "password": PASSWORD})


@pytest.mark.parametrize("role", [Role.OWNER, Role.DOCTOR, Role.NURSE, Role.FRONT_DESK])
def test_every_role_lands_in_the_app(alpha, role):
    response = _sign_in(alpha.host, alpha.email(role))
    assert response.status_code == 302
    assert response["Location"] == "/app/"


def test_a_safe_next_wins_and_an_unsafe_one_is_ignored(alpha):
    email = alpha.email(Role.OWNER)
    assert _sign_in(alpha.host, email, "/accounts/login/?next=/staff/")["Location"] == "/staff/"
    assert _sign_in(alpha.host, email, "/accounts/login/?next=https://evil.example/")["Location"] == "/app/"
    assert _sign_in(alpha.host, email, "/accounts/login/?next=http://beta.localhost/")["Location"] == "/app/"


def test_after_the_two_factor_code_the_person_lands_in_the_app(alpha):
    secret = _activate_totp(login(alpha.host, alpha.email(Role.NURSE)))
    client = host_client(alpha.host)
    response = client.post("/accounts/login/", {"login": alpha.email(Role.NURSE), "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    done = client.post("/accounts/2fa/authenticate/", {"code": _code(secret)})
    assert done.status_code == 302
    assert done["Location"] == "/app/"


def test_the_operator_still_lands_on_the_console(platform_world):
    response = _sign_in("localhost", "operator@platform.test")
    assert response["Location"] == "/console/"


def test_the_home_page_stays_reachable_with_its_button(alpha):
    page = login(alpha.host, alpha.email(Role.DOCTOR)).get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="open-app" href="/app/"' in body
    assert "Successfully signed in" not in body  # the app shows no server messages: none left waiting


SERVER_PAGES = {
    Role.OWNER: ["/staff/", "/reports/", "/accounts/2fa/", "/accounts/password/change/", "/accounts/logout/"],
    Role.NURSE: ["/accounts/2fa/", "/accounts/password/change/", "/accounts/logout/"],
}


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("role", SERVER_PAGES)
def test_every_server_page_a_member_reaches_links_back_to_the_app(alpha, role, language):
    client = login(alpha.host, alpha.email(role))
    for path in SERVER_PAGES[role]:
        page = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
        assert page.status_code == 200, path
        body = page.content.decode()
        assert re.search(rf'<a href="/app/" id="nav-app" class="button">{APP_LINK[language]}</a>', body), path


def test_the_two_factor_set_up_page_links_back_to_the_app(alpha):
    client = login(alpha.host, alpha.email(Role.DOCTOR))
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    page = client.get("/accounts/2fa/totp/activate/", HTTP_ACCEPT_LANGUAGE="id")
    assert page.status_code == 200
    assert 'id="nav-app"' in page.content.decode()


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_page_the_role_may_not_open_leads_back_to_the_app(alpha, language):
    page = login(alpha.host, alpha.email(Role.NURSE)).get("/staff/", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 403
    assert f'<a href="/app/" id="back-to-app">{BACK_TO_APP[language]}</a>' in page.content.decode()


def test_no_stale_promises_on_the_home_page(alpha):
    for language in ("id", "en"):
        page = login(alpha.host, alpha.email(Role.OWNER)).get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        for stale in ("arrive here next", "coming", "segera hadir"):
            assert stale not in page


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (
            Role.OWNER,
            {
                "home": "/",
                "staff": "/staff/",
                "reports": "/reports/",
                "clinic_settings": "/settings/",
                "devices": "/devices/",
                "audit": "/audit/",
                "displays": "/queue/displays/",
                "satusehat": "/satusehat/",
                "export": "/satusehat/export/",
                "two_factor": "/accounts/2fa/",
                "password": "/accounts/password/change/",
            },
        ),
        (Role.DOCTOR, {"home": "/", "two_factor": "/accounts/2fa/", "password": "/accounts/password/change/"}),
        (Role.NURSE, {"home": "/", "two_factor": "/accounts/2fa/", "password": "/accounts/password/change/"}),
        (Role.FRONT_DESK, {"home": "/", "two_factor": "/accounts/2fa/", "password": "/accounts/password/change/"}),
    ],
)
def test_me_lists_the_server_pages_this_role_may_open(alpha, role, links):
    client = login(alpha.host, alpha.email(role))
    me = client.get("/api/me/").json()
    assert me["links"] == links
    for path in links.values():
        assert client.get(path).status_code == 200, path
    if "staff" not in links:
        assert client.get("/staff/").status_code == 403
        assert client.get("/reports/").status_code == 403


def test_the_schema_declares_the_links(alpha):
    schema = yaml.safe_load(login(alpha.host, alpha.email(Role.DOCTOR)).get("/api/schema/").content)
    components = schema["components"]["schemas"]
    reply = schema["paths"]["/api/me/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    me = components[reply["$ref"].rsplit("/", 1)[-1]]
    assert "links" in me["required"]
    links = components[me["properties"]["links"]["allOf"][0]["$ref"].rsplit("/", 1)[-1]]
    owners = {"staff", "reports", "clinic_settings", "devices", "audit", "displays", "satusehat", "export"}
    assert set(links["properties"]) == {"home", "two_factor", "password", *owners}
    assert set(links["required"]) == {"home", "two_factor", "password"}  # the owners' pages are not
