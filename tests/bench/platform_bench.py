"""`make bench` for the platform: provisioning a clinic (clone vs migrations) and migrating 100 clinics.

Runs in a scratch database (`<name>_bench`, dropped at the end) beside the development one, on the
embedded PostgreSQL unless DATABASE_URL is set. Prints figures; asserts nothing about time.
"""

import os
import platform as stdlib_platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "platform"))
sys.path.insert(1, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

CLINICS_TO_MIGRATE = int(os.environ.get("BENCH_CLINICS", "100"))
PROVISION_SAMPLES = int(os.environ.get("BENCH_SAMPLES", "5"))


def _base_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        from config.embedded_db import embedded_database_url

        url = embedded_database_url()
    return url


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_sql(url: str, statement: str) -> None:
    import psycopg2

    conn = psycopg2.connect(_with_database(url, "postgres"))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(statement)
    conn.close()


def main() -> None:
    base = _base_url()
    bench_db = (urlsplit(base).path.lstrip("/") or "clinic_platform") + "_bench"
    _admin_sql(base, f'DROP DATABASE IF EXISTS "{bench_db}"')
    _admin_sql(base, f'CREATE DATABASE "{bench_db}"')
    os.environ["DATABASE_URL"] = _with_database(base, bench_db)
    try:
        run()
    finally:
        from django.db import connections

        connections.close_all()
        _admin_sql(base, f'DROP DATABASE IF EXISTS "{bench_db}"')


def _timed(label: str, fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.2f} s", flush=True)
    return elapsed


def run() -> None:
    import django

    django.setup()
    import logging

    logging.getLogger("tenants.services").setLevel(logging.WARNING)  # one line per clinic otherwise
    from django.core.management import call_command
    from django.test import override_settings

    from tenants.models import Clinic
    from tenants.services import clinic_signup, platform_ensure

    print(f"Platform benchmarks on {stdlib_platform.node()} ({os.cpu_count()} cores), Python {sys.version.split()[0]}")
    print("Preparing a scratch database...", flush=True)
    call_command("migrate_schemas", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    platform_ensure()

    def provision(name: str) -> None:
        clinic_signup(
            name=name, subdomain=name, owner_name="Bench", owner_email=f"o@{name}.test", password="bench-pass-2026"
        )

    def compare_provisioning(tag: str) -> None:
        clone_times, migrate_times = [], []
        for i in range(PROVISION_SAMPLES):
            start = time.perf_counter()
            provision(f"clone{tag}{i}")
            clone_times.append(time.perf_counter() - start)
        with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
            for i in range(PROVISION_SAMPLES):
                start = time.perf_counter()
                provision(f"plain{tag}{i}")
                migrate_times.append(time.perf_counter() - start)
        clone_median, plain_median = statistics.median(clone_times), statistics.median(migrate_times)
        existing = Clinic.objects.exclude(schema_name="public").count()
        print(f"Provision one clinic with {existing} schemas in the database (median of {PROVISION_SAMPLES}):")
        print(f"  by cloning the template schema: {clone_median * 1000:.0f} ms")
        print(f"  by running every migration:     {plain_median * 1000:.0f} ms ({plain_median / clone_median:.1f}x)")

    compare_provisioning("a")
    print(f"Create {CLINICS_TO_MIGRATE} clinics by cloning:", flush=True)
    start = time.perf_counter()
    for i in range(CLINICS_TO_MIGRATE):
        provision(f"many{i}")
    created = time.perf_counter() - start
    print(f"  {created:.2f} s ({created / CLINICS_TO_MIGRATE * 1000:.0f} ms each)", flush=True)
    compare_provisioning("b")
    total = Clinic.objects.exclude(schema_name="public").count()

    print(f"migrate_schemas over {total} clinic schemas with nothing to apply (every release runs this):")
    for executor in ("standard", "multiprocessing"):
        _timed(executor, _migrate, executor)

    print(f"migrate_schemas applying a new migration to {CLINICS_TO_MIGRATE} clinics (all migrations from zero):")
    from django.db import connection

    with connection.cursor() as cursor:
        for i in range(CLINICS_TO_MIGRATE):
            cursor.execute(f'DROP SCHEMA "many{i}" CASCADE; CREATE SCHEMA "many{i}"')
    _timed("multiprocessing", _migrate, "multiprocessing")


def _migrate(executor: str) -> None:
    # A subprocess, as on a Heroku release: the multiprocessing executor forks its own workers.
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate_schemas", "--noinput", f"--executor={executor}", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])


if __name__ == "__main__":
    main()
