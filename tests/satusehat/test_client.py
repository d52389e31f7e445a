"""The SATUSEHAT client over real HTTP against the stand-in: the shared token, NIK lookups kept,
and each kind of trouble turned into the exception the sender acts on."""

import datetime
import time

import pytest
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from satusehat import secrets
from satusehat.client import Client, NotConnected, Refused, Retryable
from satusehat.connection import connection, save_connection, test_connection
from satusehat.fhir import SYSTEM_NIK, identifier_system
from satusehat.models import Connection, IhsNumber
from tenants.accounts.models import Role
from tests.satusehat import standin as standin_fixtures
from tests.satusehat.factories import staff
from tests.satusehat.standin import CLIENT_SECRET, ORGANIZATION_ID, connect

pytestmark = pytest.mark.django_db
satusehat_standin = standin_fixtures.satusehat_standin  # the stand-in's fixture, used by name


@pytest.fixture(autouse=True)
def _english():
    """The owner reads the test's outcome in the language they chose: English here."""
    with translation.override("en"):
        yield


NIK_SITI = "3174015708900003"
IHS_SITI = "P02478375538"


def _encounter(value: str) -> dict:
    return {
        "resourceType": "Encounter",
        "identifier": [{"system": identifier_system("encounter", ORGANIZATION_ID), "value": value}],
        "status": "arrived",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
        "subject": {"reference": f"Patient/{IHS_SITI}", "display": "Siti Rahmawati"},
        "period": {"start": "2026-03-02T02:30:00+00:00"},
        "statusHistory": [{"status": "arrived", "period": {"start": "2026-03-02T02:30:00+00:00"}}],
    }


def test_the_token_is_fetched_once_and_shared_through_the_database(alpha, satusehat_standin):
    standin = satusehat_standin
    standin.know("Patient", NIK_SITI, IHS_SITI)
    connect(alpha, standin)
    with schema_context(alpha.clinic.schema_name):
        first = Client.for_clinic()
        assert first.search_by_nik("Patient", NIK_SITI) == IHS_SITI
        assert first.find_by_identifier("Encounter", identifier_system("encounter", ORGANIZATION_ID), "x") is None
        # Another worker process: a new client, the same connection row.
        second = Client.for_clinic()
        second.find_by_identifier("Condition", identifier_system("condition", ORGANIZATION_ID), "y")
        row = Connection.objects.get()
    assert len(standin.token_requests()) == 1
    token = standin.token_requests()[0]
    assert token.query == {"grant_type": "client_credentials"}
    assert token.body["client_secret"] == CLIENT_SECRET
    # Kept encrypted: never the token or the secret in plain text.
    assert row.token_encrypted
    assert row.token_expires_at > timezone.now() + datetime.timedelta(hours=3)
    assert secrets.decrypt(row.token_encrypted)
    assert CLIENT_SECRET not in row.client_secret_encrypted
    assert secrets.decrypt(row.client_secret_encrypted) == CLIENT_SECRET


def test_a_token_about_to_expire_is_renewed(alpha, satusehat_standin):
    standin = satusehat_standin
    connect(alpha, standin)
    system = identifier_system("encounter", ORGANIZATION_ID)
    with schema_context(alpha.clinic.schema_name):
        Client.for_clinic().find_by_identifier("Encounter", system, "a")
        # SATUSEHAT's token lasts 14399 s; with 30 s left it is renewed before the call.
        Connection.objects.update(token_expires_at=timezone.now() + datetime.timedelta(seconds=30))
        Client.for_clinic().find_by_identifier("Encounter", system, "b")
        assert Connection.objects.get().token_expires_at > timezone.now() + datetime.timedelta(hours=3)
    assert len(standin.token_requests()) == 2


def test_a_token_satusehat_no_longer_takes_is_renewed_once_and_the_call_made_again(alpha, satusehat_standin):
    standin = satusehat_standin
    connect(alpha, standin)
    with schema_context(alpha.clinic.schema_name):
        client = Client.for_clinic()
        client.find_by_identifier("Encounter", identifier_system("encounter", ORGANIZATION_ID), "a")
        standin.fail_next(r"^/Encounter$", "expire_token", method="POST")
        remote_id = client.create("Encounter", _encounter("visit-1"))
    posts = [r for r in standin.requests if r.method == "POST" and r.path == "/Encounter"]
    assert [r.status for r in posts] == [401, 201]
    assert len(standin.token_requests()) == 2
    assert [r["id"] for r in standin.stored("Encounter")] == [remote_id]


def test_create_update_and_search_by_identifier(alpha, satusehat_standin):
    standin = satusehat_standin
    connect(alpha, standin)
    system = identifier_system("encounter", ORGANIZATION_ID)
    with schema_context(alpha.clinic.schema_name):
        client = Client.for_clinic()
        remote_id = client.create("Encounter", _encounter("visit-2"))
        assert client.find_by_identifier("Encounter", system, "visit-2") == remote_id
        client.update("Encounter", remote_id, {**_encounter("visit-2"), "status": "in-progress"})
    stored = standin.stored("Encounter")
    assert len(stored) == 1
    assert stored[0]["status"] == "in-progress"
    assert stored[0]["meta"]["versionId"] == "2"
    put = standin.made("PUT", "Encounter")[0]
    assert put.path == f"/Encounter/{remote_id}"
    assert put.body["id"] == remote_id


def test_a_refusal_carries_satusehats_own_words(alpha, satusehat_standin):
    standin = satusehat_standin
    connect(alpha, standin)
    with schema_context(alpha.clinic.schema_name):
        client = Client.for_clinic()
        client.create("Encounter", _encounter("visit-3"))
        with pytest.raises(Refused) as refused:
            client.create("Encounter", _encounter("visit-3"))
    assert refused.value.status == 400
    assert "duplicate: Encounter with identifier visit-3 already exists" in refused.value.message


def test_too_many_requests_is_retried_after_the_wait_satusehat_asks(alpha, satusehat_standin):
    standin = satusehat_standin
    connect(alpha, standin)
    standin.fail_next(r"^/Encounter$", "429")
    with schema_context(alpha.clinic.schema_name), pytest.raises(Retryable) as retry:
        Client.for_clinic().create("Encounter", _encounter("visit-4"))
    assert retry.value.retry_after == 1.0
    assert standin.stored("Encounter") == []


@pytest.mark.parametrize("kind", ["500", "timeout", "lost"])
def test_server_trouble_and_network_faults_are_retryable(alpha, satusehat_standin, kind):
    standin = satusehat_standin
    connect(alpha, standin)
    standin.fail_next(r"^/Encounter$", kind)
    started = time.monotonic()
    with schema_context(alpha.clinic.schema_name), pytest.raises(Retryable) as retry:
        Client.for_clinic().create("Encounter", _encounter("visit-5"))
    assert retry.value.retry_after is None
    if kind == "timeout":
        # The client gave up at its own timeout (1 s here), not when the server got round to it.
        assert 0.9 <= time.monotonic() - started < 1.5
    # A lost answer: SATUSEHAT made it; the sender finds it by identifier instead of making it twice.
    assert len(standin.stored("Encounter")) == (1 if kind == "lost" else 0)


def test_nik_lookups_are_kept_and_an_unknown_one_is_asked_again_after_a_day(alpha, satusehat_standin):
    standin = satusehat_standin
    connect(alpha, standin)
    unknown_nik = "3174016502950001"
    with schema_context(alpha.clinic.schema_name):
        client = Client.for_clinic()
        assert client.search_by_nik("Patient", unknown_nik) is None
        assert client.search_by_nik("Patient", unknown_nik) is None  # kept: not asked again today
        standin.know("Patient", unknown_nik, "P00912345678")
        IhsNumber.objects.filter(nik=unknown_nik).update(
            looked_up_at=timezone.now() - datetime.timedelta(days=1, minutes=1)
        )
        assert client.search_by_nik("Patient", unknown_nik) == "P00912345678"
        assert client.search_by_nik("Patient", unknown_nik) == "P00912345678"
    lookups = [r for r in standin.requests if r.path == "/Patient"]
    assert len(lookups) == 2
    assert lookups[0].query == {"identifier": f"{SYSTEM_NIK}|{unknown_nik}"}


def test_test_connection_says_plainly_when_the_secret_is_wrong(alpha, satusehat_standin):
    standin = satusehat_standin
    connect(alpha, standin, client_secret="bukan-secret-yang-benar")
    with schema_context(alpha.clinic.schema_name):
        ok, message = test_connection()
        row = connection()
    assert ok is False
    assert "refused the client ID or client secret" in message
    assert "bukan-secret-yang-benar" not in message
    assert row.last_test_ok is False
    assert row.last_test_message == message
    with schema_context(alpha.clinic.schema_name):
        connect(alpha, standin)
        ok, message = test_connection()
    assert ok is True
    assert "sign-in works" in message


def test_test_connection_when_satusehat_cannot_be_reached(alpha, satusehat_standin, settings):
    settings.SATUSEHAT_URLS = {
        key: {"auth": "http://127.0.0.1:9/oauth2/v1", "fhir": "http://127.0.0.1:9/fhir"}
        for key in ("sandbox", "production")
    }
    connect(alpha, satusehat_standin)
    with schema_context(alpha.clinic.schema_name):
        ok, message = test_connection()
    assert ok is False
    assert "could not be reached" in message
    assert "try again" in message


def test_no_connection_is_not_connected(alpha, satusehat_standin):
    with schema_context(alpha.clinic.schema_name):
        assert connection() is None
        assert test_connection() == (False, "SATUSEHAT is not connected yet: enter the clinic's credentials first.")
        with pytest.raises(NotConnected):
            Client.for_clinic()


def test_saving_without_a_secret_keeps_the_stored_one(alpha, satusehat_standin):
    connect(alpha, satusehat_standin)
    with schema_context(alpha.clinic.schema_name):
        stored = Connection.objects.get().client_secret_encrypted
        owner = staff(alpha, Role.OWNER)
        row = save_connection(
            owner, "sandbox", ORGANIZATION_ID, "kVu9Xq2Lw8HnT3bYc1RfPz7AsD4gEjMk", "", "loc-2", "Poli Gigi"
        )
        assert row.client_secret_encrypted == stored
        assert Connection.objects.count() == 1
        assert Connection.objects.get().location_name == "Poli Gigi"
        assert test_connection()[0] is True


def test_a_first_connection_needs_every_field(alpha):
    from django.core.exceptions import ValidationError

    with schema_context(alpha.clinic.schema_name):
        owner = staff(alpha, Role.OWNER)
        with pytest.raises(ValidationError) as invalid:
            save_connection(owner, "staging", "", " ", None, "", "")
    assert set(invalid.value.message_dict) == {
        "environment",
        "organization_id",
        "client_id",
        "client_secret",
        "location_id",
    }


def test_a_search_answer_counts_only_when_the_resource_carries_the_identifier_asked():
    """A server that ignored `identifier=` would answer with other resources: none of them is taken
    for ours (the sender would overwrite another patient's Encounter)."""
    from satusehat.client import _first_id

    system = "http://sys-ids.kemkes.go.id/encounter/10000004"
    other = {"resource": {"id": "enc-other", "identifier": [{"system": system, "value": "another-visit"}]}}
    ours = {"resource": {"id": "enc-ours", "identifier": [{"system": system, "value": "our-visit"}]}}
    assert _first_id({"entry": [other]}, holding=(system, "our-visit")) is None
    assert _first_id({"entry": [other, ours]}, holding=(system, "our-visit")) == "enc-ours"
    assert _first_id({"entry": [{"resource": {"id": "P0001"}}]}) == "P0001"  # a NIK search: its first answer
