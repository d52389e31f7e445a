"""Clinic signup on the apex domain: provisioning by cloning, form errors, all-or-nothing."""

from unittest import mock

import pytest
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from tenants.accounts.models import Role, User
from tenants.models import Clinic, Domain
from tests.conftest import PASSWORD, host_client

pytestmark = pytest.mark.django_db


def _signup(subdomain: str, **overrides: str):
    data = {
        "name": "Klinik Pratama Harapan",
        "subdomain": subdomain,
        "owner_name": "dr. Siti Rahma",
        "owner_email": "siti@harapan.test",
        "password": PASSWORD,
        **overrides,
    }
    return host_client("localhost:8000").post("/signup/", data, HTTP_ACCEPT_LANGUAGE="en")


def _nothing_created(subdomain: str) -> bool:
    return (
        not Clinic.objects.filter(subdomain=subdomain).exists()
        and not Domain.objects.filter(domain__startswith=f"{subdomain}.").exists()
        and not schema_exists(subdomain.replace("-", "_"))
    )


def test_signup_creates_schema_domain_and_owner_and_redirects_to_the_clinic(platform_world):
    response = _signup("harapan")
    assert response.status_code == 302
    assert response["Location"] == "http://harapan.localhost:8000/accounts/login/?welcome=1"
    clinic = Clinic.objects.get(subdomain="harapan")
    assert clinic.schema_name == "harapan"
    assert clinic.status == Clinic.Status.ACTIVE
    assert Domain.objects.get(tenant=clinic).domain == "harapan.localhost"
    assert schema_exists("harapan")
    with schema_context("harapan"):
        owner = User.objects.get()
        assert owner.email == "siti@harapan.test"
        assert owner.role == Role.OWNER
        assert owner.check_password(PASSWORD)
        # cloned from the template: the migrations are recorded, so later migrate runs skip them
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'accounts'")
            assert cursor.fetchone()[0] >= 1


def test_owner_can_sign_in_at_the_new_subdomain(platform_world):
    _signup("harapan-dua")
    response = host_client("harapan-dua.localhost").post(
        "/accounts/login/", {"login": "siti@harapan.test", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_taken_subdomain_is_a_form_error(alpha):
    response = _signup("alpha")
    assert response.status_code == 400
    assert b"already taken" in response.content
    assert Clinic.objects.filter(subdomain="alpha").count() == 1


@pytest.mark.parametrize("subdomain", ["www", "admin", "api", "console", "static", "media", "public", "pg-data"])
def test_reserved_subdomain_is_a_form_error(platform_world, subdomain):
    response = _signup(subdomain)
    assert response.status_code == 400
    assert b"reserved" in response.content
    assert not Clinic.objects.filter(subdomain=subdomain).exists()


@pytest.mark.parametrize(
    "subdomain",
    [
        "a",
        "9lives",
        "-dash",
        "dash-",
        "under_score",
        "UPPER space",
        "x" * 31,
        "two--dashes",
        "ümlaut",
        'a"; DROP SCHEMA public CASCADE; --',
        "alpha.beta",
        "public\x00",
    ],
)
def test_malformed_or_hostile_subdomain_is_a_form_error_and_reaches_no_sql(platform_world, subdomain):
    before = Clinic.objects.count()
    with mock.patch("tenants.views.clinic_signup") as provision:
        response = _signup(subdomain)
    assert response.status_code == 400
    provision.assert_not_called()
    assert schema_exists("public")
    assert Clinic.objects.count() == before


def test_uppercase_subdomain_is_normalised(platform_world):
    response = _signup("  KlinikBesar ")
    assert response.status_code == 302
    assert Clinic.objects.filter(subdomain="klinikbesar").exists()


def test_missing_fields_and_weak_password_are_form_errors(platform_world):
    response = _signup("lemah", password="123", owner_email="not-an-email", name="")
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a valid email address" in body
    assert "This field is required" in body
    assert _nothing_created("lemah")


def test_common_password_is_refused_and_nothing_created(platform_world):
    response = _signup("umum", password="password123")
    assert response.status_code == 400
    assert b"too common" in response.content
    assert _nothing_created("umum")


def test_failure_half_way_leaves_no_half_made_clinic(platform_world):
    with (
        mock.patch("tenants.services.user_create", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        _signup("setengah")
    assert _nothing_created("setengah")


def test_duplicate_owner_email_in_another_clinic_is_fine(alpha):
    response = _signup("gamma", owner_email=alpha.email(Role.OWNER))
    assert response.status_code == 302


@pytest.mark.parametrize("subdomain", ["order", "user", "select", "current-user"])
def test_sql_keyword_subdomains_work(platform_world, subdomain):
    response = _signup(subdomain)
    assert response.status_code == 302, response.content.decode()[:3000]
    with schema_context(subdomain.replace("-", "_")):
        assert User.objects.get().role == Role.OWNER


def test_signup_waits_while_a_release_migrates(platform_world):
    import psycopg2

    from tenants.services import MIGRATION_LOCK_KEY

    migrating = psycopg2.connect(**connection.get_connection_params())
    try:
        with migrating.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        response = _signup("sedang-update")
    finally:
        migrating.close()
    assert response.status_code == 400
    assert b"being updated" in response.content
    assert _nothing_created("sedang-update")


def test_signups_are_rate_limited_per_address(platform_world):
    for _attempt in range(10):
        assert _signup("", name="").status_code == 400
    response = _signup("kesebelas")
    assert response.status_code == 429
    assert b"Too many clinics" in response.content
    assert _nothing_created("kesebelas")


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("id", "Alamat web klinik Anda adalah nama ini diikuti .localhost (misalnya sehat.localhost)."),
        ("en", "Your clinic&#x27;s web address is this name followed by .localhost (for example sehat.localhost)."),
    ],
)
def test_signup_help_text_says_the_address_in_words_in_the_language(platform_world, language, words):
    body = host_client("localhost").get("/signup/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert words in body
    assert "address&gt;" not in body  # no placeholder shown as a literal <address>
    assert "<address>" not in body
