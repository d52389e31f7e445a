"""`make bench` for the clinical record: loading 10,000 patients and 30,000 visits, then the p50/p95 of
patient search and chart reads through the whole HTTP stack (middleware, session, DRF) at that size.

Runs in a scratch database; prints figures; asserts nothing about time.
"""

import os
import random
import statistics
import time

from scratch import bench_clinic, scratch_database, signed_in_client

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "10000"))
VISITS = int(os.environ.get("BENCH_VISITS", "30000"))
SAMPLES = int(os.environ.get("BENCH_READS", "300"))


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms ({len(ordered)} requests)"


def main() -> None:
    with scratch_database("records_bench"):
        run()


def run() -> None:
    from django_tenants.utils import schema_context

    from records import icd10
    from records.demo_data import generate
    from records.models import Patient

    clinic = bench_clinic()
    with schema_context(clinic.schema_name):
        start = time.perf_counter()
        counts = generate(patients=PATIENTS, visits=VISITS, seed=11)
        loaded = time.perf_counter() - start
        patients = list(Patient.objects.values_list("id", "full_name", "medical_record_number", "nik"))
    rows = sum(counts.values())
    print(f"Clinical record benchmarks ({os.cpu_count()} cores)")
    print(f"Load {counts['patients']} patients and {counts['visits']} visits ({rows} records + as many revisions):")
    print(f"  {loaded:.1f} s ({rows * 2 / loaded:,.0f} rows/s)")

    client = signed_in_client()
    rng = random.Random(3)

    def timed(path: str, params: dict | None = None) -> float:
        begin = time.perf_counter()
        response = client.get(path, params or {})
        elapsed = time.perf_counter() - begin
        assert response.status_code == 200, response.content[:300]
        return elapsed

    queries = []
    for _ in range(SAMPLES):
        _id, name, mrn, nik = rng.choice(patients)
        queries.append(rng.choice([name.split()[0][:4], name.split()[-1], mrn, nik[:8] if nik else mrn]))
    timed("/api/patients/", {"q": "a"})  # warm up
    search = [timed("/api/patients/", {"q": query}) for query in queries]
    print(f"Patient search (name part, record number or NIK prefix), first page: {_percentiles(search)}")
    charts = [timed(f"/api/patients/{rng.choice(patients)[0]}/chart/") for _ in range(SAMPLES)]
    print(f"Chart read (all visits with vitals, diagnoses, prescriptions; logged): {_percentiles(charts)}")
    icd = []
    english = ["J06", "fever", "diabetes", "hypertension", "I10", "typhoid", "acute upper resp"]
    for query in [*english, "demam", "ISPA", "darah tinggi", "batuk pilek"] * 20:
        begin = time.perf_counter()
        icd10.search(query)
        icd.append(time.perf_counter() - begin)
    print(f"ICD-10 search in memory: {_percentiles(icd)}")


if __name__ == "__main__":
    main()
