"""A batch of creates is checked and inserted at once (records.bulk): every outcome, record, revision,
change-log row and record number must equal what the same mutations give one request at a time."""

import uuid
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from records import bulk
from records import services as records
from records.models import MedicalRecordCounter, Patient, Revision
from records.services import snapshot
from records.specs import SPECS
from sync import services
from sync.models import Change
from tenants.accounts.models import Role, User
from tests.records.conftest import make_part, make_patient, make_visit

pytestmark = pytest.mark.django_db

NOW = timezone.now().isoformat()


def _new() -> str:
    return str(uuid.uuid4())


def _mutations(world: dict[str, Any]) -> list[dict[str, Any]]:
    """Creates that pass and fail every check `record_create` makes, some pointing at each other."""
    p1, p2, p3, p4, v1, v2, vf, vl = (_new() for _ in range(8))
    patient = {"full_name": "Siti", "birth_date": "1990-01-01", "sex": "F"}
    items = [
        ("patient", p1, {**patient}, ""),
        ("patient", _new(), {**patient, "birth_date": "not a date"}, ""),
        ("patient", p2, {**patient, "medical_record_number": "KLINIK-7"}, ""),
        ("patient", _new(), {**patient, "medical_record_number": "KLINIK-7"}, ""),
        ("patient", _new(), {**patient, "nik": "123"}, ""),
        ("patient", p3, {**patient, "full_name": "Budi"}, ""),
        ("patient", world["patient"], {**patient, "sex": "X"}, ""),  # an id taken before the batch, refused
        # Points to a patient whose create in this batch was refused but who is in the database.
        ("visit", _new(), {"patient": world["patient"], "started_at": NOW, "chief_complaint": "Kontrol"}, ""),
        # Points to a visit the batch creates only later: no such record yet.
        ("vitals", _new(), {"visit": vl, "measured_at": NOW, "pulse": 80}, ""),
        ("visit", vl, {"patient": p2, "started_at": NOW}, ""),
        ("patient", p3, {**patient}, ""),
        ("patient", _new(), {**patient, "sex": ["F"]}, ""),
        ("patient", _new(), {**patient, "colour": "blue"}, ""),
        ("visit", v1, {"patient": p1, "started_at": NOW, "chief_complaint": "Demam"}, ""),
        ("visit", _new(), {"patient": world["voided_patient"], "started_at": NOW}, ""),
        ("visit", _new(), {"patient": str(uuid.uuid4()), "started_at": NOW}, ""),
        ("visit", _new(), {"patient": "not-a-uuid", "started_at": NOW}, ""),
        ("visit", _new(), {"started_at": NOW}, ""),
        ("visit", _new(), {"patient": p1, "started_at": NOW, "practitioner": world["front_desk"]}, ""),
        ("visit", v2, {"patient": p3, "started_at": NOW, "practitioner": world["doctor"], "subjective": "Batuk"}, ""),
        ("visit", vf, {"patient": p1, "started_at": NOW, "status": "finished"}, ""),
        ("vitals", _new(), {"visit": v1, "measured_at": NOW, "systolic": 80, "diastolic": 90}, ""),
        ("vitals", _new(), {"visit": v1, "measured_at": NOW, "pulse": 88, "temperature_c": "37.25"}, ""),
        ("vitals", _new(), {"visit": world["finished_visit"], "measured_at": NOW, "pulse": 70}, ""),
        ("vitals", _new(), {"visit": world["finished_visit"], "measured_at": NOW, "pulse": 71}, "Lupa dicatat"),
        ("vitals", _new(), {"visit": vf, "measured_at": NOW, "pulse": 72}, ""),
        ("diagnosis", _new(), {"visit": v2, "code": "XYZ.9"}, ""),
        ("diagnosis", _new(), {"visit": v2, "code": "j069"}, ""),
        ("diagnosis", _new(), {"visit": world["visit"], "code": "A09", "kind": "secondary"}, ""),
        ("prescription", _new(), {"visit": world["voided_visit"], "drug": "Amoxicillin", "dose": "500 mg"}, ""),
        ("prescription", _new(), {"visit": v2, "drug": "Amoxicillin", "dose": "500 mg", "frequency": "3x1"}, ""),
        ("prescription", _new(), {"visit": v2, "drug": "", "dose": "500 mg", "frequency": "3x1"}, "x" * 301),
        ("patient", _new(), {**patient, "full_name": "Ani"}, ""),
        # Text that COPY's format must escape; a literal \N is text, not NULL.
        ("patient", p4, {**patient, "address": "Jl. Mawar\t3\r\nRT 01 \\N \\", "allergies": "\\N"}, ""),
        ("visit", _new(), {"patient": p4, "started_at": NOW, "subjective": "Batuk\n\t2 hari \\ pilek"}, "a\tb\nc"),
        # Numbers given by hand that automatic numbering reaches (free_number(4) was given before the
        # batch, free_number(6) within it) are skipped.
        ("patient", _new(), {**patient, "medical_record_number": world["free_number"](6)}, ""),
        ("patient", _new(), {**patient, "full_name": "Dewi"}, ""),
        ("patient", _new(), {**patient, "full_name": "Eka"}, ""),
    ]
    return [
        {"seq": n, "entity": entity, "record_id": record_id, "op": "create", "fields": fields, "reason": reason}
        for n, (entity, record_id, fields, reason) in enumerate(items, start=1)
    ]


def _world(alpha) -> dict[str, Any]:
    patient, voided = make_patient(alpha), make_patient(alpha, full_name="Salah")
    visit, finished, voided_visit = make_visit(alpha, patient), make_visit(alpha, patient), make_visit(alpha, patient)
    make_part(alpha, "vitals", finished)
    with schema_context(alpha.clinic.schema_name):
        doctor = User.objects.get(email=alpha.email(Role.DOCTOR))
        actor = records.Actor(user=doctor)
        records.record_update(instance=finished, actor=actor, changes={"status": "finished"})
        records.record_void(instance=voided, actor=actor, reason="Salah input")
        records.record_void(instance=voided_visit, actor=actor, reason="Salah input")
        front_desk = User.objects.get(email=alpha.email(Role.FRONT_DESK))
        first_free = MedicalRecordCounter.objects.get(pk=1).next_value
    make_patient(alpha, medical_record_number=f"{records.MRN_PREFIX}{first_free + 4:06d}")
    return {
        "free_number": lambda offset: f"{records.MRN_PREFIX}{first_free + offset:06d}",
        "patient": str(patient.pk),
        "voided_patient": str(voided.pk),
        "visit": str(visit.pk),
        "finished_visit": str(finished.pk),
        "voided_visit": str(voided_visit.pk),
        "doctor": doctor.pk,
        "front_desk": front_desk.pk,
    }


def _outcome(user: User, mutations: list[dict[str, Any]], batch: int) -> dict[str, Any]:
    """Push in batches of `batch` from one device, read back everything the pushes wrote, then roll it
    all back (so both ways start from the same state, with the same device)."""
    with transaction.atomic():
        device = services.device_for(device_id="bulk-test-device", user=user)
        results = []
        for start in range(0, len(mutations), batch):
            chunk = [
                services.Mutation(**{**m, "record_id": uuid.UUID(m["record_id"])}) for m in mutations[start:][:batch]
            ]
            results += services.push(device=device, mutations=chunk)["results"]
        records = {}
        for mutation in mutations:
            model = SPECS[mutation["entity"]].model
            instance = model.objects.filter(pk=mutation["record_id"]).first()
            revisions = Revision.objects.filter(record_id=mutation["record_id"]).order_by("version")
            records[mutation["seq"]] = (
                snapshot(instance) if instance else None,
                (instance.created_by_id, instance.updated_by_id, instance.voided_by_id) if instance else None,
                [(r.action, r.version, r.after, r.reason, r.device_id, r.user_id) for r in revisions],
                # The change log's numbers too: both ways run in rolled-back transactions, so they start
                # from the same counter.
                Change.objects.filter(record_id=mutation["record_id"]).values_list("seq", "version", "voided").first(),
            )
        counter = MedicalRecordCounter.objects.get(pk=1).next_value
        transaction.set_rollback(True)
    return {"results": results, "records": records, "next_record_number": counter}


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.FRONT_DESK])
def test_a_batch_of_creates_equals_the_same_creates_one_at_a_time(alpha, role, monkeypatch):
    world = _world(alpha)
    mutations = _mutations(world)
    with schema_context(alpha.clinic.schema_name):
        user = User.objects.get(email=alpha.email(role))
        one_at_a_time_calls = []
        monkeypatch.setattr(services, "_apply_or_refuse", _spy(services._apply_or_refuse, one_at_a_time_calls))
        at_once = _outcome(user, mutations, batch=len(mutations))
        assert one_at_a_time_calls == []  # the whole batch went the bulk way
        monkeypatch.undo()
        one_by_one = _outcome(user, mutations, batch=1)
    for one, other in zip(at_once["results"], one_by_one["results"], strict=True):
        assert one == other
    for seq, record in at_once["records"].items():
        assert record == one_by_one["records"][seq], seq
    assert at_once == one_by_one
    statuses = [result["status"] for result in at_once["results"]]
    assert "applied" in statuses
    assert "rejected" in statuses
    if role == Role.DOCTOR:
        applied = [result["seq"] for result in at_once["results"] if result["status"] == "applied"]
        assert applied == [1, 3, 6, 8, 10, 14, 20, 21, 25, 28, 29, 31, 33, 34, 35, 36, 37, 38]
        numbers = [at_once["records"][seq][0]["medical_record_number"] for seq in (1, 6, 33, 34, 36, 37, 38)]
        assert numbers == [world["free_number"](n) for n in (0, 1, 2, 3, 6, 5, 7)]


def _spy(function, calls: list):
    def spied(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)

    return spied


def test_an_id_already_in_the_database_sends_the_run_one_at_a_time_and_is_refused(device, alpha, monkeypatch):
    doctor = device("doctor")
    patient = {"full_name": "Siti", "birth_date": "1990-01-01", "sex": "F"}
    existing = doctor.create("patient", patient)
    doctor.push()
    calls = []
    monkeypatch.setattr(services, "_apply_or_refuse", _spy(services._apply_or_refuse, calls))
    fresh = doctor.create("patient", {**patient, "full_name": "Budi"})
    doctor._enqueue(entity="patient", record_id=existing, op="create", base_version=0, fields=patient, reason="")
    later = doctor.create("patient", {**patient, "full_name": "Citra"})
    body = doctor.push()
    assert [r["status"] for r in body["results"]] == ["applied", "rejected", "applied"]
    assert body["results"][1]["errors"] == {"non_field_errors": ["A record with this id already exists."]}
    assert len(calls) == 3  # the run was rolled back and applied one at a time
    with schema_context(alpha.clinic.schema_name):
        assert Patient.objects.filter(pk__in=[existing, fresh, later]).count() == 3
        assert Revision.objects.filter(record_id=existing).count() == 1
        assert Change.objects.filter(record_id__in=[existing, fresh, later]).count() == 3


def test_creates_after_an_update_in_the_same_batch_see_it(device):
    """Runs of creates are split by other mutations, in order: a part added after its visit was
    finished in the same batch is an amendment."""
    doctor = device("doctor")
    patient = doctor.create("patient", {"full_name": "Siti", "birth_date": "1990-01-01", "sex": "F"})
    visit = doctor.create("visit", {"patient": patient, "started_at": NOW})
    doctor.push_all()
    doctor.pull()
    doctor.update("visit", visit, {"status": "finished"})
    doctor.create("vitals", {"visit": visit, "measured_at": NOW, "pulse": 80})
    doctor.create("vitals", {"visit": visit, "measured_at": NOW, "pulse": 81}, reason="Terlambat dicatat")
    body = doctor.push()
    assert [r["status"] for r in body["results"]] == ["applied", "rejected", "applied"]
    assert "reason" in body["results"][1]["errors"]


def test_a_clash_with_another_writer_rolls_the_run_back_and_applies_one_at_a_time(device, alpha, monkeypatch):
    real = bulk.records_create_many

    def clashing(**kwargs):
        real(**kwargs)  # everything inserted, then a concurrent writer's row is found in the way
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(bulk, "records_create_many", clashing)
    doctor = device("doctor")
    ids = [
        doctor.create("patient", {"full_name": f"Pasien {n}", "birth_date": "1990-01-01", "sex": "F"}) for n in range(3)
    ]
    body = doctor.push()
    assert [result["status"] for result in body["results"]] == ["applied"] * 3
    with schema_context(alpha.clinic.schema_name):
        assert Revision.objects.filter(record_id__in=ids).count() == 3
        assert Change.objects.filter(record_id__in=ids).count() == 3
