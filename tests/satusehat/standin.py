"""A stand-in for SATUSEHAT: a real HTTP server on 127.0.0.1 that answers as SATUSEHAT's published API
does, so the client, the sender and the worker are tested over real sockets.

It hands out bearer tokens for known client credentials (`/oauth2/v1/accesstoken`), keeps FHIR
resources in memory (`/fhir-r4/v1/<Type>`), validates every resource with the `fhir.resources.R4B`
models, refuses a second create of an identifier it already holds (as SATUSEHAT does), answers
searches by identifier and by NIK, and records every request. A test commands faults with
`fail_next(path_regex, kind, times)`: "500", "429" (Retry-After: 1), "422" (an OperationOutcome
refusal with the `message` given), "timeout" (answers after the client gave up, without doing
anything), "lost" (does the work, then drops the connection unanswered), "expire_token" (the current
tokens expire, then the request is handled: a 401), and "hang" (does the work, then holds the answer
until `release()`, for a worker killed mid-send); `chaos(rate, kinds, seed)` sends random ones.

The `satusehat_standin` fixture starts one per test and points both SATUSEHAT environments at it;
`connect(clinic, standin)` stores the clinic's connection through `satusehat.connection`.
"""

import contextlib
import io
import json
import random
import re
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pydantic
import pytest
from django_tenants.utils import schema_context
from fhir.resources.R4B import get_fhir_model_class

from tenants.accounts.models import Role, User
from tests.conftest import ClinicFixture

AUTH_PATH = "/oauth2/v1"
FHIR_PATH = "/fhir-r4/v1"
CLIENT_ID = "kVu9Xq2Lw8HnT3bYc1RfPz7AsD4gEjMk"
CLIENT_SECRET = "s3cr3t-Zq8wN2xV5bL9mK4jH7gF1dS6aP0oI3uY"
ORGANIZATION_ID = "100026489"
LOCATION_ID = "ef011065-38c9-46f8-9c35-d1fe68966a3e"
LOCATION_NAME = "Poli Umum, Lantai 1"
FAULT_KINDS = ("500", "429", "422", "timeout", "lost", "expire_token", "hang")
SEARCHABLE = {"Patient", "Practitioner"}


@dataclass
class Request:
    method: str
    path: str  # below the FHIR or auth base, e.g. "/Encounter" or "/Encounter/<id>"
    query: dict[str, str]
    body: Any  # parsed JSON, the form dict for the token, or None
    status: int | None = None  # None: no answer was given (a fault)
    fault: str = ""
    at: float = field(default_factory=time.monotonic)

    @property
    def resource_type(self) -> str:
        return self.path.strip("/").split("/")[0]


@dataclass
class Fault:
    pattern: re.Pattern
    kind: str
    times: int
    method: str | None
    message: str = ""


class StandIn:
    """The server's state and the test's controls (thread-safe: the server answers in threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clients = {CLIENT_ID: CLIENT_SECRET}
        self.tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self.token_seconds = 14399
        self.resources: dict[str, dict[str, dict]] = {}  # type -> id -> resource
        self.identifiers: dict[tuple[str, str, str], str] = {}  # (type, system, value) -> id
        self.niks: dict[tuple[str, str], str] = {}  # (kind, nik) -> IHS number
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.timeout_sleep = 2.0
        self.chaos_rate = 0.0
        self.chaos_kinds: list[str] = []
        self.chaos_random = random.Random(0)
        self.hanging = threading.Event()  # set while a request hangs
        self.release_event = threading.Event()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # --- the test's controls ---------------------------------------------------------------------
    @property
    def base(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def urls(self) -> dict[str, str]:
        return {"auth": self.base + AUTH_PATH, "fhir": self.base + FHIR_PATH}

    def fail_next(
        self, path_regex: str, kind: str, times: int = 1, method: str | None = None, message: str = ""
    ) -> None:
        """The next `times` requests whose path (below the base) matches meet fault `kind`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}")
        with self.lock:
            self.faults.append(Fault(re.compile(path_regex), kind, times, method, message))

    def chaos(self, rate: float, kinds: list[str], seed: int) -> None:
        """From now on each request (not taken by `fail_next`) meets one of these faults with
        probability `rate`, drawn from a seeded generator."""
        with self.lock:
            self.chaos_rate, self.chaos_kinds, self.chaos_random = rate, list(kinds), random.Random(seed)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
            self.chaos_rate = 0.0

    def release(self) -> None:
        """Let a hanging request go on (it then fails, as a connection cut by a dying worker would)."""
        self.release_event.set()

    def know(self, kind: str, nik: str, ihs_number: str) -> None:
        """SATUSEHAT knows this NIK (kind "Patient" or "Practitioner") by this IHS number."""
        with self.lock:
            self.niks[(kind, nik)] = ihs_number

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    def made(self, method: str | None = None, resource_type: str | None = None) -> list[Request]:
        """The FHIR requests answered with success, in order (optionally one method or type)."""
        with self.lock:
            done = [r for r in self.requests if r.status is not None and r.status < 300 and r.path != "/accesstoken"]
        return [
            r
            for r in done
            if (method is None or r.method == method) and (resource_type is None or r.resource_type == resource_type)
        ]

    def token_requests(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == "/accesstoken"]

    def stored(self, resource_type: str) -> list[dict]:
        with self.lock:
            return list(self.resources.get(resource_type, {}).values())

    def by_identifier(self, resource_type: str, value: str) -> list[dict]:
        """The stored resources of this type with an identifier of this value (any system)."""
        return [
            resource
            for resource in self.stored(resource_type)
            if any(ident.get("value") == value for ident in resource.get("identifier", []))
        ]

    def start(self) -> "StandIn":
        standin = self

        class Handler(_Handler):
            state = standin

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="satusehat-standin", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release_event.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # --- used by the handler ---------------------------------------------------------------------
    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.pattern.search(path) and fault.method in (None, method):
                    fault.times -= 1
                    return fault
            if self.chaos_rate and self.chaos_random.random() < self.chaos_rate:
                return Fault(re.compile(""), self.chaos_random.choice(self.chaos_kinds), 0, None)
        return None

    def record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def token_valid(self, header: str) -> bool:
        token = header.removeprefix("Bearer ").strip()
        with self.lock:
            return self.tokens.get(token, 0.0) > time.monotonic()


def unique_system(system: str) -> bool:
    """Whether an identifier of this system names one resource. A prescription's number is shared by
    its items (each has its own prescription-item identifier), as in SATUSEHAT's examples."""
    return "/prescription/" not in system


def outcome(text: str, code: str = "invalid") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "details": {"text": text}, "diagnostics": text}],
    }


class _Handler(BaseHTTPRequestHandler):
    state: StandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this each answer waits on a delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    # --- plumbing -----------------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if parts.path.startswith(AUTH_PATH):
            path = parts.path[len(AUTH_PATH) :]
            body: Any = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
        elif parts.path.startswith(FHIR_PATH):
            path = parts.path[len(FHIR_PATH) :]
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
        else:
            self._send(404, outcome("Not found", "not-found"))
            return
        request = Request(method, path, query, body)
        self.state.record(request)
        taken = self.state.take_fault(method, path)
        fault = taken.kind if taken else ""
        request.fault = fault
        if fault == "500":
            self._reply(request, 500, outcome("Internal server error", "exception"))
        elif fault == "429":
            self._reply(request, 429, outcome("Too many requests", "throttled"), {"Retry-After": "1"})
        elif fault == "422":
            self._reply(request, 422, outcome(taken.message or "Unprocessable entity", "business-rule"))
        elif fault == "timeout":
            time.sleep(self.state.timeout_sleep)
            self._drop()
        else:
            if fault == "expire_token":
                self.state.expire_tokens()
            status, answer, headers = self._route(method, path, query, body)
            if fault in ("lost", "hang"):
                request.status = status  # done, but the answer never arrives
                if fault == "hang":
                    self.state.hanging.set()
                    self.state.release_event.wait(120)
                self._drop()
            else:
                self._reply(request, status, answer, headers)

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, dict, dict]:
        if self.command == "POST" and path == "/accesstoken":
            return self._token(query, body)
        if not self.state.token_valid(self.headers.get("Authorization", "")):
            return 401, {"fault": {"faultstring": "Invalid access token", "detail": {"errorcode": "invalid_token"}}}, {}
        segments = path.strip("/").split("/")
        resource_type = segments[0]
        try:
            get_fhir_model_class(resource_type)
        except (KeyError, ValueError):
            return 404, outcome(f"Unknown resource type {resource_type}", "not-supported"), {}
        if method == "GET" and len(segments) == 1:
            return 200, self._search(resource_type, query), {}
        if method == "GET" and len(segments) == 2:
            with self.state.lock:
                found = self.state.resources.get(resource_type, {}).get(segments[1])
            return (200, found, {}) if found else (404, outcome("Resource not found", "not-found"), {})
        if method == "POST" and len(segments) == 1:
            return self._create(resource_type, body)
        if method == "PUT" and len(segments) == 2:
            return self._update(resource_type, segments[1], body)
        return 405, outcome("Method not allowed", "not-supported"), {}

    def _token(self, query: dict[str, str], form: dict[str, str]) -> tuple[int, dict, dict]:
        if query.get("grant_type") != "client_credentials":
            return 400, {"error": "invalid_request", "error_description": "grant_type"}, {}
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id or self.state.clients.get(client_id) != secret:
            return 401, {"fault": {"faultstring": "Invalid client identifier", "detail": {"errorcode": "invalid"}}}, {}
        token = secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.tokens[token] = time.monotonic() + self.state.token_seconds
        answer = {
            "refresh_token_expires_in": "0",
            "api_product_list": "[api-satusehat-stg]",
            "organization_name": "ihs-prod-1",
            "developer.email": "klinik@example.id",
            "token_type": "BearerToken",
            "issued_at": str(int(time.time() * 1000)),
            "client_id": client_id,
            "access_token": token,
            "application_name": "klinik-app",
            "scope": "",
            "expires_in": str(self.state.token_seconds),
            "refresh_count": "0",
            "status": "approved",
        }
        return 200, answer, {}

    def _search(self, resource_type: str, query: dict[str, str]) -> dict:
        system, _, value = query.get("identifier", "").rpartition("|")
        found: list[dict] = []
        with self.state.lock:
            if resource_type in SEARCHABLE and system == "https://fhir.kemkes.go.id/id/nik":
                number = self.state.niks.get((resource_type, value))
                if number:
                    found = [
                        {
                            "resourceType": resource_type,
                            "id": number,
                            "identifier": [{"system": system, "value": value}],
                        }
                    ]
            else:
                remote_id = self.state.identifiers.get((resource_type, system, value))
                if remote_id:
                    found = [self.state.resources[resource_type][remote_id]]
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [
                {"fullUrl": f"{self.state.base}{FHIR_PATH}/{resource_type}/{r['id']}", "resource": r} for r in found
            ],
        }

    def _invalid(self, resource_type: str, body: Any) -> str:
        if not isinstance(body, dict) or body.get("resourceType") != resource_type:
            return f"The body is not a {resource_type} resource."
        try:
            get_fhir_model_class(resource_type).model_validate(body)
        except (pydantic.ValidationError, ValueError, TypeError) as exc:  # its text says what is wrong
            return f"Invalid {resource_type}: {str(exc)[:800]}"
        return ""

    def _create(self, resource_type: str, body: Any) -> tuple[int, dict, dict]:
        problem = self._invalid(resource_type, body)
        if problem:
            return 400, outcome(problem), {}
        if "id" in body:
            return 400, outcome("A resource to create has no id."), {}
        keys = [(resource_type, i.get("system", ""), i.get("value", "")) for i in body.get("identifier", [])]
        keys = [key for key in keys if unique_system(key[1])]
        with self.state.lock:
            for key in keys:
                if key in self.state.identifiers:
                    return (
                        400,
                        outcome(f"duplicate: {resource_type} with identifier {key[2]} already exists", "duplicate"),
                        {},
                    )
            remote_id = str(uuid.uuid4())
            stored = {**body, "id": remote_id, "meta": {"versionId": "1", "lastUpdated": _now()}}
            self.state.resources.setdefault(resource_type, {})[remote_id] = stored
            for key in keys:
                self.state.identifiers[key] = remote_id
        return 201, stored, {"Location": f"{FHIR_PATH}/{resource_type}/{remote_id}/_history/1"}

    def _update(self, resource_type: str, remote_id: str, body: Any) -> tuple[int, dict, dict]:
        problem = self._invalid(resource_type, body)
        if problem:
            return 400, outcome(problem), {}
        if body.get("id") != remote_id:
            return 400, outcome("The resource's id differs from the id in the address."), {}
        with self.state.lock:
            existing = self.state.resources.get(resource_type, {}).get(remote_id)
            if existing is None:
                return 404, outcome("Resource not found", "not-found"), {}
            for ident in body.get("identifier", []):
                key = (resource_type, ident.get("system", ""), ident.get("value", ""))
                if unique_system(key[1]) and self.state.identifiers.get(key, remote_id) != remote_id:
                    return (
                        400,
                        outcome(f"duplicate: identifier {key[2]} belongs to another {resource_type}", "duplicate"),
                        {},
                    )
            version = str(int(existing["meta"]["versionId"]) + 1)
            stored = {**body, "meta": {"versionId": version, "lastUpdated": _now()}}
            self.state.resources[resource_type][remote_id] = stored
            for ident in body.get("identifier", []):
                if unique_system(ident.get("system", "")):
                    self.state.identifiers[(resource_type, ident.get("system", ""), ident.get("value", ""))] = remote_id
        return 200, stored, {}

    def _reply(self, request: Request, status: int, body: dict, headers: dict | None = None) -> None:
        request.status = status
        self._send(status, body, headers)

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        """Close the connection with no answer at all."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(2)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def connect(clinic: ClinicFixture, standin: StandIn | None = None, *, environment: str = "sandbox", **overrides: str):
    """Store the clinic's SATUSEHAT connection, as its owner would on the settings page."""
    from satusehat.connection import save_connection

    values = {
        "organization_id": ORGANIZATION_ID,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "location_id": LOCATION_ID,
        "location_name": LOCATION_NAME,
        **overrides,
    }
    with schema_context(clinic.clinic.schema_name):
        owner = User.objects.get(email=clinic.email(Role.OWNER))
        return save_connection(owner, environment, **values)


@pytest.fixture
def satusehat_standin(settings) -> Iterator[StandIn]:
    """A running stand-in; both SATUSEHAT environments point at it, with a short client timeout and
    no waiting between retries."""
    standin = StandIn().start()
    settings.SATUSEHAT_URLS = {"sandbox": standin.urls, "production": standin.urls}
    settings.SATUSEHAT_TIMEOUT_SECONDS = 1
    settings.SATUSEHAT_BACKOFF_SECONDS = 0
    standin.timeout_sleep = 1.5
    try:
        yield standin
    finally:
        standin.stop()


# --- getting a clinic ready, and running its worker ------------------------------------------------

# SATUSEHAT's numbers for the people of `tests.satusehat.factories`.
PATIENT_NIK = "3174015708900003"  # Siti Rahmawati
PATIENT_IHS = "P02478375538"
PRACTITIONER_NIK = "3174011203800002"  # the clinic's doctor
PRACTITIONER_IHS = "10009880728"
KFA = {
    "Oralit 200 ml": ("93001428", "Oralit 200 ml Serbuk untuk Larutan Oral (Sachet)"),
    "Paracetamol 500 mg": ("93000135", "Paracetamol 500 mg Tablet"),
}


def prepare(clinic: ClinicFixture, standin: StandIn) -> None:
    """The clinic connected, SATUSEHAT knowing Siti Rahmawati and the doctor, the drugs mapped to KFA."""
    from satusehat.fhir import drug_key
    from satusehat.models import KfaCode

    connect(clinic, standin)
    standin.know("Patient", PATIENT_NIK, PATIENT_IHS)
    standin.know("Practitioner", PRACTITIONER_NIK, PRACTITIONER_IHS)
    with schema_context(clinic.clinic.schema_name):
        owner = User.objects.get(email=clinic.email(Role.OWNER))
        for drug, (code, display) in KFA.items():
            KfaCode.objects.update_or_create(
                drug=drug_key(drug), defaults={"code": code, "display": display, "updated_by": owner}
            )


def run_worker(clinic: ClinicFixture, *, until_seconds: float = 60.0) -> None:
    """Run the clinic's worker in this process (`run_worker --batch`) until no send is queued, waiting
    for tasks due later (a Retry-After). The test's transaction stays open, so the library worker's
    check for stale connections is turned off while it runs (it would close the test's connection)."""
    import signal

    from django.core.management import call_command
    from django_tasks_db.management.commands import db_worker

    from satusehat.models import VisitSend

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    original = db_worker.close_old_connections
    db_worker.close_old_connections = lambda: None
    deadline = time.monotonic() + until_seconds
    try:
        while True:
            call_command(
                "run_worker", batch=True, clinic=clinic.subdomain, interval=0, sweep_seconds=0, stdout=io.StringIO()
            )
            with schema_context(clinic.clinic.schema_name):
                if not VisitSend.objects.filter(state=VisitSend.State.QUEUED).exists():
                    return
            if time.monotonic() > deadline:
                raise AssertionError("sends still queued after the worker ran for a minute")
            time.sleep(0.2)
    finally:
        db_worker.close_old_connections = original
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
