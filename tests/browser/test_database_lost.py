"""The database connection lost under the real server (gunicorn, as the Procfile runs it): a request in
flight gets 503 with Retry-After and nothing half-saved, never a 500, and the next requests are served
on a new connection. The backends are killed with pg_terminate_backend, as a failover or a restart
of PostgreSQL does to them."""

import threading
import time
import uuid
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from records.models import Visit
from sync.models import Device
from tests.bench.http_session import HttpSession
from tests.browser.test_offline_sync import in_gamma
from tests.conftest import PASSWORD, _make_clinic
from tests.records.conftest import make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="session")
def lost(platform_world, django_db_blocker):
    """A clinic of its own with one patient, committed (the live server sees only what is committed)."""
    with django_db_blocker.unblock():
        clinic = _make_clinic("pwadblost", "Klinik PWA DB Lost")
        return clinic, make_patient(clinic).pk


def _kill_the_servers_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return cursor.fetchone()[0]


def _push_into(session: HttpSession, body: dict, answer: dict) -> None:
    answer["status"], answer["body"] = session.post_json("/api/sync/push", body)


def _session(live_url, clinic, role="doctor") -> HttpSession:
    port = urlsplit(live_url.format("")).port
    session = HttpSession(port=port, host=clinic.host)
    session.sign_in(clinic.email(role), PASSWORD)
    return session


def test_connections_killed_between_requests_are_replaced_unseen(live_url, lost):
    session = _session(live_url, lost[0])
    assert session.get_json("/api/sync/pull", {"device_id": "dev-db-lost-01", "limit": 1})[0] == 200
    assert _kill_the_servers_connections() >= 1
    for _ in range(8):  # every worker thread's connection was killed; each is checked and replaced
        status, _body = session.get_json("/api/sync/pull", {"device_id": "dev-db-lost-01", "limit": 1})
        assert status == 200


def test_a_push_in_flight_when_the_connection_dies_is_503_and_all_or_nothing(live_url, lost):
    clinic, patient_id = lost
    session = _session(live_url, clinic)
    device_id = f"dev-{uuid.uuid4().hex[:16]}"
    started = timezone.now().isoformat()
    seen = set()
    seq = 1
    for _attempt in range(15):
        mutations = [
            {
                "seq": seq + n,
                "entity": "visit",
                "record_id": str(uuid.uuid4()),
                "op": "create",
                "base_version": 0,
                "fields": {"patient": str(patient_id), "started_at": started, "subjective": "Demam 38,2 °C 🤒"},
            }
            for n in range(500)
        ]
        body = {"device_id": device_id, "mutations": mutations}
        answer: dict = {}
        request = threading.Thread(target=_push_into, args=(session, body, answer))
        request.start()
        time.sleep(0.05 + 0.02 * _attempt)
        _kill_the_servers_connections()
        request.join()
        seen.add(answer["status"])
        assert answer["status"] in (200, 503), answer
        ids = [m["record_id"] for m in mutations]
        stored = in_gamma(clinic, lambda ids=ids: Visit.objects.filter(pk__in=ids).count())
        if answer["status"] == 503:
            assert answer["body"]["error"] == "unavailable"
            assert stored == 0  # the batch's transaction was rolled back whole
            assert in_gamma(
                clinic, lambda: Device.objects.filter(pk=device_id).values_list("last_seq", flat=True).first()
            ) in (None, seq - 1)
            # The device sends the same batch again, as the app does after a 5xx: it applies once.
            status, body = session.post_json("/api/sync/push", {"device_id": device_id, "mutations": mutations})
            assert status == 200
            assert {r["status"] for r in body["results"]} == {"applied"}
        else:
            assert stored == 500
        seq += 500
        if 503 in seen and 200 in seen:
            break
    assert 503 in seen, "the connection never died mid-request: make the push longer"
