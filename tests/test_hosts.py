"""Routing by host: apex, clinic subdomains, unknown subdomains (friendly 404) and foreign hosts (400)."""

from unittest import mock

import pytest

from tests.conftest import host_client

pytestmark = pytest.mark.django_db


def test_apex_serves_the_landing_page(platform_world):
    response = host_client("localhost").get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert b"Register your clinic" in response.content


def test_clinic_subdomain_asks_to_sign_in(alpha):
    response = host_client(alpha.host).get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_unknown_subdomain_gets_a_friendly_404(platform_world):
    response = host_client("nowhere.localhost:8000").get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert b"No clinic at this address" in response.content
    assert b"http://localhost:8000/signup/" in response.content


def test_unknown_subdomain_page_in_indonesian(platform_world):
    response = host_client("nowhere.localhost").get("/", HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 404
    assert b"Tidak ada klinik di alamat ini" in response.content


@pytest.mark.parametrize("host", ["evil.example.com", "localhost.evil.com", "alpha.localhost.evil.com", "1.2.3.4"])
def test_host_outside_the_platform_domain_gets_400(platform_world, host):
    response = host_client(host).get("/")
    assert response.status_code == 400


def test_template_schema_has_no_address(platform_world):
    response = host_client("clinic-template.localhost").get("/")
    assert response.status_code == 404


def test_healthz_checks_the_database(alpha):
    assert host_client("localhost").get("/healthz").json() == {"status": "ok", "database": "ok"}
    assert host_client(alpha.host).get("/healthz").status_code == 200


def test_healthz_reports_a_broken_database(platform_world):
    with mock.patch("config.views.connection") as broken:
        broken.cursor.side_effect = RuntimeError("connection refused")
        response = host_client("localhost").get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
