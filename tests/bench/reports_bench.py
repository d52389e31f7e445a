"""`make bench` for the owner's reports: 100,000 visits over two years (each with vital signs, a diagnosis
and a prescription), then the time of each report through the whole HTTP stack, as the owner asks for
it: visits per day over 90 days, per month over a year, the month's LB1 table, the year's top ten, and
a CSV export.

Runs in a scratch database; prints figures; asserts nothing about time.
"""

import datetime
import os
import statistics
import time

from scratch import bench_clinic, scratch_database, signed_in_client

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "30000"))
VISITS = int(os.environ.get("BENCH_VISITS", "100000"))
SAMPLES = int(os.environ.get("BENCH_REPORT_READS", "5"))


def main() -> None:
    with scratch_database("reports_bench"):
        run()


def run() -> None:
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from records.demo_data import generate

    clinic = bench_clinic()
    with schema_context(clinic.schema_name):
        start = time.perf_counter()
        counts = generate(patients=PATIENTS, visits=VISITS, seed=14)
        loaded = time.perf_counter() - start
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # autovacuum may be off (as on the CI machine)
    print(f"Report benchmarks ({os.cpu_count()} cores)")
    print(f"Load {counts['patients']} patients and {counts['visits']} visits with their parts: {loaded:.1f} s")

    client = signed_in_client("owner")
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    asks = {
        "visits per day, 90 days": (
            "/api/reports/visits/",
            {"start": today - datetime.timedelta(days=89), "end": today},
        ),
        "visits per month, a year": (
            "/api/reports/visits/",
            {"start": today - datetime.timedelta(days=365), "end": today, "period": "month"},
        ),
        "LB1, last month": ("/api/reports/morbidity/", {"month": f"{last_month:%Y-%m}"}),
        "LB1, last month, CSV": ("/api/reports/morbidity/", {"month": f"{last_month:%Y-%m}", "export": "csv"}),
        "top ten, a year": ("/api/reports/top/", {"start": today - datetime.timedelta(days=365), "end": today}),
    }
    for name, (path, params) in asks.items():
        times = []
        for _ in range(SAMPLES):
            begin = time.perf_counter()
            response = client.get(path, params)
            times.append(time.perf_counter() - begin)
            assert response.status_code == 200, response.content[:300]
        print(f"  {name}: median {statistics.median(times) * 1000:.0f} ms, slowest {max(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
