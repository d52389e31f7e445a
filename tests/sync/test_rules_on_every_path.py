"""Every write rule on every path: a matrix over sync push and the REST API.

Every role x every kind of record x every field x (the version the server holds, an older one) x (the
value the record holds, another value), for create, update, void and resolve. The rules are written out
here on their own (not read from `records.access`), so a rule the server forgets fails here. Checked in
each cell:
- a refusal is the same answer whatever the value sent and whatever the record holds;
- nothing refused is stored: not in the record, a revision, a conflict or the push's receipt;
- nothing allowed is refused.
Each cell runs in a savepoint that is rolled back, so every cell starts from the same records.
"""

import contextlib
import datetime
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from records import services
from records.models import Revision
from records.specs import spec_for
from records.urls import PLURALS
from sync.models import Conflict, PushedBatch
from tenants.accounts.models import Role, User

pytestmark = pytest.mark.django_db

OWNER, DOCTOR, NURSE, DESK = Role.OWNER, Role.DOCTOR, Role.NURSE, Role.FRONT_DESK
ROLES = (OWNER, DOCTOR, NURSE, DESK)
CLINICIANS = {OWNER, DOCTOR}
SOAP = {"subjective", "objective", "assessment", "plan"}
PARENTS = {"visit": "patient", "vitals": "visit", "diagnosis": "visit", "prescription": "visit"}
OTHER_DEVICE = "other-device-01"
CELL_DEVICE = "matrix-device-1"  # the device every cell pushes from

# The kinds in the matrix: vital signs twice, recorded by the nurse and by a doctor.
KINDS = {
    "patient": "patient",
    "visit": "visit",
    "vitals_by_nurse": "vitals",
    "vitals_by_doctor": "vitals",
    "diagnosis": "diagnosis",
    "prescription": "prescription",
}


@pytest.fixture(autouse=True)
def _everyone_signed_in_first(api):
    """Sessions are made before any cell: a cell's writes, a new session's included, are rolled back."""
    for role in ROLES:
        api(role)


def may_read(role: str, entity: str) -> bool:
    return entity in ("patient", "visit") or role != DESK


def may_write(role: str, kind: str, field: str | None) -> bool:
    """The README's role table: front desk writes patients and the administrative part of visits;
    nurses also vital signs, changing only those they recorded; doctors and owners everything."""
    entity = KINDS[kind]
    if role in CLINICIANS:
        return True
    if entity == "patient":
        return True
    if entity == "visit":
        return field not in SOAP
    if entity == "vitals":
        return role == NURSE and (kind == "vitals_by_nurse" or field is None)  # None: a create
    return False


def may_change(role: str, kind: str, field: str) -> bool:
    return may_write(role, kind, field) and field != PARENTS.get(KINDS[kind])


def at(days_ago: int, hour: int = 9) -> str:
    moment = timezone.now() - datetime.timedelta(days=days_ago)
    return moment.replace(hour=hour, minute=30, second=0, microsecond=0).isoformat()


@dataclass
class World:
    """The records every cell starts from, each at version 2: made (v1) and then changed in every field
    it may change by a doctor on another device (v2, the values "stored")."""

    ids: dict[str, str]
    users: dict[str, User]
    values: dict[str, dict[str, tuple[Any, Any, Any]]]  # kind -> field -> (first, stored, other)

    def stored(self, kind: str) -> dict[str, Any]:
        return {name: triple[1] for name, triple in self.values[kind].items()}


def patient_values(tag: str) -> dict[str, tuple[Any, Any, Any]]:
    return {
        "medical_record_number": (f"RM-{tag}-1", f"RM-{tag}-2", f"RM-{tag}-3"),
        "full_name": ("Siti Aminah", "Siti Aminah Lubis", "Sitti Aminah"),
        # A NIK holds the birth date and sex (digits 7-12): stored with none, so a birth date or sex changed
        # alone stays valid; "other" matches the stored birth date (12-03-1987) and sex (M).
        "nik": ("3174044203870001", "", "3174041203870003"),
        "birth_date": ("1987-03-02", "1987-03-12", "1987-03-22"),
        "sex": ("F", "M", "F"),
        "phone": ("0812-1111-2222", "0812-3333-4444", "0813-5555-6666"),
        "address": ("Jl. Melati 3, Medan", "Jl. Kenanga 5, Medan", "Jl. Mawar 7, Binjai"),
        "allergies": ("", "Penisilin", "Sulfa ⚠️"),
    }


def value_table(ids: dict[str, str], users: dict[str, User], tag: str) -> dict[str, dict[str, tuple[Any, Any, Any]]]:
    """Values clinics enter, sent as the browser sends them (JSON numbers for numbers)."""
    visit, other_visit = ids["visit"], ids["other_visit"]
    vitals = {
        "visit": (visit, visit, other_visit),
        "measured_at": (at(2), at(2, 10), at(2, 11)),
        "temperature_c": (36.8, 38.2, 37.8),
        "pulse": (80, 96, 104),
        "respiratory_rate": (18, 22, 20),
        "systolic": (120, 130, 140),
        "diastolic": (80, 85, 90),
        "spo2": (98, 96, 97),
        "height_cm": (158.3, 158.5, 159.1),
        "weight_kg": (60.2, 61.7, 59.4),
    }
    return {
        "patient": patient_values(tag),
        "visit": {
            "patient": (ids["patient"], ids["patient"], ids["other_patient"]),
            "started_at": (at(1), at(1, 10), at(1, 11)),
            "practitioner": (None, str(users[DOCTOR].pk), str(users[OWNER].pk)),
            "status": ("arrived", "in_progress", "arrived"),
            "chief_complaint": ("Demam", "Demam 3 hari", "Demam dan batuk 🤒"),
            "subjective": ("", "Demam sejak 3 hari", "Demam naik turun"),
            "objective": ("", "Faring hiperemis", "Tonsil T2"),
            "assessment": ("", "ISPA", "Faringitis akut"),
            "plan": ("", "Paracetamol 3x500 mg", "Kontrol 3 hari 🙏"),
        },
        "vitals_by_nurse": vitals,
        "vitals_by_doctor": vitals,
        "diagnosis": {
            "visit": (visit, visit, other_visit),
            "code": ("J06.9", "A09", "K30"),
            "kind": ("primary", "secondary", "primary"),
        },
        "prescription": {
            "visit": (visit, visit, other_visit),
            "drug": ("Paracetamol 500 mg", "Amoksisilin 500 mg", "Ibuprofen 400 mg"),
            "dose": ("500 mg", "1 tablet", "2 tablet"),
            "route": ("oral", "per oral", "PO"),
            "frequency": ("3x sehari", "2x sehari", "1x sehari"),
            "duration": ("3 hari", "5 hari", "7 hari"),
            "quantity": (10, 15, 20),
            "instructions": ("Sesudah makan", "Sebelum makan", "Bila demam"),
        },
    }


def build_world(alpha, *, finish: bool = False, void: bool = False) -> World:
    with schema_context(alpha.clinic.schema_name):
        users = {role: User.objects.get(email=alpha.email(role)) for role in ROLES}

        def actor(role: str, device: str = "setup-device-1") -> services.Actor:
            return services.Actor(user=users[role], device_id=device)

        def create(entity: str, role: str, data: dict[str, Any]) -> str:
            return str(services.record_create(entity=entity, actor=actor(role), data=data).pk)

        tag = uuid.uuid4().hex[:6]
        ids: dict[str, str] = {}
        ids["patient"] = create("patient", DESK, {name: v[0] for name, v in patient_values(tag).items()})
        ids["other_patient"] = create("patient", DESK, {"full_name": "Budi", "birth_date": "1990-01-01", "sex": "M"})
        visit_start = {"patient": ids["patient"], "started_at": at(1)}
        ids["visit"] = create("visit", DOCTOR, visit_start)
        ids["other_visit"] = create("visit", DOCTOR, visit_start)
        values = value_table(ids, users, tag)
        first = {kind: {name: triple[0] for name, triple in fields.items()} for kind, fields in values.items()}
        for kind, role in (
            ("vitals_by_nurse", NURSE),
            ("vitals_by_doctor", DOCTOR),
            ("diagnosis", DOCTOR),
            ("prescription", DOCTOR),
        ):
            ids[kind] = create(KINDS[kind], role, first[kind])
        world = World(ids=ids, users=users, values=values)
        for kind in KINDS:
            instance = _get(KINDS[kind], ids[kind])
            stored = {k: v for k, v in world.stored(kind).items() if k != PARENTS.get(KINDS[kind])}
            services.record_update(instance=instance, actor=actor(DOCTOR, OTHER_DEVICE), changes=stored)
        if finish:
            visit = _get("visit", ids["visit"])
            services.record_update(instance=visit, actor=actor(DOCTOR, OTHER_DEVICE), changes={"status": "finished"})
            world.values["visit"]["status"] = ("arrived", "finished", "in_progress")
        if void:
            for kind in ("vitals_by_nurse", "vitals_by_doctor", "diagnosis", "prescription", "visit", "patient"):
                instance = _get(KINDS[kind], ids[kind])
                services.record_void(instance=instance, actor=actor(DOCTOR, OTHER_DEVICE), reason="Salah input")
        return world


def _get(entity: str, record_id: str):
    return spec_for(entity).model.objects.get(pk=record_id)


# --- one cell ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the device or browser was told, in a form two cells can be compared by."""

    refused: bool
    body: str  # the refusal as sent (status and messages); "" when allowed
    detail: dict[str, Any]


def push_answer(client, mutation: dict[str, Any]) -> Answer:
    response = client.post("/api/sync/push", {"device_id": CELL_DEVICE, "mutations": [{"seq": 1, **mutation}]})
    assert response.status_code == 200, response.content
    [result] = response.json()["results"]
    refused = result["status"] == "rejected"
    return Answer(refused, json.dumps(result.get("errors"), sort_keys=True) if refused else "", result)


def rest_answer(response) -> Answer:
    assert response.status_code < 500, response.content
    if response.status_code < 300:
        return Answer(False, "", {"http": response.status_code, **response.json()})
    return Answer(True, f"{response.status_code} {response.content.decode()}", {"http": response.status_code})


@dataclass(frozen=True)
class Trace:
    snapshot: dict[str, Any]
    revisions: int
    conflicts: int


def trace(entity: str, record_id: str) -> Trace:
    instance = _get(entity, record_id)
    return Trace(
        services.snapshot(instance),
        Revision.objects.filter(entity=entity, record_id=record_id).count(),
        Conflict.objects.count(),
    )


@contextlib.contextmanager
def rolled_back(alpha):
    """A cell: whatever it writes is undone after it, so the next cell starts from the same records."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def assert_nothing_stored(alpha, entity: str, record_id: str, before: Trace, sent: Any) -> None:
    """The record, its revisions and the conflicts as they were; the receipt holds the refusal only."""
    with schema_context(alpha.clinic.schema_name):
        assert trace(entity, record_id) == before
        batches = PushedBatch.objects.filter(device_id=CELL_DEVICE).values_list("results", flat=True)
        receipts = [result for batch in batches for result in batch]
    for result in receipts:
        assert set(result) == {"seq", "status", "errors"}, result
        assert result["status"] == "rejected"
        if sent is not None and len(str(sent)) >= 4:  # "F" or "80" may be part of any message
            assert str(sent) not in json.dumps(result["errors"]), result


def run_cell(
    alpha, api, role: str, entity: str, record_id: str, path: str, send: dict[str, Any], *, names_value: bool = False
) -> Answer:
    """Send one change by one path and, if it was refused, check that none of it was stored (a refusal
    that `names_value`, a status word, may say it)."""
    with rolled_back(alpha):
        with schema_context(alpha.clinic.schema_name):
            before = trace(entity, record_id)
        client = api(role)
        if path == "sync":
            answer = push_answer(
                client,
                {
                    "entity": entity,
                    "record_id": record_id,
                    "op": "update",
                    "base_version": send["version"],
                    "fields": send["fields"],
                    "reason": send.get("reason", ""),
                },
            )
        else:
            body = {**send["fields"], "version": send["version"], "reason": send.get("reason", "")}
            answer = rest_answer(client.patch(f"/api/{PLURALS[entity]}/{record_id}/", body))
        if answer.refused:
            for value in send["fields"].values():
                assert_nothing_stored(alpha, entity, record_id, before, None if names_value else value)
        return answer


# --- update ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["sync", "rest"])
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("role", ROLES)
def test_update_of_every_field(alpha, api, role, kind, path):
    world = build_world(alpha)
    entity, record_id = KINDS[kind], world.ids[kind]
    for field, (_first, stored, other) in world.values[kind].items():
        if field == "status":
            continue  # a transition (forward only), tested on its own below
        answers = {}
        for version in (2, 1):
            for label, value in (("stored", stored), ("other", other)):
                send = {"version": version, "fields": {field: value}}
                answers[(version, label)] = run_cell(alpha, api, role, entity, record_id, path, send)
        cell = f"{role} {kind}.{field} by {path}"
        if not may_change(role, kind, field):
            refusals = {answer.body for answer in answers.values()}
            assert all(answer.refused for answer in answers.values()), (cell, answers)
            assert len(refusals) == 1, (cell, refusals)
            continue
        if path == "sync":
            assert not any(answer.refused for answer in answers.values()), (cell, answers)
            assert answers[(2, "other")].detail["status"] == "applied", cell
            assert answers[(1, "other")].detail["status"] == "conflict", cell
        else:
            assert answers[(2, "stored")].detail["http"] == answers[(2, "other")].detail["http"] == 200, cell
            for label in ("stored", "other"):
                assert answers[(1, label)].body.startswith("409"), (cell, answers[(1, label)])


def test_refusals_name_the_rule_a_person_can_act_on(alpha, api):
    world = build_world(alpha)
    cases = [
        (DESK, "visit", "plan", "Only doctors write the SOAP note."),
        (DESK, "vitals_by_nurse", "pulse", "Your role cannot see this part of the record."),
        (NURSE, "diagnosis", "code", "Your role cannot change this part of the record."),
        (NURSE, "vitals_by_doctor", "pulse", "Nurses change only the vital signs they recorded."),
        (DOCTOR, "diagnosis", "visit", "This cannot be changed; void the record and create it again."),
    ]
    for role, kind, field, message in cases:
        stored = world.values[kind][field][1]
        answer = run_cell(
            alpha, api, role, KINDS[kind], world.ids[kind], "sync", {"version": 2, "fields": {field: stored}}
        )
        assert answer.refused
        assert message in answer.body, (role, kind, field, answer.body)


# --- a finished visit and a voided record -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["sync", "rest"])
@pytest.mark.parametrize("role", ROLES)
def test_a_finished_visit_is_amended_with_a_reason_by_whoever_may_write_the_field(alpha, api, role, path):
    """Even the value it already holds needs a reason: the answer never depends on the value."""
    world = build_world(alpha, finish=True)
    for kind in ("visit", "vitals_by_nurse", "vitals_by_doctor", "diagnosis", "prescription"):
        entity, record_id = KINDS[kind], world.ids[kind]
        for field, (_first, stored, other) in world.values[kind].items():
            if field == "status":
                continue  # a transition, tested on its own below
            for reason in ("", "Koreksi hasil pemeriksaan"):
                answers = [
                    run_cell(
                        alpha,
                        api,
                        role,
                        entity,
                        record_id,
                        path,
                        {"version": 3 if kind == "visit" else 2, "fields": {field: value}, "reason": reason},
                    )
                    for value in (stored, other)
                ]
                cell = f"{role} {kind}.{field} reason={reason!r} by {path}"
                allowed = may_change(role, kind, field) and reason and (kind != "visit" or role in CLINICIANS)
                if allowed:
                    assert not any(answer.refused for answer in answers), (cell, answers)
                else:
                    assert all(answer.refused for answer in answers), (cell, answers)
                    assert answers[0].body == answers[1].body, cell


@pytest.mark.parametrize("path", ["sync", "rest"])
@pytest.mark.parametrize("role", ROLES)
def test_a_visit_moves_forward_only_for_every_role(alpha, api, role, path):
    """Non-clinicians void only an arrived visit, so a started one never goes back to arrived."""
    world = build_world(alpha)
    started, arrived = world.ids["visit"], world.ids["other_visit"]
    forward = run_cell(alpha, api, role, "visit", arrived, path, {"version": 1, "fields": {"status": "in_progress"}})
    assert not forward.refused, forward
    same = run_cell(alpha, api, role, "visit", started, path, {"version": 2, "fields": {"status": "in_progress"}})
    assert not same.refused, same
    back_to_arrived = {"version": 2, "fields": {"status": "arrived"}}
    back = run_cell(alpha, api, role, "visit", started, path, back_to_arrived, names_value=True)
    assert back.refused
    assert "A visit that has started does not go back to arrived." in back.body


@pytest.mark.parametrize("path", ["sync", "rest"])
@pytest.mark.parametrize("role", ROLES)
def test_finishing_is_for_doctors_whether_or_not_the_visit_is_finished_already(alpha, api, role, path):
    for finished in (False, True):
        world = build_world(alpha, finish=finished)
        version = 3 if finished else 2
        send = {"version": version, "fields": {"status": "finished"}, "reason": "Selesai"}
        answer = run_cell(alpha, api, role, "visit", world.ids["visit"], path, send)
        assert answer.refused == (role not in CLINICIANS), (role, finished, answer)
        if answer.refused:
            assert "Only doctors finish a visit." in answer.body


@pytest.mark.parametrize("path", ["sync", "rest"])
@pytest.mark.parametrize("role", ROLES)
def test_a_voided_record_is_refused_to_everyone_whatever_the_value(alpha, api, role, path):
    world = build_world(alpha, void=True)
    for kind in KINDS:
        entity, record_id = KINDS[kind], world.ids[kind]
        for field, (_first, stored, other) in world.values[kind].items():
            answers = [
                run_cell(alpha, api, role, entity, record_id, path, {"version": 3, "fields": {field: value}})
                for value in (stored, other)
            ]
            assert all(answer.refused for answer in answers), (role, kind, field, answers)
            assert answers[0].body == answers[1].body, (role, kind, field)


# --- create -------------------------------------------------------------------------------------------------


MINIMAL = {
    # Born on the stored birth date, a man: the "other" NIK of the value table is his.
    "patient": lambda w: {"full_name": "Pasien Baru", "birth_date": "1987-03-12", "sex": "M"},
    "visit": lambda w: {"patient": w.ids["patient"], "started_at": at(0, 8)},
    "vitals": lambda w: {"visit": w.ids["visit"], "measured_at": at(0, 8)},
    "diagnosis": lambda w: {"visit": w.ids["visit"], "code": "I10"},
    "prescription": lambda w: {"visit": w.ids["visit"], "drug": "Amlodipin 5 mg", "dose": "5 mg", "frequency": "1x"},
}


@pytest.mark.parametrize("path", ["sync", "rest"])
@pytest.mark.parametrize("role", ROLES)
def test_create_with_every_field(alpha, api, role, path):
    world = build_world(alpha)
    client = api(role)
    for kind in ("patient", "visit", "vitals_by_nurse", "diagnosis", "prescription"):
        entity = KINDS[kind]
        for field, (_first, stored, other) in world.values[kind].items():
            answers = []
            for value in (stored, other):
                if field == "medical_record_number":
                    value = f"RM-NEW-{uuid.uuid4().hex[:8]}"
                data = {**MINIMAL[entity](world), field: value}
                record_id = str(uuid.uuid4())
                with rolled_back(alpha):
                    if path == "sync":
                        mutation = {"entity": entity, "record_id": record_id, "op": "create", "fields": data}
                        answer = push_answer(client, {**mutation, "base_version": 0})
                    else:
                        url = f"/api/{PLURALS[entity]}/"
                        answer = rest_answer(client.post(url, {"id": record_id, **data}))
                    with schema_context(alpha.clinic.schema_name):
                        exists = spec_for(entity).model.objects.filter(pk=record_id).exists()
                        revisions = Revision.objects.filter(record_id=record_id).count()
                    assert exists == (not answer.refused)
                    assert revisions == (0 if answer.refused else 1)
                answers.append(answer)
            cell = f"{role} creates {entity} with {field} by {path}"
            if may_write(role, kind if entity != "vitals" else "vitals_by_nurse", field):
                assert not any(answer.refused for answer in answers), (cell, answers)
            else:
                assert all(answer.refused for answer in answers), (cell, answers)
                assert answers[0].body == answers[1].body, cell


# --- void -------------------------------------------------------------------------------------------------


def may_void(role: str, kind: str, *, visit_started: bool) -> bool:
    """Non-clinicians void a patient only without visits, a visit only while it is "arrived"."""
    if not may_write(role, kind, "void"):
        return False
    if role in CLINICIANS:
        return True
    if kind == "patient":
        return False  # the matrix's patient has visits
    if kind == "visit":
        return not visit_started
    return True


@pytest.mark.parametrize("path", ["sync", "rest"])
@pytest.mark.parametrize("role", ROLES)
def test_void_of_every_kind(alpha, api, role, path):
    world = build_world(alpha)
    arrived = world.ids["other_visit"]  # never started
    client = api(role)
    for kind, record_id, started in [(k, world.ids[k], True) for k in KINDS] + [("visit", arrived, False)]:
        entity = KINDS[kind]
        answers = []
        for version in (2, 1):
            with rolled_back(alpha):
                with schema_context(alpha.clinic.schema_name):
                    before = trace(entity, record_id)
                if path == "sync":
                    mutation = {"entity": entity, "record_id": record_id, "op": "void", "base_version": version}
                    answer = push_answer(client, {**mutation, "reason": "Salah input"})
                else:
                    url = f"/api/{PLURALS[entity]}/{record_id}/void/"
                    answer = rest_answer(client.post(url, {"reason": "Salah input"}))
                if answer.refused:
                    assert_nothing_stored(alpha, entity, record_id, before, None)
                else:
                    with schema_context(alpha.clinic.schema_name):
                        assert _get(entity, record_id).is_voided
            answers.append(answer)
        cell = f"{role} voids {kind} (started={started}) by {path}"
        if may_void(role, kind, visit_started=started):
            assert not any(answer.refused for answer in answers), (cell, answers)
        else:
            assert all(answer.refused for answer in answers), (cell, answers)
            assert answers[0].body == answers[1].body, cell


# --- resolve ------------------------------------------------------------------------------------------------


def conflicts_on_every_field(alpha, api, world: World) -> dict[tuple[str, str], dict[str, Any]]:
    """A doctor's device that saw version 1 sends other values for every field: a conflict on each."""
    device = "conflicting-device-1"
    mutations = []
    for kind in KINDS:
        entity = KINDS[kind]
        # Not the parent (it never changes) nor the status (it moves forward only, tested apart).
        fields = {n: v[2] for n, v in world.values[kind].items() if n not in (PARENTS.get(entity), "status")}
        mutations.append(
            {
                "seq": len(mutations) + 1,
                "entity": entity,
                "record_id": world.ids[kind],
                "op": "update",
                "base_version": 1,
                "fields": fields,
            }
        )
    response = api(DOCTOR).post("/api/sync/push", {"device_id": device, "mutations": mutations})
    assert all(result["status"] == "conflict" for result in response.json()["results"]), response.json()
    with schema_context(alpha.clinic.schema_name):
        kinds_of = {record_id: kind for kind, record_id in world.ids.items() if kind in KINDS}
        return {
            (kinds_of[str(c.record_id)], c.field): {"id": str(c.pk), "server": c.server_value, "device": c.device_value}
            for c in Conflict.objects.filter(device_id=device)
        }


@pytest.mark.parametrize("role", ROLES)
def test_resolve_a_conflict_on_every_field(alpha, api, role):
    world = build_world(alpha)
    conflicts = conflicts_on_every_field(alpha, api, world)
    client = api(role)
    for (kind, field), conflict in sorted(conflicts.items()):
        entity = KINDS[kind]
        answers = []
        for value in (conflict["server"], conflict["device"]):
            with rolled_back(alpha):
                with schema_context(alpha.clinic.schema_name):
                    before = trace(entity, world.ids[kind])
                mutation = {"entity": "conflict", "record_id": conflict["id"], "op": "resolve", "base_version": 1}
                answer = push_answer(client, {**mutation, "fields": {"value": value}})
                if answer.refused:
                    assert_nothing_stored(alpha, entity, world.ids[kind], before, value)
                    with schema_context(alpha.clinic.schema_name):
                        assert Conflict.objects.get(pk=conflict["id"]).resolved_at is None
            answers.append(answer)
        cell = f"{role} resolves {kind}.{field}"
        if may_change(role, kind, field) and may_read(role, entity):
            assert not any(answer.refused for answer in answers), (cell, answers)
        else:
            assert all(answer.refused for answer in answers), (cell, answers)
            assert answers[0].body == answers[1].body, cell
