"""The day's queue: numbers given by the server on every path a check-in reaches it, per day and per
practitioner, never twice; who may call; the waiting-room display and its revocable links."""

import datetime
import re
import threading
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from records import queue
from records.models import DisplayLink, Visit
from tenants.accounts.models import Role, User
from tenants.models import Clinic
from tests.conftest import host_client, login
from tests.records.conftest import make_patient
from tests.sync.device import Device

pytestmark = pytest.mark.django_db

NOW = lambda: timezone.now().isoformat()  # noqa: E731


def _check_in(api, patient_id: str, **fields):
    body = {"patient": patient_id, "started_at": NOW(), "arrived_at": NOW(), **fields}
    response = api.post("/api/visits/", body)
    assert response.status_code == 201, response.content
    return response.json()


def _numbers(alpha, ids) -> list[int | None]:
    with schema_context(alpha.clinic.schema_name):
        found = dict(Visit.objects.filter(pk__in=ids).values_list("pk", "queue_number"))
    return [found[uuid.UUID(str(i))] for i in ids]


def _doctor_id(alpha) -> int:
    with schema_context(alpha.clinic.schema_name):
        return User.objects.get(email=alpha.email(Role.DOCTOR)).pk


def test_checked_in_visits_are_numbered_in_order_for_the_clinic_day(alpha, api):
    desk = api(Role.FRONT_DESK)
    patients = [make_patient(alpha, full_name=name) for name in ("Siti Aminah", "Budi Santoso", "Wayan Sudarsana")]
    visits = [_check_in(desk, str(patient.pk)) for patient in patients]
    assert [visit["queue_number"] for visit in visits] == [1, 2, 3]
    assert {visit["queue_day"] for visit in visits} == {timezone.localdate().isoformat()}
    # A visit recorded without a check-in (a past visit typed in later) is not in the queue.
    plain = desk.post("/api/visits/", {"patient": str(patients[0].pk), "started_at": NOW()}).json()
    assert plain["queue_number"] is None
    assert plain["queue_day"] is None


def test_a_check_in_late_last_night_counts_for_that_day(alpha, api):
    desk = api(Role.FRONT_DESK)
    patient = make_patient(alpha)
    # 23:50 in Jakarta yesterday is 16:50 UTC: that day's queue, in the clinic's zone.
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    late = datetime.datetime.combine(yesterday, datetime.time(23, 50), tzinfo=timezone.get_default_timezone())
    old = _check_in(desk, str(patient.pk), arrived_at=late.isoformat(), started_at=late.isoformat())
    today = _check_in(desk, str(patient.pk))
    assert (old["queue_day"], old["queue_number"]) == (yesterday.isoformat(), 1)
    assert (today["queue_day"], today["queue_number"]) == (timezone.localdate().isoformat(), 1)


def test_a_queue_per_practitioner_counts_each_doctor_apart(alpha, api):
    Clinic.objects.filter(pk=alpha.clinic.pk).update(queue_per_practitioner=True)
    with schema_context(alpha.clinic.schema_name):
        owner = User.objects.get(email=alpha.email(Role.OWNER))
    desk = api(Role.FRONT_DESK)
    patient = str(make_patient(alpha).pk)
    doctor = _doctor_id(alpha)
    got = [
        _check_in(desk, patient, practitioner=doctor)["queue_number"],
        _check_in(desk, patient, practitioner=owner.pk)["queue_number"],
        _check_in(desk, patient, practitioner=doctor)["queue_number"],
    ]
    assert got == [1, 1, 2]
    # Nobody chosen: whose queue would it be? Refused, with what to do, on REST and on sync.
    body = {"patient": patient, "started_at": NOW(), "arrived_at": NOW()}
    refused = desk.post("/api/visits/", body)
    assert refused.status_code == 400
    assert "choose the doctor" in str(refused.json())
    device = Device(api(Role.FRONT_DESK, "desk-per-doctor"))
    device.create("visit", body)
    assert device.push()["results"][0]["status"] == "rejected"


def test_a_patient_moved_to_another_doctor_joins_the_end_of_their_queue(alpha, api):
    """Numbers are per doctor: keeping number 1 of dr A's queue in dr B's would show two patients as
    "1 · dr B" on the display."""
    Clinic.objects.filter(pk=alpha.clinic.pk).update(queue_per_practitioner=True)
    with schema_context(alpha.clinic.schema_name):
        owner = User.objects.get(email=alpha.email(Role.OWNER)).pk
    desk, doctor = api(Role.FRONT_DESK), _doctor_id(alpha)
    patient = str(make_patient(alpha).pk)
    first_of_owner = _check_in(desk, patient, practitioner=owner)
    assert first_of_owner["queue_number"] == 1
    moving = _check_in(desk, patient, practitioner=doctor)
    assert moving["queue_number"] == 1
    moved = desk.patch(f"/api/visits/{moving['id']}/", {"practitioner": owner}).json()
    assert moved["queue_number"] == 2  # the end of the owner's queue, never a second "1"
    same = desk.patch(f"/api/visits/{moving['id']}/", {"chief_complaint": "Pusing"}).json()
    assert same["queue_number"] == 2


def test_a_visit_checked_in_later_gets_a_number_once_and_keeps_it(alpha, api):
    desk = api(Role.FRONT_DESK)
    patient = str(make_patient(alpha).pk)
    first = _check_in(desk, patient)
    visit = desk.post("/api/visits/", {"patient": patient, "started_at": NOW()}).json()
    changed = desk.patch(f"/api/visits/{visit['id']}/", {"arrived_at": NOW(), "chief_complaint": "Demam 3 hari"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["queue_number"] == first["queue_number"] + 1
    again = desk.patch(f"/api/visits/{visit['id']}/", {"arrived_at": NOW()})
    assert again.json()["queue_number"] == first["queue_number"] + 1


def test_two_front_desk_devices_offline_get_unique_numbers_in_their_own_order(alpha, api):
    """Both check patients in with no connection, then sync one after the other: every number once,
    each device's patients in the order it checked them in, and both devices pull the same queue."""
    patients = [str(make_patient(alpha, full_name=f"Pasien {n}").pk) for n in range(6)]
    first, second = Device(api(Role.FRONT_DESK)), Device(api(Role.FRONT_DESK, "second-desk"))
    mine = [
        [device.create("visit", {"patient": patient, "started_at": NOW(), "arrived_at": NOW()}) for patient in chunk]
        for device, chunk in ((first, patients[:3]), (second, patients[3:]))
    ]
    second.push_all()
    first.push_all()
    numbers = [_numbers(alpha, ids) for ids in mine]
    assert sorted(numbers[0] + numbers[1]) == [1, 2, 3, 4, 5, 6]
    for each in numbers:
        assert each == sorted(each)  # the order the device checked them in
    for device in (first, second):
        device.pull()
    queues = [
        {record_id: device.data("visit", record_id)["queue_number"] for ids in mine for record_id in ids}
        for device in (first, second)
    ]
    assert queues[0] == queues[1]
    assert sorted(queues[0].values()) == [1, 2, 3, 4, 5, 6]


def test_the_merge_path_numbers_a_check_in_too(alpha, api):
    desk = Device(api(Role.FRONT_DESK))
    patient = str(make_patient(alpha).pk)
    visit = desk.create("visit", {"patient": patient, "started_at": NOW()})
    desk.sync()
    # The doctor writes the complaint first; the front desk's check-in arrives on an older version and
    # is merged (different fields): it must be numbered as a direct change would be.
    doctor = Device(api(Role.DOCTOR))
    doctor.pull()
    doctor.update("visit", visit, {"chief_complaint": "Batuk pilek"})
    doctor.push_all()
    desk.update("visit", visit, {"arrived_at": NOW()})
    result = desk.push()
    assert result["results"][0]["status"] == "merged", result
    assert _numbers(alpha, [visit]) == [1]


def test_concurrent_check_ins_never_share_a_number(alpha, django_db_blocker):
    """Two writers numbering at the same moment in separate transactions: the counter's row lock
    makes the second wait for the first's commit."""
    day = datetime.datetime(2001, 1, 1, 9, tzinfo=datetime.UTC)  # a day no other test uses
    ready = threading.Barrier(2)
    got: list[int] = []

    def check_in() -> None:
        with django_db_blocker.unblock(), schema_context(alpha.clinic.schema_name):
            try:
                with transaction.atomic():
                    visit = Visit(arrived_at=day)
                    ready.wait(timeout=10)
                    queue.number_visit(visit)
                    got.append(visit.queue_number)
            finally:
                connection.close()

    threads = [threading.Thread(target=check_in) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(got) == 2
    assert got[0] != got[1]
    assert abs(got[0] - got[1]) == 1


# --- who may call, on every path ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.NURSE, Role.DOCTOR, Role.OWNER])
@pytest.mark.parametrize("path", ["rest_create", "rest_update", "sync_create", "sync_update"])
def test_only_clinicians_and_nurses_call_a_patient_in_on_every_path(alpha, api, role, path):
    desk = api(Role.FRONT_DESK)
    patient = str(make_patient(alpha).pk)
    allowed = role != Role.FRONT_DESK
    call = {"called_at": NOW()}
    if path == "rest_create":
        response = api(role).post(
            "/api/visits/", {"patient": patient, "started_at": NOW(), "arrived_at": NOW(), **call}
        )
        assert response.status_code == (201 if allowed else 403), response.content
        if not allowed:
            assert "call patients" in response.json()["detail"]
        return
    visit = _check_in(desk, patient)
    if path == "rest_update":
        response = api(role).patch(f"/api/visits/{visit['id']}/", call)
        assert response.status_code == (200 if allowed else 403), response.content
        return
    caller = Device(api(role, f"caller-{role}"))
    if path == "sync_create":
        caller.create("visit", {"patient": patient, "started_at": NOW(), "arrived_at": NOW(), **call})
    else:
        caller.pull()
        caller.update("visit", visit["id"], call)
    status = caller.push()["results"][0]["status"]
    assert status == ("applied" if allowed else "rejected")


def test_front_desk_marks_a_patient_who_left(alpha, api):
    desk = api(Role.FRONT_DESK)
    visit = _check_in(desk, str(make_patient(alpha).pk))
    response = desk.patch(f"/api/visits/{visit['id']}/", {"left_at": NOW()})
    assert response.status_code == 200
    assert response.json()["left_at"]


def test_a_visit_not_checked_in_cannot_be_called(alpha, api):
    visit = api(Role.FRONT_DESK).post("/api/visits/", {"patient": str(make_patient(alpha).pk), "started_at": NOW()})
    response = api(Role.DOCTOR).patch(f"/api/visits/{visit.json()['id']}/", {"called_at": NOW()})
    assert response.status_code == 400
    assert "Check the patient in first" in str(response.json())


# --- the waiting-room display ----------------------------------------------------------------------------


def _new_display(alpha, label: str = "TV ruang tunggu") -> str:
    owner = login(alpha.host, alpha.email(Role.OWNER))
    response = owner.post("/queue/displays/", {"label": label}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return re.search(r'value="http://alpha\.localhost(/display/[^"]+/)"', response.content.decode()).group(1)


def test_the_display_shows_todays_calls_newest_first_without_names(alpha, api):
    desk, doctor = api(Role.FRONT_DESK), api(Role.DOCTOR)
    first = _check_in(desk, str(make_patient(alpha, full_name="Siti Aminah").pk), practitioner=_doctor_id(alpha))
    second = _check_in(desk, str(make_patient(alpha, full_name="Budi Santoso").pk))
    path = _new_display(alpha)
    screen = host_client(alpha.host)  # a TV: nobody signed in
    page = screen.get(path)
    assert page.status_code == 200
    assert b"Sekarang dipanggil" in page.content
    assert screen.get(path + "calls/").json() == {"calls": []}
    doctor.patch(f"/api/visits/{first['id']}/", {"called_at": NOW()})
    doctor.patch(f"/api/visits/{second['id']}/", {"called_at": NOW()})
    calls = screen.get(path + "calls/").json()["calls"]
    assert [call["number"] for call in calls] == [second["queue_number"], first["queue_number"]]
    with schema_context(alpha.clinic.schema_name):
        assert calls[1]["practitioner"] == User.objects.get(email=alpha.email(Role.DOCTOR)).full_name
    assert calls[0]["practitioner"] == ""  # nobody chosen at check-in
    assert "Siti" not in str(calls)
    assert "Budi" not in str(calls)
    # Call again: the same number comes back to the top with a new key, so the display says it again.
    keys = {call["key"] for call in calls}
    doctor.patch(f"/api/visits/{first['id']}/", {"called_at": NOW()})
    again = screen.get(path + "calls/").json()["calls"]
    assert again[0]["number"] == first["queue_number"]
    assert again[0]["key"] not in keys


def test_first_names_only_where_the_owner_allows(alpha, api):
    Clinic.objects.filter(pk=alpha.clinic.pk).update(display_first_names=True)
    visit = _check_in(api(Role.FRONT_DESK), str(make_patient(alpha, full_name="Siti Aminah Lubis").pk))
    api(Role.NURSE).patch(f"/api/visits/{visit['id']}/", {"called_at": NOW()})
    calls = host_client(alpha.host).get(_new_display(alpha) + "calls/").json()["calls"]
    assert calls[0]["first_name"] == "Siti"
    assert "Lubis" not in str(calls)
    assert "Aminah" not in str(calls)


def test_a_revoked_display_link_stops_at_once(alpha):
    path = _new_display(alpha)
    screen = host_client(alpha.host)
    assert screen.get(path + "calls/").status_code == 200
    with schema_context(alpha.clinic.schema_name):
        link = DisplayLink.objects.get(label="TV ruang tunggu")
    owner = login(alpha.host, alpha.email(Role.OWNER))
    assert owner.post(f"/queue/displays/{link.pk}/revoke/").status_code == 302
    assert screen.get(path + "calls/").status_code == 404
    assert screen.get(path).status_code == 404
    assert screen.get("/display/not-a-real-token/calls/").status_code == 404
    listing = owner.get("/queue/displays/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Revoked" in listing
    assert path not in listing


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.FRONT_DESK])
def test_only_the_owner_manages_display_links(alpha, role):
    staff = login(alpha.host, alpha.email(role))
    assert staff.get("/queue/displays/").status_code == 403
    assert staff.post("/queue/displays/", {"label": "TV"}).status_code == 403
    assert staff.post("/queue/displays/1/revoke/").status_code == 403
    assert host_client(alpha.host).get("/queue/displays/").status_code == 302  # sign in first


def test_a_display_link_shows_only_its_own_clinic(alpha, beta, api):
    path = _new_display(alpha)
    assert host_client(beta.host).get(path + "calls/").status_code == 404
