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

from scratch import ROOT, scratch_database

CLINICS_TO_MIGRATE = int(os.environ.get("BENCH_CLINICS", "100"))
PROVISION_SAMPLES = int(os.environ.get("BENCH_SAMPLES", "5"))


def main() -> None:
    with scratch_database("bench"):
        run()


def _timed(label: str, fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.2f} s", flush=True)
    return elapsed


def run() -> None:
    from django.test import override_settings

    from tenants.models import Clinic
    from tenants.services import clinic_signup

    print(f"Platform benchmarks on {stdlib_platform.node()} ({os.cpu_count()} cores), Python {sys.version.split()[0]}")

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
