"""Schemathesis over the OpenAPI schema: every REST and sync operation, signed in as the owner and as front
desk at clinic alpha, answers no 5xx and nothing the schema does not describe (status code, content type,
body, headers); and the replies generated requests cannot reach (413, 503, 409, a failed CSRF check...)
are checked against the schema one by one.

The schema is what /api/schema/ serves, made in-process by drf-spectacular's generator for the clinic
URLconf (what `spectacular --urlconf config.urls_tenant` writes: fetching it would need the database at
collection time, when the tests are made). The app runs in-process inside each test's transaction:
Django's test handler behind a few lines of WSGI (Django's WSGIHandler would close the test's connection
after each request), with CSRF checks enforced as a browser meets them, so every request carries the
session cookie and the X-CSRFToken header that /api/me/ hands the app. Bounded: a fixed seed,
derandomized, a few examples per operation, no shrinking (a failure shows the request as generated).
"""

import contextlib
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
import schemathesis
import werkzeug
from django.conf import settings as django_settings
from django.db import OperationalError
from django.http import HttpResponse
from django.test.client import ClientHandler
from django.utils import timezone
from django_tenants.utils import schema_context
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from records import services
from sync import services as sync_services
from tenants.accounts.models import Role
from tenants.models import Clinic
from tests.conftest import ClinicFixture, login
from tests.records.conftest import actor

pytestmark = pytest.mark.django_db

SEED = 20_240_612
MAX_EXAMPLES = 25
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
# One record of each kind under a fixed id, so that generated paths also reach real records.
KNOWN = {
    "patient": uuid.UUID("00000000-0000-4000-8000-000000000001"),
    "visit": uuid.UUID("00000000-0000-4000-8000-000000000002"),
    "vitals": uuid.UUID("00000000-0000-4000-8000-000000000003"),
    "diagnosis": uuid.UUID("00000000-0000-4000-8000-000000000004"),
    "prescription": uuid.UUID("00000000-0000-4000-8000-000000000005"),
}
KIND_OF_PATH = {"patients": "patient", "visits": "visit", "vitals": "vitals", "diagnoses": "diagnosis"}
KIND_OF_PATH["prescriptions"] = "prescription"
KNOWN_DEVICE, REVOKED_DEVICE = "known-device-01", "revoked-device-01"

_handler = ClientHandler(enforce_csrf_checks=True)


def clinic_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The project as a WSGI app, through Django's test handler (the test's connection stays open)."""
    response: HttpResponse = _handler(environ)
    headers = [*response.items(), *(("Set-Cookie", cookie.output(header="")) for cookie in response.cookies.values())]
    start_response(f"{response.status_code} {response.reason_phrase}", headers)
    return response


def clinic_schema() -> dict[str, Any]:
    generated = SchemaGenerator(urlconf="config.urls_tenant").get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


def config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": False},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )


schema = schemathesis.openapi.from_dict(clinic_schema(), config=config())
schema.app = clinic_app


@schema.hook
def before_generate_path_parameters(context: Any, strategy: st.SearchStrategy) -> st.SearchStrategy:
    """About half the ids in paths are a known record or device, the rest whatever the schema allows."""
    path = context.operation.path
    if "{record_id}" in path:
        known = {"record_id": str(KNOWN[KIND_OF_PATH[path.split("/")[2]]])}
    elif "{device_id}" in path:
        known = {"device_id": KNOWN_DEVICE}
    else:
        return strategy
    return st.one_of(st.just(known), strategy)


def make_known_records(clinic: ClinicFixture) -> None:
    now = timezone.now().isoformat()
    with schema_context(clinic.clinic.schema_name):
        doctor = actor(clinic, Role.DOCTOR)
        patient = {"full_name": "Siti Aminah", "birth_date": "1987-03-02", "sex": "F"}
        visit = {"patient": str(KNOWN["patient"]), "started_at": now}
        parts = {
            "vitals": {"measured_at": now, "pulse": 80, "systolic": 120, "diastolic": 80},
            "diagnosis": {"code": "J06.9"},
            "prescription": {"drug": "Paracetamol 500 mg", "dose": "500 mg", "frequency": "3x sehari"},
        }
        for kind, data in (("patient", patient), ("visit", visit)):
            services.record_create(entity=kind, actor=doctor, data=data, record_id=KNOWN[kind])
        for kind, data in parts.items():
            data = {"visit": str(KNOWN["visit"]), **data}
            services.record_create(entity=kind, actor=doctor, data=data, record_id=KNOWN[kind])
        for device_id in (KNOWN_DEVICE, REVOKED_DEVICE):
            device = sync_services.device_for(device_id=device_id, user=doctor.user, user_agent="Test")
        sync_services.device_revoke(device=device)


@dataclass(frozen=True)
class Browser:
    """A person signed in through the real sign-in form: their cookies, as a browser holds them for the
    clinic's host, and the headers the app sends with each request."""

    client: werkzeug.Client
    headers: dict[str, str]


def sign_in(clinic: ClinicFixture, role: str) -> Browser:
    signed_in = login(clinic.host, clinic.email(role))
    token = signed_in.get("/api/me/").json()["csrf_token"]  # also sets the csrftoken cookie
    client = werkzeug.Client(clinic_app)
    for morsel in signed_in.cookies.values():
        client.set_cookie(morsel.key, morsel.value, domain=clinic.host)
    # Identity: werkzeug's client does not undo the API's gzip, as an HTTP client would.
    return Browser(client, {"X-CSRFToken": token, "Accept-Language": "en", "Accept-Encoding": "identity"})


@pytest.fixture(params=[Role.OWNER, Role.FRONT_DESK])
def browser(request, alpha) -> Browser:
    make_known_records(alpha)
    return sign_in(alpha, request.param)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_reply_is_in_the_schema(case, alpha, browser) -> None:
    case.call_and_validate(base_url=f"http://{alpha.host}", session=browser.client, headers=browser.headers)


# --- the replies generated requests do not reach ----------------------------------------------------------

TOO_LARGE = {"environ_overrides": {"CONTENT_LENGTH": str(django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}}
NOT_JSON = {"data": b'{"mutations": [', "headers": {"Content-Type": "application/json"}}
DATABASE_AWAY = OperationalError("could not connect to server")


@dataclass(frozen=True)
class Reply:
    method: str
    path: str
    status: int
    case: dict[str, Any]  # what the case holds (path_parameters, query, body)
    send: dict[str, Any]  # how it is sent beyond the case (a raw body, the request's environ)
    failing: str = ""  # a function that fails as the database does when it is away
    signed_in: bool = True
    csrf: bool = True
    suspended: bool = False  # the clinic suspended after signing in


REPLIES = {
    "a body over the limit (REST)": Reply("POST", "/api/patients/", 413, {"body": {}}, TOO_LARGE),
    "a body over the limit (sync)": Reply("POST", "/api/sync/push", 413, {"body": {}}, TOO_LARGE),
    "a batch over the limit": Reply(
        "POST",
        "/api/sync/push",
        413,
        {"body": {"device_id": KNOWN_DEVICE, "mutations": [{}] * (sync_services.MAX_BATCH + 1)}},
        {},
    ),
    "a body that is not JSON (REST)": Reply("POST", "/api/visits/", 400, {}, NOT_JSON),
    "a body that is not JSON (sync)": Reply("POST", "/api/sync/push", 400, {}, NOT_JSON),
    "a stale version": Reply(
        "PATCH",
        "/api/patients/{record_id}/",
        409,
        {"path_parameters": {"record_id": str(KNOWN["patient"])}, "body": {"phone": "0812", "version": 0}},
        {},
    ),
    "a client-made id taken": Reply(
        "POST",
        "/api/patients/",
        409,
        {"body": {"id": str(KNOWN["patient"]), "full_name": "Budi", "birth_date": "1990-01-01", "sex": "M"}},
        {},
    ),
    "the database away (REST)": Reply("GET", "/api/patients/", 503, {}, {}, failing="records.selectors.patient_search"),
    "the database away (sync)": Reply(
        "GET", "/api/sync/pull", 503, {"query": {"device_id": KNOWN_DEVICE}}, {}, failing="sync.selectors.pull"
    ),
    "not signed in (REST)": Reply("GET", "/api/patients/", 403, {}, {}, signed_in=False),
    "not signed in (sync)": Reply(
        "GET", "/api/sync/pull", 401, {"query": {"device_id": KNOWN_DEVICE}}, {}, signed_in=False
    ),
    "no CSRF token (sync)": Reply("POST", "/api/sync/push", 403, {"body": {}}, {}, csrf=False),
    "a revoked device": Reply("GET", "/api/sync/pull", 403, {"query": {"device_id": REVOKED_DEVICE}}, {}),
    "a suspended clinic (me)": Reply("GET", "/api/me/", 403, {}, {}, suspended=True),
    "a suspended clinic (REST)": Reply("GET", "/api/patients/", 403, {}, {}, suspended=True),
    "a suspended clinic (sync pull)": Reply(
        "GET", "/api/sync/pull", 403, {"query": {"device_id": KNOWN_DEVICE}}, {}, suspended=True
    ),
    "a suspended clinic (sync push)": Reply(
        "POST", "/api/sync/push", 403, {"body": {"device_id": KNOWN_DEVICE, "mutations": []}}, {}, suspended=True
    ),
}


@pytest.mark.parametrize("reply", REPLIES.values(), ids=REPLIES.keys())
def test_replies_out_of_the_generators_reach_are_in_the_schema(alpha, reply: Reply) -> None:
    make_known_records(alpha)
    browser = sign_in(alpha, Role.DOCTOR)
    if reply.suspended:
        Clinic.objects.filter(pk=alpha.clinic.pk).update(status=Clinic.Status.SUSPENDED)
    client = browser.client if reply.signed_in else werkzeug.Client(clinic_app)
    headers = {name: value for name, value in browser.headers.items() if reply.csrf or name != "X-CSRFToken"}
    case = schema[reply.path][reply.method].Case(**reply.case)
    failing = mock.patch(reply.failing, side_effect=DATABASE_AWAY) if reply.failing else contextlib.nullcontext()
    send = {**reply.send, "headers": {**headers, **reply.send.get("headers", {})}}
    with failing:
        response = case.call(base_url=f"http://{alpha.host}", session=client, **send)
    assert response.status_code == reply.status, response.text[:500]
    case.validate_response(response, excluded_checks=[not_a_server_error])
