"""The clinic's SATUSEHAT client secret stays secret: encrypted at rest, and never in a log line, an
exception, a repr, a Sentry event, or a page or API answer."""

import json
import logging

import pytest
import sentry_sdk
from django.utils import translation
from django_tenants.utils import schema_context

from satusehat import secrets
from satusehat.client import Client, NotConnected, Retryable
from satusehat.connection import connection, test_connection
from satusehat.models import Connection
from satusehat.sender import send_visit
from tenants.accounts.models import Role
from tests.conftest import login
from tests.satusehat import standin as standin_fixtures
from tests.satusehat.factories import make_finished_visit
from tests.satusehat.standin import CLIENT_SECRET, connect, prepare

pytestmark = pytest.mark.django_db
satusehat_standin = standin_fixtures.satusehat_standin  # the stand-in's fixture, used by name

WRONG_SECRET = "Xk9-salah-tapi-tetap-rahasia-7Qw2"


def _texts_of(exc: BaseException) -> str:
    """Everything an exception says, down its chain."""
    parts = []
    while exc is not None:
        parts += [str(exc), repr(exc), *(str(arg) for arg in exc.args)]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


def _log_text(caplog) -> str:
    return "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)


def test_a_failing_sign_in_never_shows_the_secret(alpha, satusehat_standin, caplog):
    standin = satusehat_standin
    connect(alpha, standin)
    caplog.set_level(logging.DEBUG)
    failures = []
    with schema_context(alpha.clinic.schema_name):
        for kind in ("500", "lost", "timeout"):
            standin.fail_next(r"^/accesstoken$", kind)
            client = Client.for_clinic()
            with pytest.raises(Retryable) as raised:
                client.token()
            failures.append(raised.value)
            assert CLIENT_SECRET not in repr(client)
        ok, _message = test_connection()
    assert ok is True  # the secret is right; only the attempts above failed
    # SATUSEHAT did receive the secret (in the form body, never the address).
    assert all(r.body["client_secret"] == CLIENT_SECRET for r in standin.token_requests())
    assert all(CLIENT_SECRET not in str(r.query) for r in standin.token_requests())
    for exc in failures:
        assert CLIENT_SECRET not in _texts_of(exc)
    assert caplog.records, "the client logs its calls"
    assert CLIENT_SECRET not in _log_text(caplog)


def test_a_wrong_secret_is_said_plainly_without_repeating_it(alpha, satusehat_standin, caplog):
    connect(alpha, satusehat_standin, client_secret=WRONG_SECRET)
    caplog.set_level(logging.DEBUG)
    with schema_context(alpha.clinic.schema_name), translation.override("en"):
        with pytest.raises(NotConnected) as raised:
            Client.for_clinic().token()
        ok, message = test_connection()
        row = connection()
    assert "refused the client ID or client secret" in raised.value.message
    assert WRONG_SECRET not in _texts_of(raised.value)
    assert ok is False
    assert WRONG_SECRET not in message
    assert WRONG_SECRET not in row.last_test_message
    assert WRONG_SECRET not in _log_text(caplog)


def test_the_secret_and_token_are_stored_encrypted(alpha, satusehat_standin):
    connect(alpha, satusehat_standin)
    with schema_context(alpha.clinic.schema_name):
        Client.for_clinic().token()
        row = Connection.objects.values().get()
        token = secrets.decrypt(row["token_encrypted"])
    stored = json.dumps(row, default=str)
    assert CLIENT_SECRET not in stored
    assert token
    assert token not in stored
    assert secrets.decrypt(row["client_secret_encrypted"]) == CLIENT_SECRET


def test_the_secret_is_not_in_the_owners_pages(alpha, satusehat_standin):
    connect(alpha, satusehat_standin)
    owner = login(alpha.host, alpha.email(Role.OWNER))
    for path in ("/satusehat/", "/satusehat/failures/", "/satusehat/api/visits/"):
        response = owner.get(path)
        assert response.status_code in (200, 400), (path, response.status_code)
        assert CLIENT_SECRET not in response.content.decode()
    owner.post("/satusehat/test/")
    page = owner.get("/satusehat/").content.decode()
    assert CLIENT_SECRET not in page


class _Captured(sentry_sdk.transport.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list = []

    def capture_envelope(self, envelope) -> None:
        self.envelopes.append(envelope)


def test_nothing_sent_to_sentry_holds_the_secret(alpha, satusehat_standin, caplog):
    """With the project's Sentry settings, a failed send and a failed sign-in report no secret."""
    from config.sentry import init_sentry

    standin = satusehat_standin
    prepare(alpha, standin)
    captured = _Captured()
    init_sentry("https://public@sentry.invalid/1", environment="test")
    sentry_sdk.get_client().transport = captured
    try:
        with schema_context(alpha.clinic.schema_name):
            standin.fail_next(r"^/accesstoken$", "500")
            try:
                Client.for_clinic().token(renew=True)
            except Retryable:
                sentry_sdk.capture_exception()
            made = make_finished_visit(alpha)
            standin.fail_next(r"^/Encounter$", "lost")
            send_visit(made.visit.pk)
            logging.getLogger("satusehat.client").error("SATUSEHAT is failing")  # an event from a log line
        sentry_sdk.flush()
    finally:
        sentry_sdk.init(dsn=None)
    payloads = "\n".join(item.get_bytes().decode(errors="replace") for e in captured.envelopes for item in e.items)
    assert "Retryable" in payloads
    assert CLIENT_SECRET not in payloads
