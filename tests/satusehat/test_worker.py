"""A real worker process killed in the middle of sending (SIGKILL: no chance to tidy up), then started
again: every visit still arrives in SATUSEHAT exactly once.

The worker runs as `manage.py run_worker` on the test database, so what it reads must be committed:
these tests use a clinic of their own (`sskirim`), whose records are written and committed from a
thread outside the test's transaction, as staff elsewhere would write them.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from satusehat.models import RemoteResource, VisitSend
from tests.browser.test_offline_sync import committed
from tests.conftest import _make_clinic
from tests.satusehat import standin as standin_fixtures
from tests.satusehat.factories import make_finished_visit
from tests.satusehat.standin import prepare
from tests.satusehat.test_faults import assert_each_visit_exactly_once

pytestmark = pytest.mark.django_db
satusehat_standin = standin_fixtures.satusehat_standin  # the stand-in's fixture, used by name

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def kirim(platform_world, django_db_blocker):
    """A clinic only these tests use, committed for the session."""
    with django_db_blocker.unblock():
        return _make_clinic("sskirim", "Klinik Kirim Sehat")


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{auth}@{quote(db['HOST'] or '', safe='')}{port}/{db['NAME']}"


def _start_worker(standin, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": _database_url(),
        "SATUSEHAT_SANDBOX_AUTH_URL": standin.urls["auth"],
        "SATUSEHAT_SANDBOX_FHIR_URL": standin.urls["fhir"],
        "SATUSEHAT_TIMEOUT_SECONDS": "5",
        "TASK_LEASE_SECONDS": "2",  # a killed worker's task is taken back after 2 s
    }
    command = [sys.executable, "manage.py", "run_worker", "--clinic", "sskirim", "--interval", "0.2"]
    with open(log, "a") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def _wait_sent(clinic, visit_ids, worker: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with schema_context(clinic.clinic.schema_name):
            states = list(VisitSend.objects.filter(visit_id__in=visit_ids).values_list("state", flat=True))
        if states and all(state == "sent" for state in states) and len(states) == len(visit_ids):
            return
        assert worker.poll() is None, log.read_text()
        time.sleep(0.2)
    raise AssertionError(f"not all sent: {states}\n{log.read_text()[-3000:]}")


def test_a_worker_killed_mid_send_is_replaced_and_every_visit_arrives_once(
    kirim, satusehat_standin, django_db_blocker, tmp_path
):
    standin = satusehat_standin
    committed(django_db_blocker, lambda: prepare(kirim, standin))
    visits = committed(django_db_blocker, lambda: [make_finished_visit(kirim).visit.pk for _ in range(3)])
    # The first Observation is created in SATUSEHAT, but its answer never comes back: the worker is
    # killed while it waits, before it could record what SATUSEHAT made.
    standin.fail_next(r"^/Observation$", "hang", method="POST")
    log = tmp_path / "worker.log"
    first = _start_worker(standin, log)
    try:
        assert standin.hanging.wait(60), log.read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    standin.release()
    hung = next(r for r in standin.requests if r.fault == "hang")
    with schema_context(kirim.clinic.schema_name):
        assert VisitSend.objects.filter(visit_id__in=visits, state="sent").count() < 3
        # What SATUSEHAT made for the hung request is not recorded here: the next worker must find it.
        hung_value = hung.body["identifier"][0]["value"]
        assert not RemoteResource.objects.filter(resource_type="Observation", local_key=hung_value).exists()

    second = _start_worker(standin, log)
    try:
        _wait_sent(kirim, visits, second, log)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(20)
        except subprocess.TimeoutExpired:
            second.kill()
            second.wait(5)
    assert_each_visit_exactly_once(kirim, standin, visits)
    assert len(standin.by_identifier("Observation", hung_value)) == 1
    found = [r for r in standin.made("GET", "Observation") if r.query.get("identifier", "").endswith(f"|{hung_value}")]
    assert found, "the second worker looked the hung Observation up before sending it"
    assert "taken back" in log.read_text()
