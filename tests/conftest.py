"""Shared fixtures: the platform and two clinics built once per session, named users, host clients.

Clinic A (`alpha`) and clinic B (`beta`) each have an owner, a doctor, a nurse and a front-desk user.
Everything built here is committed, so a live server process sees it; each test's own writes roll back.
"""

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenants.accounts.models import Role, User
from tenants.accounts.services import operator_create, user_create
from tenants.models import Clinic
from tenants.services import clinic_signup, platform_ensure

PASSWORD = "correct-horse-battery-9"
OPERATOR_EMAIL = "operator@platform.test"


@dataclass(frozen=True)
class ClinicFixture:
    clinic: Clinic
    subdomain: str
    host: str
    users: dict[str, str]  # role -> email

    def email(self, role: str) -> str:
        return self.users[role]


def _make_clinic(subdomain: str, name: str) -> ClinicFixture:
    result = clinic_signup(
        name=name,
        subdomain=subdomain,
        owner_name="Owner " + name,
        owner_email=f"owner@{subdomain}.test",
        password=PASSWORD,
    )
    users = {Role.OWNER: f"owner@{subdomain}.test"}
    with schema_context(result.clinic.schema_name):
        for role, local in [(Role.DOCTOR, "doctor"), (Role.NURSE, "nurse"), (Role.FRONT_DESK, "frontdesk")]:
            email = f"{local}@{subdomain}.test"
            user_create(email=email, full_name=f"{local.title()} {name}", role=role, password=PASSWORD)
            users[role] = email
    return ClinicFixture(clinic=result.clinic, subdomain=subdomain, host=f"{subdomain}.localhost", users=users)


@pytest.fixture(scope="session")
def platform_world(django_db_setup, django_db_blocker):
    """Public tenant, template schema, two clinics and an operator, committed once for the session."""
    with django_db_blocker.unblock():
        platform_ensure()
        alpha = _make_clinic("alpha", "Klinik Alpha")
        beta = _make_clinic("beta", "Klinik Beta")
        operator_create(email=OPERATOR_EMAIL, full_name="Operator", password=PASSWORD)
    return {"alpha": alpha, "beta": beta}


@pytest.fixture
def alpha(platform_world) -> ClinicFixture:
    return platform_world["alpha"]


@pytest.fixture
def beta(platform_world) -> ClinicFixture:
    return platform_world["beta"]


@pytest.fixture(autouse=True)
def _clean_state_per_test(request):
    """Each test starts on the public schema with an empty cache (Redis keeps what tests write)."""
    if request.node.get_closest_marker("django_db") and not request.node.get_closest_marker("browser"):
        request.getfixturevalue("db")
        cache.clear()
    yield
    connection.set_schema_to_public()


def host_client(host: str) -> Client:
    return Client(HTTP_HOST=host)


def login(host: str, email: str, password: str = PASSWORD) -> Client:
    """A client signed in through the real allauth login form at `host`."""
    client = host_client(host)
    response = client.post("/accounts/login/", {"login": email, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def user_in(clinic: ClinicFixture, email: str) -> User | None:
    with schema_context(clinic.clinic.schema_name):
        return User.objects.filter(email=email).first()
