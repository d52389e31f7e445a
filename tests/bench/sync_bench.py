"""`make bench` for sync: push throughput (mutations/s) at batch sizes 1, 100 and 500 through the whole
HTTP stack (the app under gunicorn, a client on a kept-alive connection, as a device), beside the raw
PostgreSQL insert rate of the same rows in the same run; a batch of 500 of a day's clinical work (every
kind of record, pointing at each other) and two devices pushing at once; then pull throughput of a full download of
10,000 patients and 30,000 visits (and their parts).

Runs in a scratch database; prints figures; asserts nothing about time. The browser-side figures
(first download into IndexedDB, offline save, cold start) come from `pwa_bench.py`.
"""

import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from http_session import HttpSession
from scratch import BENCH_PASSWORD, bench_clinic, scratch_database

from tests.browser.live_server import free_port, gunicorn

PUSHES = int(os.environ.get("BENCH_PUSHES", "2000"))
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "10000"))
VISITS = int(os.environ.get("BENCH_VISITS", "30000"))
BATCHES = [int(size) for size in os.environ.get("BENCH_BATCHES", "1,100,500").split(",")]


def main() -> None:
    with scratch_database("sync_bench"):
        run()


def _patients(first_seq: int, count: int) -> list[dict]:
    """`count` patient registrations."""
    return [
        _create(seq, "patient", {"full_name": f"Pasien Bench {seq}", "birth_date": "1990-01-02", "sex": "F"})
        for seq in range(first_seq, first_seq + count)
    ]


def _encounters(first_seq: int, count: int) -> list[dict]:
    """A day's clinical work: a new patient, a visit with its notes, vital signs, a diagnosis and a
    prescription, over and over (each pointing at the records before it, as a device sends them)."""
    mutations: list[dict] = []
    seq = first_seq
    while len(mutations) < count:
        patient, visit = str(uuid.uuid4()), str(uuid.uuid4())
        for entity, record_id, fields in (
            ("patient", patient, {"full_name": f"Pasien Klinik {seq}", "birth_date": "1985-06-15", "sex": "M"}),
            ("visit", visit, {"patient": patient, "started_at": "2026-11-25T09:30:00+07:00", **_NOTES}),
            ("vitals", None, {"visit": visit, "measured_at": "2026-11-25T09:35:00+07:00", **_VITALS}),
            ("diagnosis", None, {"visit": visit, "code": "J06.9"}),
            ("prescription", None, {"visit": visit, **_PRESCRIPTION}),
        ):
            mutations.append(_create(seq, entity, fields, record_id))
            seq += 1
    return mutations[:count]


_NOTES = {"chief_complaint": "Batuk pilek", "subjective": "Batuk 3 hari", "assessment": "ISPA", "plan": "Obat"}
_VITALS = {"temperature_c": "37.8", "pulse": 92, "respiratory_rate": 20, "systolic": 118, "diastolic": 76}
_PRESCRIPTION = {"drug": "Parasetamol 500 mg", "dose": "1 tablet", "frequency": "3x1", "quantity": 10}


def _create(seq: int, entity: str, fields: dict, record_id: str | None = None) -> dict:
    return {
        "seq": seq,
        "entity": entity,
        "record_id": record_id or str(uuid.uuid4()),
        "op": "create",
        "base_version": 0,
        "fields": fields,
    }


def _outbox(count: int, batch: int, make: Callable[[int, int], list[dict]] = _patients) -> list[bytes]:
    """A new device's pushes of `count` creates (made by `make`), `batch` each, encoded before the clock
    starts: the device had its outbox ready, and this client shares the server's two cores."""
    device = f"bench-{batch}-{uuid.uuid4().hex[:8]}"
    return [
        json.dumps({"device_id": device, "mutations": make(seq, min(batch, count + 1 - seq))}).encode()
        for seq in range(1, count + 1, batch)
    ]


def _send(client: HttpSession, outbox: list[bytes]) -> None:
    """Every push answered 200, and every mutation in it applied."""
    for body in outbox:
        status, answer = client.post_json("/api/sync/push", body)
        assert status == 200, answer
        refused = [result for result in answer["results"] if result["status"] != "applied"]
        assert not refused, refused[:3]


def _rate(client: HttpSession, outbox: list[bytes]) -> float:
    start = time.perf_counter()
    _send(client, outbox)
    return PUSHES / (time.perf_counter() - start)


def run() -> None:
    clinic = bench_clinic()
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / "sync-bench-gunicorn.log"
    with gunicorn(port=port, env=dict(os.environ), log_path=log_path):
        client = HttpSession(port=port, host="bench.localhost")
        client.sign_in("doctor@bench.test", BENCH_PASSWORD)
        _push_and_pull(client, clinic)


def _push_and_pull(client: HttpSession, clinic: object) -> None:
    from django.db import connection
    from django_tenants.utils import schema_context

    from records.demo_data import generate

    print(f"Sync benchmarks over HTTP to gunicorn ({os.cpu_count()} cores)")
    print(f"Push {PUSHES} creates through HTTP (validation, revision, change log, last_seq), patients first:")
    rates = {}
    for batch in BATCHES:
        rates[batch] = _rate(client, _outbox(PUSHES, batch))
        print(f"  batch {batch:>3}: {rates[batch]:8,.0f} mutations/s")
    clinical = _rate(client, _outbox(PUSHES, 500, _encounters))
    print(f"  batch 500, clinical work (patient, visit, vitals, diagnosis, prescription): {clinical:8,.0f} mutations/s")
    # Two devices at once (a clinic has several): the server's throughput when requests overlap.
    second = HttpSession(port=client.port, host="bench.localhost")
    second.sign_in("nurse@bench.test", BENCH_PASSWORD)
    outboxes = [(each, _outbox(PUSHES // 2, 500)) for each in (client, second)]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for sent in [pool.submit(_send, each, outbox) for each, outbox in outboxes]:
            sent.result()  # a refused push fails the benchmark, as on one device
    print(f"  batch 500, two devices at once: {PUSHES // 2 * 2 / (time.perf_counter() - start):8,.0f} mutations/s")

    with schema_context(clinic.schema_name), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE raw_patient (LIKE records_patient INCLUDING DEFAULTS)")
        rows = [
            (str(uuid.uuid4()), f"RAW{n:08d}", f"Pasien Raw {n}", "", "1990-01-02", "F", "0812", "", "", 1)
            for n in range(PUSHES * 5)
        ]
        start = time.perf_counter()
        for offset in range(0, len(rows), 500):
            chunk = rows[offset : offset + 500]
            placeholders = ",".join(["(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,now(),now(),'',1,1)"] * len(chunk))
            cursor.execute(
                "INSERT INTO raw_patient (id, medical_record_number, full_name, nik, birth_date, sex, phone,"
                " address, allergies, version, created_at, updated_at, void_reason, created_by_id, updated_by_id)"
                " VALUES " + placeholders,
                [value for row in chunk for value in row],
            )
        raw = len(rows) / (time.perf_counter() - start)
    print(f"  raw PostgreSQL insert of the same rows, batches of 500: {raw:,.0f} rows/s")
    for batch, rate in rates.items():
        print(f"  push at batch {batch} is {rate / raw:.1%} of the raw insert rate")

    with schema_context(clinic.schema_name):
        start = time.perf_counter()
        counts = generate(patients=PATIENTS, visits=VISITS, seed=5)
        print(f"Generated {sum(counts.values())} records in {time.perf_counter() - start:.1f} s")
    for limit in (500, 1000):
        cursor_value, received, start = 0, 0, time.perf_counter()
        device = f"pull-{limit}-{uuid.uuid4().hex[:6]}"
        while True:
            # As the app does: the first page counts what remains, the later ones do not.
            params = {"cursor": cursor_value, "limit": limit, "device_id": device, "count": int(cursor_value == 0)}
            status, body = client.get_json("/api/sync/pull", params)
            assert status == 200, body
            received += len(body["changes"])
            cursor_value = body["cursor"]
            if not body["has_more"]:
                break
        elapsed = time.perf_counter() - start
        print(
            f"Pull full download, pages of {limit}: {received} changes in {elapsed:.1f} s ({received / elapsed:,.0f}/s)"
        )


if __name__ == "__main__":
    main()
