"""`make bench` capacity: many clinics' devices syncing at once, over HTTP, against gunicorn run exactly
as the Procfile's `web:` line (same flags, `WEB_CONCURRENCY` or its default).

Each clinic has 5 devices (owner, two doctors, a nurse, front desk), each with its own session, CSRF
token and kept-alive connection, on the app's rhythm (`pwa/src/main.js`, `sync.js`):
- a person saves every BENCH_THINK seconds (uniform; 30-120 s by default, a busy clinic); the save puts
  1-20 mutations in the outbox (P(n) proportional to 1/n, mean 5.6): the next steps of that role's
  work (patient registered, chart opened, visit, vital signs, SOAP note, ICD-10 diagnosis,
  prescriptions, visit finished; a nurse and front desk only their part), with Indonesian names, NIKs
  and vital signs, and base versions as the device knows them;
- 300 ms after a save, and every 30 s from the app's start, a sync: push the outbox (if any), then pull
  until `has_more` is false (`count=1` on the first page), as `syncRun` does; network errors and 5xx
  retry with the app's backoff (2 s doubling to 60 s), resending the same seqs.
The levels (BENCH_LEVELS, 100/250/500 devices: the first 20/50/100 clinics) each run BENCH_SECONDS.
Devices are signed in by sessions written straight into each clinic's session table (what Django's
login stores); one device signs in through the real login form, and its session must hold the same
keys. Every device then asks `/api/me/` for its CSRF token and downloads its clinic, as the app does.

At the end every device syncs to the end and the bench checks that nothing was lost: every mutation
acknowledged is in its clinic's schema exactly once (one revision per create or update, one chart
access per opening, `last_seq` as acknowledged), and every device pulled every record of its clinic
that its role may read. A request the server cut off on a kept-alive connection it was closing is
sent again at once, as Chromium does, and counted apart. The database is `<db>_load` beside
DATABASE_URL's (the embedded PostgreSQL without it), dropped afterwards. `BENCH_CLINICS=1
BENCH_PER_CLINIC=500` puts every device in one clinic; `BENCH_THINK=10,40` triples the rate.
"""

import asyncio
import contextlib
import datetime
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import aiohttp
from http_session import HttpSession
from scratch import BENCH_PASSWORD, ROOT, scratch_database

from tests.browser.live_server import _wait_healthy, free_port

CLINICS = int(os.environ.get("BENCH_CLINICS", "100"))
PER_CLINIC = int(os.environ.get("BENCH_PER_CLINIC", "5"))
LEVELS = [int(n) for n in os.environ.get("BENCH_LEVELS", "100,250,500").split(",")]
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
THINK = tuple(float(s) for s in os.environ.get("BENCH_THINK", "30,120").split(","))
PULL_EVERY = 30.0  # main.js: setInterval(runSync, 30000)
SYNC_DELAY = 0.3  # main.js: scheduleSync(300) after a save
TIMEOUT = 30.0  # Heroku's router gives up after 30 s: counted as an error
ROLES = ["owner", "doctor", "doctor", "nurse", "frontdesk"]  # the devices of a clinic, in turn
WRITES = {"owner": "doctor", "doctor": "doctor", "nurse": "nurse", "frontdesk": "frontdesk"}
CLINICAL = {"owner", "doctor", "nurse"}  # may read vital signs, diagnoses, prescriptions
SIZES = list(range(1, 21))
SIZE_WEIGHTS = [1 / n for n in SIZES]
WIB = datetime.timezone(datetime.timedelta(hours=7))


# --- the clinics, their staff and sessions ----------------------------------------------------------


def provision() -> list[dict]:
    """CLINICS clinics cloned from the template, each with its staff: one row per device."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django_tenants.utils import schema_context

    from tenants.accounts.services import user_create
    from tenants.services import clinic_signup

    devices = []
    for c in range(CLINICS):
        sub = f"load{c:03d}"
        signup = clinic_signup(
            name=f"Klinik Beban {c}", subdomain=sub, owner_name="dr. Pemilik", owner_email=f"owner@{sub}.test",
            password=BENCH_PASSWORD,
        )  # fmt: skip
        with schema_context(signup.clinic.schema_name):
            users = {"owner": signup.owner}
            for role in ("doctor", "nurse", "frontdesk"):
                users[role] = user_create(
                    email=f"{role}@{sub}.test", full_name=role, role=role, password=BENCH_PASSWORD
                )
            users["doctor2"] = user_create(
                email=f"doctor2@{sub}.test", full_name="d2", role="doctor", password=BENCH_PASSWORD
            )
            if c == 0:  # the first device signs in through the real form: the password hashed as deployed
                hasher = PBKDF2PasswordHasher()
                signup.owner.password = hasher.encode(BENCH_PASSWORD, hasher.salt())
                signup.owner.save(update_fields=["password"])
            for d in range(PER_CLINIC):
                role = ROLES[d % len(ROLES)]
                user = users["doctor2" if d % len(ROLES) == 2 else role]
                devices.append({"clinic": sub, "schema": signup.clinic.schema_name, "role": role, "email": user.email})
    return devices


def sessions_like(real: dict, devices: list[dict]) -> tuple[set, set]:
    """A session per device written into its clinic's session table, holding what the real sign-in's
    session holds (its user's id and password hash in place of the first user's)."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django_tenants.utils import schema_context

    from tenants.accounts.models import User

    schema, key = real["schema"], real["cookies"]["sessionid"]
    try:
        with schema_context(schema):
            template = SessionStore(session_key=key).load()
        for device in devices:
            with schema_context(device["schema"]):
                user = User.objects.get(email=device["email"])
                store = SessionStore()
                data = json.loads(json.dumps(template).replace(real["email"], user.email))
                store.update({**data, SESSION_KEY: str(user.pk), HASH_SESSION_KEY: user.get_session_auth_hash()})
                store.create()
                device["cookies"] = {"sessionid": store.session_key}
        with schema_context(devices[-1]["schema"]):
            written = set(SessionStore(session_key=devices[-1]["cookies"]["sessionid"]).load())
        return set(template), written
    finally:
        connection.close()  # this thread's own connection


def queries_per_request(schema: str, clinic: str, cookies: dict) -> None:
    """SQL statements per push and per pull, in-process (Django's test client, the same middleware), by a
    probe device of one clinic: a whole visit pushed (8 mutations), one chart opening, then two pulls."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=f"{clinic}.localhost")
    client.cookies["sessionid"] = cookies["sessionid"]
    steps = work(random.Random(1), "doctor")
    found: dict[str, list] = {}
    seq, cursor = 1, 0
    try:
        for count in (8, 1):
            batch = [next(steps) for _ in range(count)]
            label = "push of a whole visit (8 mutations)" if count == 8 else f"push of 1 ({batch[0][0]} {batch[0][2]})"
            mutations = [
                {"seq": seq + i, "entity": e, "record_id": r, "op": o, "base_version": 0, "fields": f}
                for i, (e, r, o, f) in enumerate(batch)
            ]
            seq += count
            with CaptureQueriesContext(connection) as queries:
                body = json.dumps({"device_id": "probe-device-1", "mutations": mutations})
                answer = client.post("/api/sync/push", body, content_type="application/json")
            assert answer.status_code == 200, answer.content
            assert {r["status"] for r in answer.json()["results"]} <= {"applied", "merged"}, answer.content
            found[label] = queries.captured_queries
        for label in ("pull of 9 changes", "pull of none"):
            with CaptureQueriesContext(connection) as queries:
                page = client.get("/api/sync/pull", {"cursor": cursor, "device_id": "probe-device-1", "count": 1})
            assert page.status_code == 200, page.content
            cursor = page.json()["cursor"]
            found[label] = queries.captured_queries
    finally:
        connection.close()
    print("SQL statements per request (in-process):" + ";".join(f" {k} {len(v)}" for k, v in found.items()))
    if os.environ.get("BENCH_SHOW_QUERIES"):
        for label, captured in found.items():
            print(f"  {label}:")
            for query in captured:
                print(f"    {query['sql'][:200]}")


# --- the app under gunicorn, as the Procfile runs it ---------------------------------------------------


def procfile_web() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise RuntimeError("no web: line in the Procfile")


@contextlib.contextmanager
def app_server(port: int, log_path: Path) -> Iterator[subprocess.Popen]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PLATFORM_DOMAIN": "localhost",
        "DEBUG": "false",
        "PORT": str(port),
    }
    # The Procfile's own words through a shell (so ${WEB_CONCURRENCY:-2} expands), bound to loopback.
    command = f"exec {procfile_web()} --bind 127.0.0.1:{port}"
    with open(log_path, "w") as log:
        server = subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(server, port, log_path)
            yield server
        finally:
            server.terminate()
            server.wait(timeout=30)


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        with contextlib.suppress(OSError):
            todo.extend(int(p) for p in Path(f"/proc/{current}/task/{current}/children").read_text().split())
    return pids


def backend_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to this benchmark's database (others share the
    server)."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return {pid: cpu_seconds([pid]) for (pid,) in cursor.fetchall()}
    finally:
        connection.close()


def machine_busy() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# --- what a person saves ----------------------------------------------------------------------------


def _now() -> str:
    return datetime.datetime.now(WIB).isoformat(timespec="seconds")


def _patient(rng: random.Random) -> dict:
    from records.demo_data import ALLERGIES, CITIES, FAMILY, FEMALE, MALE, PROVINCES, STREETS

    female = rng.random() < 0.55
    birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randint(0, 30_000))
    day = birth.day + (40 if female else 0)
    nik = (
        f"{rng.choice(PROVINCES)}{rng.randint(1, 79):02d}{rng.randint(1, 40):02d}"
        f"{day:02d}{birth.month:02d}{birth.year % 100:02d}{rng.randint(1, 9999):04d}"
    )
    return {
        "full_name": f"{rng.choice(FEMALE if female else MALE)} {rng.choice(FAMILY)}",
        "nik": nik if rng.random() < 0.85 else "",
        "birth_date": birth.isoformat(),
        "sex": "F" if female else "M",
        "phone": f"08{rng.randint(11, 99)}{rng.randint(10_000_000, 99_999_999)}",
        "address": f"Jl. {rng.choice(STREETS)} No. {rng.randint(1, 200)}, {rng.choice(CITIES)}",
        "allergies": rng.choice(ALLERGIES),
    }


def _vitals(rng: random.Random, case: object, visit: str) -> dict:
    systolic = rng.randint(100, 165)
    height = rng.uniform(145, 180)
    return {
        "visit": visit,
        "measured_at": _now(),
        "temperature_c": f"{rng.uniform(*case.temperature):.1f}",
        "pulse": rng.randint(62, 112),
        "respiratory_rate": rng.randint(14, 24),
        "systolic": systolic,
        "diastolic": rng.randint(60, min(105, systolic - 25)),
        "spo2": rng.randint(94, 100),
        "height_cm": f"{height:.1f}",
        "weight_kg": f"{rng.uniform(18.5, 29) * (height / 100) ** 2:.1f}",
    }


def work(rng: random.Random, role: str) -> Iterator[tuple[str, str, str, dict]]:
    """A role's next steps, forever: (entity, record_id, op, fields)."""
    from records.demo_data import CASES

    patients: list[str] = []
    while True:
        case = rng.choice(CASES)
        if patients and rng.random() < 0.3:  # a returning patient
            patient = rng.choice(patients)
        else:
            patient = str(uuid.uuid4())
            patients.append(patient)
            yield "patient", patient, "create", _patient(rng)
        yield "chart", patient, "open", {"opened_at": _now()}
        visit = str(uuid.uuid4())
        yield "visit", visit, "create", {"patient": patient, "started_at": _now(), "chief_complaint": case.complaint}
        if WRITES[role] == "frontdesk":
            continue
        yield "vitals", str(uuid.uuid4()), "create", _vitals(rng, case, visit)
        if WRITES[role] == "nurse":
            continue
        yield (
            "visit",
            visit,
            "update",
            {"status": "in_progress", "subjective": case.subjective, "objective": case.objective},
        )
        yield "diagnosis", str(uuid.uuid4()), "create", {"visit": visit, "code": case.code, "kind": "primary"}
        prescription = {"drug": case.drug, "dose": case.dose, "frequency": case.frequency, "duration": case.duration}
        prescription.update(visit=visit, route="oral", quantity=case.quantity, instructions="Sesudah makan")
        yield "prescription", str(uuid.uuid4()), "create", prescription
        yield "visit", visit, "update", {"assessment": case.assessment, "plan": case.plan, "status": "finished"}


# --- a device --------------------------------------------------------------------------------------


@dataclass
class Stats:
    start: float = 0.0
    end: float = 0.0
    latency: dict = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    resent: Counter = field(default_factory=Counter)
    mutations: int = 0
    statuses: Counter = field(default_factory=Counter)

    def counts(self, started: float) -> bool:
        return self.start <= started < self.end


class SyncFailedError(Exception):
    pass


@dataclass
class Device:
    clinic: str
    schema: str
    role: str
    email: str
    port: int
    rng: random.Random
    id: str = field(default_factory=lambda: f"d-{uuid.uuid4().hex[:20]}")
    cookies: dict = field(default_factory=dict)
    csrf: str = ""
    idle_since: float = 0.0
    next_seq: int = 1
    cursor: int = 0
    outbox: list = field(default_factory=list)
    versions: dict = field(default_factory=dict)
    acked: dict = field(default_factory=dict)  # seq -> (entity, record_id, op, status)
    received: set = field(default_factory=set)
    http: aiohttp.ClientSession | None = None
    steps: Iterator | None = None
    wanted: asyncio.Event | None = None

    async def call(self, stats: Stats, kind: str, method: str, path: str, body: bytes | None = None) -> dict:
        headers = {
            "Host": f"{self.clinic}.localhost:{self.port}",
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "Sec-Fetch-Site": "same-origin",  # the app's own fetch: JSON answers come gzipped
            "Content-Type": "application/json",
            "X-CSRFToken": self.csrf,
            "User-Agent": "Mozilla/5.0 (Linux; Android 13) load-bench",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                async with self.http.request(
                    method, f"http://127.0.0.1:{self.port}{path}", data=body, headers=headers
                ) as r:
                    data = await r.read()
                    for header in r.headers.getall("Set-Cookie", []):
                        self.cookies.update({name: m.value for name, m in SimpleCookie(header).items()})
                    status = r.status
                break
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                # A kept-alive connection the server closed as the request went out (gunicorn closes idle
                # ones after 2 s): Chromium sends such a request again at once on a new connection, and
                # the app never sees it. Counted apart; a second failure is an error.
                reused = not isinstance(exc, aiohttp.ClientConnectorError) and started - self.idle_since >= 1.0
                if attempt == 1 and reused:
                    if stats.counts(started):
                        stats.resent[kind] += 1
                    continue
                if stats.counts(started):
                    stats.errors[f"{kind} {type(exc).__name__}"] += 1
                raise SyncFailedError(str(exc)) from exc
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                if stats.counts(started):
                    stats.errors[f"{kind} {type(exc).__name__}"] += 1
                raise SyncFailedError(str(exc)) from exc
        self.idle_since = time.perf_counter()
        if stats.counts(started):
            stats.latency[kind].append(time.perf_counter() - started)
        if status != 200:
            if stats.counts(started):
                stats.errors[f"{kind} {status}"] += 1
            raise SyncFailedError(f"{kind} {status}: {data[:200]!r}")
        answer = json.loads(data)
        if kind == "push" and stats.counts(started):
            stats.mutations += len(answer["results"])
        return answer

    def save(self) -> None:
        count = self.rng.choices(SIZES, SIZE_WEIGHTS)[0]
        for _ in range(count):
            entity, record_id, op, fields = next(self.steps)
            base = self.versions.get(record_id, 0) if op == "update" else 0
            self.outbox.append(
                {"seq": self.next_seq, "entity": entity, "record_id": record_id, "op": op, "base_version": base,
                 "fields": fields}
            )  # fmt: skip
            self.next_seq += 1

    async def sync(self, stats: Stats) -> None:
        """syncRun: push the outbox (500 at a time), then pull until has_more is false."""
        while self.outbox:
            batch = self.outbox[:500]
            body = json.dumps({"device_id": self.id, "mutations": batch}).encode()
            answer = await self.call(stats, "push", "POST", "/api/sync/push", body)
            by_seq = {r["seq"]: r for r in answer["results"]}
            for mutation in batch:
                result = by_seq[mutation["seq"]]
                status = result["status"]
                if status == "gap":
                    raise RuntimeError(f"{self.id}: gap at {mutation['seq']}: {result}")
                if status == "duplicate":
                    status = result.get("original_status", "applied")
                stats.statuses[status] += 1
                self.acked[mutation["seq"]] = (mutation["entity"], mutation["record_id"], mutation["op"], status)
                if status == "applied" and result.get("version"):
                    self.versions[mutation["record_id"]] = result["version"]
            self.outbox = self.outbox[len(batch) :]
        first = True
        while True:
            query = f"cursor={self.cursor}&limit=1000&count={int(first)}&device_id={self.id}"
            page = await self.call(stats, "pull", "GET", f"/api/sync/pull?{query}")
            if page["reset"]:
                raise RuntimeError(f"{self.id}: unexpected reset")
            self.received.update(c["record_id"] for c in page["changes"] if c["entity"] != "conflict")
            self.cursor, first = page["cursor"], False
            if not page["has_more"]:
                return

    def first_save(self) -> float:
        """The wait for the first save, as if the person had been at work for a while (the residual of a
        think time: density proportional to P(think > x)), so the level is in its steady state at once."""
        low, high = THINK
        while True:
            x = self.rng.uniform(0, high)
            if x <= low or self.rng.random() < (high - x) / (high - low):
                return x

    async def sync_with_retries(self, stats: Stats) -> None:
        delay = 2.0
        while True:
            try:
                return await self.sync(stats)
            except SyncFailedError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    async def run(self, stats: Stats, until: float) -> None:
        """The app's rhythm until `until` (loop time): saves, a sync after each, one every 30 s."""
        loop = asyncio.get_running_loop()
        self.wanted = asyncio.Event()

        async def person() -> None:
            await asyncio.sleep(self.first_save())
            while loop.time() < until:
                self.save()
                await asyncio.sleep(SYNC_DELAY)
                self.wanted.set()
                await asyncio.sleep(self.rng.uniform(*THINK))

        async def timer() -> None:
            await asyncio.sleep(self.rng.uniform(0, PULL_EVERY))
            while loop.time() < until:
                self.wanted.set()
                await asyncio.sleep(PULL_EVERY)

        tasks = [asyncio.create_task(person()), asyncio.create_task(timer())]
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wanted.wait(), timeout=max(0.01, until - loop.time()))
                if loop.time() >= until:
                    return
                self.wanted.clear()
                await self.sync_with_retries(stats)
        finally:
            for task in tasks:
                task.cancel()


# --- the run ---------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"{cuts[49] * 1000:6.0f} {cuts[94] * 1000:6.0f} {cuts[98] * 1000:6.0f}"


async def loop_lag(until: float, lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        before = loop.time()
        await asyncio.sleep(0.1)
        lags.append(loop.time() - before - 0.1)


async def database_cpu(until: float, seen: dict[int, list[float]]) -> None:
    """Each backend's CPU, sampled every second (the app's connections are replaced every CONN_MAX_AGE):
    pid -> [first sample, last sample]; a backend new during the level starts from 0."""
    loop = asyncio.get_running_loop()
    first = True
    while True:
        for pid, seconds in (await asyncio.to_thread(backend_cpu)).items():
            seen.setdefault(pid, [0.0 if not first else seconds, seconds])[1] = seconds
        first = False
        if loop.time() >= until:
            return
        await asyncio.sleep(1)


async def drive(devices: list[Device], server: subprocess.Popen) -> None:
    loop = asyncio.get_running_loop()
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    for device in devices:  # one browser per device: its own connection and cookies
        connector = aiohttp.TCPConnector(limit=1, force_close=False)
        device.http = aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar())
    setup = Stats(end=0)
    first = devices[0]
    signed = HttpSession(port=first.port, host=f"{first.clinic}.localhost")
    await asyncio.to_thread(signed.sign_in, first.email, BENCH_PASSWORD)
    first.cookies = dict(signed.cookies)
    rows = [{"schema": d.schema, "email": d.email} for d in devices[1:]]
    real = {"schema": first.schema, "email": first.email, "cookies": first.cookies}
    keys, written = await asyncio.to_thread(sessions_like, real, rows)
    for device, row in zip(devices[1:], rows, strict=True):
        device.cookies = row["cookies"]
    assert keys == written, (keys, written)
    print(f"Sessions: 1 through the sign-in form, {len(rows)} written directly with the same keys ({sorted(keys)})")
    probe = next(d for d in reversed(devices) if d.role == "doctor")
    await asyncio.to_thread(queries_per_request, probe.schema, probe.clinic, probe.cookies)
    gate = asyncio.Semaphore(16)

    async def start(device: Device) -> None:
        async with gate:  # the app's start: who am I (the CSRF token), then the first download
            me = await device.call(setup, "me", "GET", "/api/me/")
            device.csrf = me["csrf_token"]
            assert me["role"] == device.role, me
            device.steps = work(device.rng, device.role)
            await device.sync(setup)

    started = time.perf_counter()
    await asyncio.gather(*(start(d) for d in devices))
    print(f"{len(devices)} devices started (me + first download) in {time.perf_counter() - started:.1f} s")
    print(
        f"Think time {THINK[0]:.0f}-{THINK[1]:.0f} s between saves per device (1-20 mutations each, mean 5.6); "
        f"a sync 0.3 s after each save and every {PULL_EVERY:.0f} s; {SECONDS:.0f} s per level."
    )
    print(
        "devices | push p50 p95 p99 ms | pull p50 p95 p99 ms | pushes pulls | errors | mutations/s "
        "| CPU % client app postgres machine"
    )
    app_pids = process_tree(server.pid)
    for level in LEVELS:
        active = devices[:level]
        stats = Stats()
        t0 = loop.time()
        until = t0 + SECONDS
        stats.start, stats.end = time.perf_counter(), time.perf_counter() + SECONDS
        backends: dict[int, list[float]] = {}
        cpu = (time.process_time(), cpu_seconds(app_pids), machine_busy())
        lags: list[float] = []
        await asyncio.gather(
            loop_lag(until, lags), database_cpu(until, backends), *(d.run(stats, until) for d in active)
        )
        elapsed = time.perf_counter() - stats.start
        client = (time.process_time() - cpu[0]) / elapsed * 100
        app_cpu = (cpu_seconds(app_pids) - cpu[1]) / elapsed * 100
        pg_cpu = sum(last - first for first, last in backends.values()) / elapsed * 100
        busy, total = machine_busy()
        machine = (busy - cpu[2][0]) / max(1, total - cpu[2][1]) * 100 * os.cpu_count()
        pushes, pulls = stats.latency["push"], stats.latency["pull"]
        errors = sum(stats.errors.values())
        print(
            f"{level:7d} | {percentiles(pushes):>19} | {percentiles(pulls):>19} | {len(pushes):6d} {len(pulls):5d} "
            f"| {errors:6d} | {stats.mutations / SECONDS:11.1f} "
            f"| {client:12.0f} {app_cpu:3.0f} {pg_cpu:8.0f} {machine:7.0f}"
            f"   (loop lag p99 {statistics.quantiles(lags, n=100)[98] * 1000:.0f} ms; elapsed {elapsed:.0f} s)",
            flush=True,
        )
        if stats.errors:
            print(f"        errors: {dict(stats.errors)}")
        if stats.resent:
            print(f"        resent at once after the server closed a kept-alive connection: {dict(stats.resent)}")
        odd = {k: v for k, v in stats.statuses.items() if k not in ("applied", "merged")}
        if odd:
            print(f"        mutations not applied: {odd}")
    final = Stats(end=0)
    # Everything saved is sent; then every device pulls again, after the last device's push.
    await asyncio.gather(*(d.sync_with_retries(final) for d in devices))
    await asyncio.gather(*(d.sync_with_retries(final) for d in devices))
    for device in devices:
        await device.http.close()


def check_nothing_lost(devices: list[Device]) -> None:
    """Every acknowledged mutation in its clinic's schema exactly once; every device pulled it all."""
    from django.db.models import Count
    from django_tenants.utils import schema_context

    from records.models import ChartAccess, Revision
    from sync.models import Change
    from sync.models import Device as DeviceRow

    problems: list[str] = []
    acked_total = 0
    by_clinic: dict[str, list[Device]] = defaultdict(list)
    for device in devices:
        by_clinic[device.schema].append(device)
    for schema, members in by_clinic.items():
        with schema_context(schema):
            created: dict[str, str] = {}
            for device in members:
                want_revisions: Counter = Counter()
                want_charts = 0
                for entity, record_id, op, status in device.acked.values():
                    acked_total += 1
                    if status not in ("applied", "merged"):
                        problems.append(f"{device.id} {entity} {op}: {status}")
                    elif entity == "chart":
                        want_charts += 1
                    else:
                        want_revisions[(entity, record_id)] += 1
                        if op == "create":
                            created[record_id] = entity
                rows = Revision.objects.filter(device_id=device.id).values_list("entity", "record_id")
                have = Counter((entity, str(record_id)) for entity, record_id in rows)
                if have != want_revisions:
                    diff = (want_revisions - have) + (have - want_revisions)
                    problems.append(f"{device.id}: revisions differ from acknowledgements: {dict(diff)}")
                charts = ChartAccess.objects.filter(device_id=device.id).count()
                if charts != want_charts:
                    problems.append(f"{device.id}: {charts} chart openings stored, {want_charts} acknowledged")
                last_seq = DeviceRow.objects.get(pk=device.id).last_seq
                if last_seq != max(device.acked, default=0) or device.outbox:
                    problems.append(f"{device.id}: last_seq {last_seq}, acknowledged up to {max(device.acked)}")
            logged = Change.objects.filter(record_id__in=list(created)).values("record_id").annotate(n=Count("id"))
            if len(logged) != len(created) or any(row["n"] != 1 for row in logged):
                problems.append(f"{schema}: {len(created)} records created, {len(logged)} in the change log")
            for device in members:
                readable = {r for r, e in created.items() if device.role in CLINICAL or e in ("patient", "visit")}
                if readable - device.received:
                    problems.append(f"{device.id}: {len(readable - device.received)} records never pulled")
    print(f"Nothing lost: {acked_total} acknowledged mutations checked in {len(by_clinic)} clinic schemas, ", end="")
    print("all there exactly once, every device pulled all it may read" if not problems else "PROBLEMS:")
    for problem in problems[:20]:
        print(f"  {problem}")
    if problems:
        raise SystemExit(1)


def main() -> None:
    with scratch_database("load"):
        run()


def run() -> None:
    from django.db import connection

    started = time.perf_counter()
    rows = provision()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SHOW max_connections")
        max_connections = cursor.fetchone()[0]
    print(
        f"Load benchmark, {os.cpu_count()} cores: {CLINICS} clinics x {PER_CLINIC} devices provisioned in "
        f"{time.perf_counter() - started:.1f} s; PostgreSQL max_connections {max_connections}"
    )
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / "load-bench-gunicorn.log"
    print(f"Server: {procfile_web()} (WEB_CONCURRENCY={os.environ.get('WEB_CONCURRENCY', 'unset')}); log {log_path}")
    devices = [Device(**row, port=port, rng=random.Random(index)) for index, row in enumerate(rows)]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 4096), hard), hard))
    with app_server(port, log_path) as server:
        asyncio.run(drive(devices, server))
    check_nothing_lost(devices)


if __name__ == "__main__":
    main()
