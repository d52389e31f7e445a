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


def _admin_sql(url: str, statement: str) -> None:
    import psycopg2

    conn = psycopg2.connect(_with_database(url, "postgres"))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(statement)
    conn.close()


@contextlib.contextmanager
def scratch_database(suffix: str) -> Iterator[None]:
    """Point DATABASE_URL at a fresh `<db>_<suffix>` database, set Django up, drop it afterwards."""
    base = _base_url()
    name = (urlsplit(base).path.lstrip("/") or "clinic_platform") + f"_{suffix}"
    _admin_sql(base, f'DROP DATABASE IF EXISTS "{name}"')
    _admin_sql(base, f'CREATE DATABASE "{name}"')
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
        _admin_sql(base, f'DROP DATABASE IF EXISTS "{name}"')
