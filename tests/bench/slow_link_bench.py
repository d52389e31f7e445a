"""`make bench` for slow links: a doctor's first download of a clinic the size of the demo one (7,082
records: 542 patients, 1,635 visits with their vital signs, diagnoses and prescriptions) over a 2G link
(250 kbit/s each way, 300 ms latency), in headless Chromium: the app shell's first load to a working app,
the first full download (until the first sync finishes), and the bytes the server sent.

Two links, each with a new device:
- Chromium's emulation (DevTools `Network.emulateNetworkConditions`), set on the page and, through
  auto-attach, on its service worker (a session on the page alone leaves the worker's precache at full
  speed). Chromium gives the page and the worker 250 kbit/s each, so the precache does not slow the pull.
- One shared link (`shaped_link.py`, a relay in front of the server): the precache and the pull share
  the 250 kbit/s, as on a real link.
Byte counts are response bodies as sent (compressed or not), from gunicorn's access log.

Runs the real app under gunicorn on a scratch database; prints figures; asserts nothing about time.
"""

import json
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from scratch import BENCH_PASSWORD, bench_clinic, scratch_database
from shaped_link import ShapedLink

from tests.browser.live_server import CHROMIUM, CHROMIUM_ARGS, free_port, gunicorn

PATIENTS = int(os.environ.get("BENCH_SLOW_PATIENTS", "542"))
VISITS = int(os.environ.get("BENCH_SLOW_VISITS", "1635"))
KBITS = int(os.environ.get("BENCH_SLOW_KBITS", "250"))
LATENCY_MS = int(os.environ.get("BENCH_SLOW_LATENCY_MS", "300"))
RATE = KBITS * 1000 / 8  # bytes per second
EMULATED = {"offline": False, "latency": LATENCY_MS, "downloadThroughput": RATE, "uploadThroughput": RATE}
ACCESS_FORMAT = "ACCESS %(m)s %(U)s %(s)s %(B)s %({content-length}o)s"
ACCESS = re.compile(r"^ACCESS (\S+) (\S+) (\d+) (\d+|-) (\d+|-)$")
SYNCED = "window.emr && emr.ready && emr.stats.lastSyncAt && !emr.syncing && emr.stats.pending === 0"


def main() -> None:
    with scratch_database("slowlink_gz"):
        run()


def run() -> None:
    from django_tenants.utils import schema_context
    from playwright.sync_api import sync_playwright

    from records.demo_data import generate

    clinic = bench_clinic()
    with schema_context(clinic.schema_name):
        counts = generate(patients=PATIENTS, visits=VISITS, seed=7)
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / "slow-link-bench-gunicorn.log"
    env = {**os.environ, "GUNICORN_CMD_ARGS": f"--access-logfile - --access-logformat '{ACCESS_FORMAT}'"}
    print(
        f"First download over a link of {KBITS} kbit/s, {LATENCY_MS} ms latency, in headless Chromium: "
        f"{sum(counts.values()):,} records ({counts['patients']:,} patients, {counts['visits']:,} visits, their parts)"
    )
    with gunicorn(port=port, env=env, log_path=log_path), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        print(" Chromium's emulation (the page and its service worker get the rate each):")
        first_download(browser, f"http://bench.localhost:{port}", log_path, emulate=True)
        with ShapedLink(target_port=port, rate=RATE, latency=LATENCY_MS / 1000) as link:
            print(" One shared link (a relay in front of the server):")
            first_download(browser, f"http://bench.localhost:{link.port}", log_path, emulate=False)
            print(f"  bytes down the link, headers and the sign-in page included: {link.bytes_down / 1024:,.0f} KiB")
        browser.close()


def first_download(browser: object, base: str, log_path: Path, *, emulate: bool) -> None:
    """A new device signs in as the doctor and downloads the clinic; prints the figures."""
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(600_000)
    # When the service worker is active (the app precached, ICD-10 table included), in epoch ms.
    context.add_init_script("navigator.serviceWorker?.ready.then(() => { window.swReadyAt = Date.now(); })")
    page = context.new_page()
    if emulate:
        _emulate_link(context, page)
    page.goto(f"{base}/accounts/login/?next=/app/")
    page.fill("input[name=login]", "doctor@bench.test")
    page.fill("input[name=password]", BENCH_PASSWORD)
    log_offset = log_path.stat().st_size
    start, epoch = time.perf_counter(), time.time()
    page.click("button[type=submit]")
    page.wait_for_function("window.emr && emr.ready", polling=50)
    shell = time.perf_counter() - start
    page.wait_for_function(SYNCED, polling=50)
    download = time.perf_counter() - start
    stored = page.evaluate("emr.db.records.count()")
    precached = page.evaluate("navigator.serviceWorker.ready.then(() => window.swReadyAt)") / 1000 - epoch
    context.close()
    time.sleep(1)  # the access log's last lines
    sent = _bytes_sent(log_path.read_text()[log_offset:])
    total = sum(sent.values())
    print(f"  app shell's first load (sign-in submitted -> working app): {shell:.1f} s")
    print(f"  first full download (-> first sync finished, {stored:,} records on the device): {download:.1f} s")
    print(f"  service worker active (app precached, ICD-10 table included): {precached:.1f} s")
    parts = ", ".join(f"{name} {size / 1024:,.0f} KiB" for name, size in sorted(sent.items(), key=lambda i: -i[1]))
    print(f"  response bodies sent after the sign-in: {total / 1024:,.0f} KiB ({parts})")
    print(f"  which take {total / RATE:.1f} s at {KBITS} kbit/s")


def _emulate_link(context: object, page: object) -> None:
    """The slow link on the page and on every target it starts (its service worker): each is held at
    its start until the link is set on it."""
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.emulateNetworkConditions", EMULATED)

    def attached(event: dict) -> None:
        steps = [("Network.enable", {}), ("Network.emulateNetworkConditions", EMULATED)]
        for number, (method, params) in enumerate([*steps, ("Runtime.runIfWaitingForDebugger", {})]):
            message = json.dumps({"id": number + 1, "method": method, "params": params})
            session.send("Target.sendMessageToTarget", {"sessionId": event["sessionId"], "message": message})

    session.on("Target.attachedToTarget", attached)
    session.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": False})


def _bytes_sent(log: str) -> dict[str, int]:
    """Body bytes by kind of response, from gunicorn's access log lines."""
    sent: dict[str, int] = defaultdict(int)
    for line in log.splitlines():
        match = ACCESS.match(line.strip())
        if match is None:
            continue
        # gunicorn counts no bytes for a file it sends with sendfile(); its Content-Length says them.
        size = max(int(value) for value in (match[4], match[5], "0") if value != "-")
        path = match[2]
        if path.startswith("/api/sync/"):
            kind = "sync"
        elif "/icd10-" in path:
            kind = "ICD-10 table"
        elif path.startswith("/app/"):
            kind = "app"
        elif path.startswith("/api/"):
            kind = "API"
        else:
            kind = "pages"
        sent[kind] += size
    return dict(sent)


if __name__ == "__main__":
    if not Path(CHROMIUM).exists():
        sys.exit(f"The slow-link benchmark needs Chromium at {CHROMIUM} (make test installs it).")
    main()
