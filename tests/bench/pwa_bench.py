"""`make bench` for the clinic app in headless Chromium: the first download of 10,000 patients and 30,000
visits into IndexedDB (BENCH_PARTS=1 adds a vital-signs set, a diagnosis and a prescription to each visit:
130,000 records), saving a visit offline (p50/p95), and the app's offline cold start (a browser
relaunched with no network).

Runs the real app under gunicorn on a scratch database; prints figures; asserts nothing about time.
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scratch import BENCH_PASSWORD, bench_clinic, scratch_database

from tests.browser.live_server import CHROMIUM, CHROMIUM_ARGS, free_port, gunicorn

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "10000"))
VISITS = int(os.environ.get("BENCH_VISITS", "30000"))
SAVES = int(os.environ.get("BENCH_SAVES", "300"))
PARTS = os.environ.get("BENCH_PARTS", "0") == "1"
SAVE_VISITS_JS = """
async (n) => {
  const patients = (await emr.db.records.where('entity').equals('patient').limit(n).toArray()).map((row) => row.id);
  const times = [];
  for (let i = 0; i < n; i++) {
    const now = new Date().toISOString();
    const start = performance.now();
    await emr.save([{entity: 'visit', id: emr.randomId(), op: 'create',
      fields: {patient: patients[i % patients.length], started_at: now, status: 'in_progress',
               chief_complaint: 'Demam', subjective: 'Demam 3 hari, batuk', plan: 'Paracetamol 3x500 mg'}}]);
    times.push(performance.now() - start);
  }
  return times;
}
"""


def main() -> None:
    with scratch_database("pwa_bench"):
        run()


def run() -> None:
    from django_tenants.utils import schema_context
    from playwright.sync_api import sync_playwright

    from records.demo_data import generate

    clinic = bench_clinic()
    with schema_context(clinic.schema_name):
        counts = generate(patients=PATIENTS, visits=VISITS, seed=7, parts=PARTS)
    total = sum(counts.values())
    port = free_port()
    base = f"http://bench.localhost:{port}"
    print(f"App benchmarks in headless Chromium ({os.cpu_count()} cores)")
    log_path = Path(tempfile.gettempdir()) / "pwa-bench-gunicorn.log"
    server = gunicorn(port=port, env=dict(os.environ), log_path=log_path)
    with server, sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        launch = {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True, "locale": "en-US"}
        context = playwright.chromium.launch_persistent_context(profile, **launch)
        context.set_default_timeout(600_000)
        page = context.new_page()
        page.goto(f"{base}/accounts/login/?next=/app/")
        page.fill("input[name=login]", "doctor@bench.test")
        page.fill("input[name=password]", BENCH_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/app/**")
        start = time.perf_counter()
        page.wait_for_function("window.emr && emr.ready && emr.stats.lastSyncAt && !emr.syncing", polling=50)
        elapsed = time.perf_counter() - start
        stored = page.evaluate("emr.db.records.count()")
        parts = " and their parts" if PARTS else ""
        print(
            f"  first download into IndexedDB: {stored:,} records ({counts['patients']:,} patients, "
            f"{counts['visits']:,} visits{parts}; {total:,} on the server) in {elapsed:.1f} s "
            f"({stored / elapsed:,.0f} records/s)"
        )

        page.evaluate("navigator.serviceWorker.ready")
        context.set_offline(True)
        page.evaluate("window.dispatchEvent(new Event('offline'))")
        times = page.evaluate(SAVE_VISITS_JS, SAVES)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(
            f"  save a visit offline ({SAVES} saves, records + outbox in one transaction, with the "
            f"status bar refreshed): p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"
        )
        context.close()

        starts = []
        for _ in range(5):  # a browser relaunched on the same profile, with no network at all
            context = playwright.chromium.launch_persistent_context(profile, **launch, offline=True)
            page = context.new_page()
            page.goto(f"{base}/app/")
            page.wait_for_function("window.emr && emr.ready")
            starts.append(page.evaluate("emr.readyAt"))
            context.close()
        print(
            f"  offline cold start (browser relaunched, no network, {stored + SAVES:,} records on the device): "
            f"median {statistics.median(starts):.0f} ms, worst {max(starts):.0f} ms of {len(starts)}"
        )


if __name__ == "__main__":
    if not Path(CHROMIUM).exists():
        sys.exit(f"The app benchmarks need Chromium at {CHROMIUM} (make test installs it).")
    main()
