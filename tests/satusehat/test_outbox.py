"""A visit is queued for SATUSEHAT in the transaction that finishes or amends it, on every write path:
REST, a device's batch (the bulk path), a device's single change, an amendment of a part; a change rolled
back queues nothing; an unfinished visit is never queued; a NIK added re-queues the visits that waited."""

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context

from records import services
from records.models import Visit
from satusehat.models import VisitSend
from tenants.accounts.models import Role
from tests.records import conftest as records_fixtures
from tests.records.conftest import actor, make_patient, make_visit
from tests.sync import conftest as sync_fixtures

pytestmark = pytest.mark.django_db
api = records_fixtures.api
device = sync_fixtures.device

WOMAN_1990 = "3174015708900003"  # born 17-08-1990, a woman (day + 40)


def sends(clinic) -> dict[str, tuple[str, int]]:
    with schema_context(clinic.clinic.schema_name):
        return {str(row.visit_id): (row.state, row.wanted) for row in VisitSend.objects.all()}


def tasks_for(clinic, visit_id) -> int:
    with schema_context(clinic.clinic.schema_name):
        return sum(
            1
            for row in DBTaskResult.objects.filter(task_path="satusehat.tasks.send_visit")
            if row.args_kwargs["args"] == [str(visit_id)]
        )


def test_rest_finishing_a_visit_queues_it_once_with_its_task(api, alpha):
    visit = make_visit(alpha, make_patient(alpha, full_name="Siti Rahmawati"))
    doctor = api(Role.DOCTOR)
    assert doctor.patch(f"/api/visits/{visit.pk}/", {"status": "in_progress"}).status_code == 200
    assert str(visit.pk) not in sends(alpha)  # not finished: nothing to send
    assert doctor.patch(f"/api/visits/{visit.pk}/", {"status": "finished"}).status_code == 200
    assert sends(alpha)[str(visit.pk)] == ("queued", 1)
    assert tasks_for(alpha, visit.pk) == 1


def test_rest_amending_a_finished_visit_or_adding_to_it_queues_the_update(api, alpha):
    visit = make_visit(alpha, make_patient(alpha, full_name="Bambang Sutrisno"), status="finished")
    assert sends(alpha)[str(visit.pk)] == ("queued", 1)
    doctor = api(Role.DOCTOR)
    added = doctor.post("/api/diagnoses/", {"visit": str(visit.pk), "code": "I10", "reason": "Hasil lab datang"})
    assert added.status_code == 201
    assert sends(alpha)[str(visit.pk)] == ("queued", 2)
    amended = doctor.patch(f"/api/visits/{visit.pk}/", {"plan": "Amlodipin 5 mg", "reason": "Terapi diganti"})
    assert amended.status_code == 200
    assert sends(alpha)[str(visit.pk)] == ("queued", 3)
    assert tasks_for(alpha, visit.pk) == 3


def test_a_devices_batch_creating_a_finished_visit_queues_it(device, alpha):
    phone = device(Role.DOCTOR)
    patient = phone.create("patient", {"full_name": "Dewi Lestari", "birth_date": "1990-08-17", "sex": "F"})
    visit = phone.create("visit", {"patient": patient, "started_at": timezone.now().isoformat(), "status": "finished"})
    other = phone.create("visit", {"patient": patient, "started_at": timezone.now().isoformat()})
    phone.push_all()
    queued = sends(alpha)
    assert queued[visit] == ("queued", 1)
    assert other not in queued


def test_a_devices_change_finishing_a_visit_and_amending_its_vitals_queues_each(device, alpha):
    phone = device(Role.DOCTOR)
    patient = phone.create("patient", {"full_name": "Agus Salim", "birth_date": "1975-01-05", "sex": "M"})
    visit = phone.create("visit", {"patient": patient, "started_at": timezone.now().isoformat()})
    phone.sync()
    phone.update("visit", visit, {"status": "finished"})
    phone.sync()
    assert sends(alpha)[visit] == ("queued", 1)
    phone.create(
        "vitals",
        {"visit": visit, "measured_at": timezone.now().isoformat(), "temperature_c": 38.2, "weight_kg": 60.2},
        reason="Suhu diukur ulang",
    )
    phone.sync()
    assert sends(alpha)[visit] == ("queued", 2)


def test_a_change_rolled_back_queues_nothing(alpha):
    patient = make_patient(alpha, full_name="Rudi Hartono")
    with schema_context(alpha.clinic.schema_name):
        before = DBTaskResult.objects.count()

        def finish_then_fail() -> None:
            with transaction.atomic():
                services.record_create(
                    entity="visit",
                    actor=actor(alpha, Role.DOCTOR),
                    data={"patient": str(patient.pk), "started_at": timezone.now().isoformat(), "status": "finished"},
                )
                assert VisitSend.objects.count() >= 1  # written in the transaction...
                raise RuntimeError("the request failed after the write")

        with pytest.raises(RuntimeError):
            finish_then_fail()
        assert not VisitSend.objects.exclude(visit_id__in=Visit.objects.values("pk")).exists()  # ...and gone with it
        assert DBTaskResult.objects.count() == before
        assert not Visit.objects.filter(patient=patient).exists()


def test_a_nik_added_requeues_the_visits_that_waited_for_it(api, alpha):
    patient = make_patient(alpha, full_name="Siti Rahmawati", birth_date="1990-08-17", sex="F")
    visit = make_visit(alpha, patient, status="finished")
    with schema_context(alpha.clinic.schema_name):
        VisitSend.objects.filter(visit_id=visit.pk).update(state="failed", reason_code="no_nik", reason="Tanpa NIK")
    assert api(Role.FRONT_DESK).patch(f"/api/patients/{patient.pk}/", {"nik": WOMAN_1990}).status_code == 200
    assert sends(alpha)[str(visit.pk)] == ("queued", 2)


def test_a_nik_corrected_after_sending_sends_the_patients_visits_again(api, alpha):
    patient = make_patient(alpha, full_name="Siti Rahmawati", birth_date="1990-08-17", sex="F", nik=WOMAN_1990)
    visit = make_visit(alpha, patient, status="finished")
    with schema_context(alpha.clinic.schema_name):
        VisitSend.objects.filter(visit_id=visit.pk).update(state="sent", sent=1)
    corrected = "3174025708900004"  # the same birth date and sex, another district
    assert api(Role.FRONT_DESK).patch(f"/api/patients/{patient.pk}/", {"nik": corrected}).status_code == 200
    assert sends(alpha)[str(visit.pk)] == ("queued", 2)


def test_the_owners_app_menu_links_the_satusehat_and_export_pages(api):
    links = api(Role.OWNER).get("/api/me/").json()["links"]
    assert (links["satusehat"], links["export"]) == ("/satusehat/", "/satusehat/export/")
    assert "satusehat" not in api(Role.DOCTOR).get("/api/me/").json()["links"]
