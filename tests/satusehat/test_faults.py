"""The worker sending visits through every kind of trouble SATUSEHAT and the network give: an expired
token, rate limits, server errors, timeouts and answers lost after the work was done, alone and mixed
at random over many visits. Whatever happens, every finished visit ends up in SATUSEHAT exactly once,
and an amendment's updates arrive after the creates they update."""

import random

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context

from records import services
from satusehat.models import VisitSend
from tenants.accounts.models import Role
from tests.satusehat import standin as standin_fixtures
from tests.satusehat.factories import actor_of, make_finished_visit
from tests.satusehat.standin import StandIn, prepare, run_worker

pytestmark = pytest.mark.django_db
satusehat_standin = standin_fixtures.satusehat_standin  # the stand-in's fixture, used by name


def _amend(clinic, visit_id, code: str = "I10") -> None:
    with schema_context(clinic.clinic.schema_name):
        services.record_create(
            entity="diagnosis",
            actor=actor_of(clinic, Role.DOCTOR),
            data={"visit": str(visit_id), "code": code, "kind": "secondary"},
            reason="Hipertensi terlewat dicatat",
        )


def assert_each_visit_exactly_once(
    clinic, standin: StandIn, visit_ids: list, amended: set | None = None, updated: set | None = None
) -> None:
    """Each visit sent, held once by SATUSEHAT with its parts (and the diagnosis added to those
    `amended`); the visits `updated` (amended after being sent) had their Encounter updated after it
    was created."""
    amended = amended or set()
    updated = amended if updated is None else updated
    with schema_context(clinic.clinic.schema_name):
        sends = {s.visit_id: s for s in VisitSend.objects.filter(visit_id__in=visit_ids)}
        failed_tasks = DBTaskResult.objects.filter(status="FAILED").count()
    assert failed_tasks == 0
    for visit_id in visit_ids:
        send = sends[visit_id]
        assert (send.state, send.sent, send.reason) == ("sent", send.wanted, ""), send
        encounters = standin.by_identifier("Encounter", str(visit_id))
        assert len(encounters) == 1, f"visit {visit_id}: {len(encounters)} encounters"
        encounter_ref = f"Encounter/{encounters[0]['id']}"
        conditions = [c for c in standin.stored("Condition") if c["encounter"]["reference"] == encounter_ref]
        codes = sorted(c["code"]["coding"][0]["code"] for c in conditions)
        assert codes == (["A09", "I10"] if visit_id in amended else ["A09"])
        observations = [o for o in standin.stored("Observation") if o["encounter"]["reference"] == encounter_ref]
        assert len(observations) == 8
        requests = [m for m in standin.stored("MedicationRequest") if m["encounter"]["reference"] == encounter_ref]
        assert len(requests) == 2
        medication_ids = {m["medicationReference"]["reference"] for m in requests}
        assert all(standin.resources["Medication"].get(ref.removeprefix("Medication/")) for ref in medication_ids)
        if visit_id in updated:
            # The amendment's update of the Encounter arrives after the Encounter was created.
            path = f"/{encounter_ref}"
            created = [
                r for r in standin.made("POST", "Encounter") if r.body["identifier"][0]["value"] == str(visit_id)
            ]
            updated = [r for r in standin.made("PUT", "Encounter") if r.path == path]
            assert len(created) == 1
            assert updated
            assert created[0].at < min(r.at for r in updated)
    # Nothing is held twice, whatever the visit (SATUSEHAT refuses a second create of an identifier).
    for kind, rows in standin.resources.items():
        identifiers = [
            (i["system"], i["value"])
            for r in rows.values()
            for i in r.get("identifier", [])
            if standin_fixtures.unique_system(i["system"])
        ]
        assert len(identifiers) == len(set(identifiers)), kind


@pytest.fixture
def ready(alpha, satusehat_standin):
    prepare(alpha, satusehat_standin)
    return satusehat_standin


@pytest.mark.parametrize("kind", ["expire_token", "429", "500", "timeout", "lost"])
def test_every_visit_arrives_exactly_once_through_one_kind_of_trouble(alpha, ready, kind):
    standin = ready
    visits = [make_finished_visit(alpha).visit.pk for _ in range(3)]
    standin.fail_next(r"^/Encounter$", kind, method="POST")
    standin.fail_next(r"^/Condition$", kind, method="POST")
    standin.fail_next(r"^/Observation$", kind, times=2 if kind != "timeout" else 1, method="POST")
    standin.fail_next(r"^/MedicationRequest$", kind, method="POST")
    run_worker(alpha)
    faulted = [r for r in standin.requests if r.fault == kind]
    assert len(faulted) == (4 if kind == "timeout" else 5)
    # Then each visit is amended, and the updates meet the same trouble.
    for visit_id in visits:
        _amend(alpha, visit_id)
    standin.fail_next(r"^/Encounter/", kind, method="PUT")
    standin.fail_next(r"^/Condition$", kind, method="POST")
    run_worker(alpha)
    assert_each_visit_exactly_once(alpha, standin, visits, amended=set(visits))
    if kind == "expire_token":
        assert len(standin.token_requests()) == 1 + 7  # the first, and one after each expiry
    if kind == "lost":
        # The lost creates were found again by their identifier, not made twice.
        lost = [r for r in standin.requests if r.fault == "lost" and r.method == "POST"]
        assert len(lost) == 6


def test_thirty_visits_through_random_trouble_arrive_exactly_once(alpha, ready):
    standin = ready
    chance = random.Random(20260815)
    visits = [make_finished_visit(alpha).visit.pk for _ in range(30)]
    # About one request in forty meets trouble, at random, over every visit; and two timeouts.
    standin.chaos(0.025, ["500", "429", "lost", "expire_token"], seed=17)
    standin.fail_next(r"^/Observation$", "timeout", times=2)
    amended = set(chance.sample(visits, 10))
    # Some are amended before the worker ever ran (one send covers both), the rest after being sent.
    early = set(list(amended)[:4])
    for visit_id in early:
        _amend(alpha, visit_id)
    run_worker(alpha, until_seconds=120)
    for visit_id in amended - early:
        _amend(alpha, visit_id)
    run_worker(alpha, until_seconds=120)
    assert_each_visit_exactly_once(alpha, standin, visits, amended=amended, updated=amended - early)
    faults = [r.fault for r in standin.requests if r.fault]
    assert set(faults) == {"500", "429", "lost", "expire_token", "timeout"}
    assert len(faults) >= 20


def _finish_a_visit_then_fail(clinic, queued: list) -> None:
    """A request that finished a visit, then failed before its transaction committed."""
    with transaction.atomic():
        made = make_finished_visit(clinic)
        with schema_context(clinic.clinic.schema_name):
            queued.extend(VisitSend.objects.filter(visit_id=made.visit.pk).values_list("visit_id", flat=True))
        raise RuntimeError("the request failed after finishing the visit")


def test_a_visit_finished_in_a_transaction_that_rolls_back_leaves_nothing_to_send(alpha, ready):
    with schema_context(alpha.clinic.schema_name):
        tasks_before = DBTaskResult.objects.count()
        sends_before = VisitSend.objects.count()
    queued: list = []
    with pytest.raises(RuntimeError):
        _finish_a_visit_then_fail(alpha, queued)
    assert len(queued) == 1  # it was queued inside the transaction...
    with schema_context(alpha.clinic.schema_name):  # ...and went with it
        assert DBTaskResult.objects.count() == tasks_before
        assert VisitSend.objects.count() == sends_before
    run_worker(alpha)
    assert ready.requests == []
