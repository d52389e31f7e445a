"""A scratch database for the benchmarks, beside the development one, dropped afterwards."""

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "platform"))
sys.path.insert(1, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")


def _base_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        from config.embedded_db import embedded_database_url

        url = embedded_database_url()
    return url


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextlib.contextmanager
def scratch_database(suffix: str) -> Iterator[None]:
    """Point DATABASE_URL at a fresh `<db>_<suffix>` database, set Django up, drop it afterwards."""
    import dj_database_url

    from config.database_admin import create_database, drop_database_if_exists

    base = _base_url()
    server = dj_database_url.parse(base)
    name = (server["NAME"] or "clinic_platform") + f"_{suffix}"
    drop_database_if_exists(server, name)
    create_database(server, name)
    os.environ["DATABASE_URL"] = _with_database(base, name)
    try:
        import logging

        import django

        django.setup()
        logging.getLogger("tenants.services").setLevel(logging.WARNING)
        from django.core.management import call_command

        from tenants.services import platform_ensure

        call_command("migrate_schemas", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        platform_ensure()
        yield
    finally:
        from django.db import connections

        connections.close_all()
        drop_database_if_exists(server, name)


BENCH_PASSWORD = "bench-pass-2026"


def bench_clinic() -> object:
    """A clinic `bench` with a doctor, a nurse and front desk (all with BENCH_PASSWORD)."""
    from django_tenants.utils import schema_context

    from tenants.accounts.models import Role
    from tenants.accounts.services import user_create
    from tenants.services import clinic_signup

    clinic = clinic_signup(
        name="Bench", subdomain="bench", owner_name="Owner", owner_email="owner@bench.test", password=BENCH_PASSWORD
    ).clinic
    with schema_context(clinic.schema_name):
        for role in (Role.DOCTOR, Role.NURSE, Role.FRONT_DESK):
            user_create(email=f"{role}@bench.test", full_name=role.title(), role=role, password=BENCH_PASSWORD)
    return clinic


def signed_in_client(role: str = "doctor") -> object:
    """A test client signed in at the bench clinic's host."""
    from django.test import Client

    client = Client(HTTP_HOST="bench.localhost")
    response = client.post("/accounts/login/", {"login": f"{role}@bench.test", "password": BENCH_PASSWORD})
    assert response.status_code == 302, "the bench clinic's sign-in failed"
    return client
