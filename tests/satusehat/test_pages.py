"""The owner's SATUSEHAT pages: who may open them; the connection form (the client secret never shown
back, saving re-queues the visits that waited, testing it against the stand-in); the failures screen
(reasons with what to do, counts, tries per day, sending again, pages); drug codes (KFA) re-queueing
the visits our checks held back; the practitioners' NIK on the settings page."""

import datetime
import re

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from records import services
from records.models import Visit
from satusehat import secrets
from satusehat.models import Connection, KfaCode, SendEvent, VisitSend
from tenants.accounts.models import Role, User
from tests.conftest import host_client, login, user_in
from tests.satusehat.factories import actor_of, make_finished_visit
from tests.satusehat.standin import CLIENT_ID, CLIENT_SECRET, LOCATION_ID, ORGANIZATION_ID, satusehat_standin

pytestmark = pytest.mark.django_db
__all__ = ["satusehat_standin"]  # the stand-in's fixture, used here

PAGES = ["/satusehat/", "/satusehat/failures/", "/satusehat/kfa/", "/satusehat/export/"]
POSTS = ["/satusehat/", "/satusehat/test/", "/satusehat/failures/retry/", "/satusehat/kfa/", "/satusehat/export/"]
SECRET = "Rahasia-Klinik-Sehat-Sentosa-7f9a2c"  # distinctive: searched for in every page


def _owner(clinic):
    return login(clinic.host, clinic.email(Role.OWNER))


def _form(**overrides: str) -> dict[str, str]:
    return {
        "environment": "sandbox",
        "organization_id": ORGANIZATION_ID,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "location_id": LOCATION_ID,
        "location_name": "Poli Umum, Lantai 1",
        **overrides,
    }


def _fail(clinic, visit: Visit, code: str, reason: str, *, attempts: int = 1, when=None) -> VisitSend:
    when = when or timezone.now()
    with schema_context(clinic.clinic.schema_name):
        VisitSend.objects.filter(pk=visit.pk).update(
            state=VisitSend.State.FAILED,
            reason_code=code,
            reason=reason,
            attempts=attempts,
            failed_at=when,
            last_attempt_at=when,
        )
        return VisitSend.objects.get(pk=visit.pk)


# --- who may open them ----------------------------------------------------------------------------


def test_owners_open_every_page(alpha):
    owner = _owner(alpha)
    for page in PAGES:
        assert owner.get(page).status_code == 200, page


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.FRONT_DESK])
def test_other_roles_are_refused(alpha, role):
    client = login(alpha.host, alpha.email(role))
    for page in PAGES:
        assert client.get(page).status_code == 403, page
    for page in POSTS:
        assert client.post(page, _form()).status_code == 403, page
    with schema_context(alpha.clinic.schema_name):
        assert not Connection.objects.exists()


def test_visitors_are_sent_to_sign_in(alpha):
    visitor = host_client(alpha.host)
    for page in PAGES:
        response = visitor.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/accounts/login/"), page


def test_another_clinics_owner_reaches_nothing_here(alpha, beta):
    make_finished_visit(alpha)
    beta_owner = _owner(beta)
    for page in PAGES:
        response = beta_owner.get(page, HTTP_HOST=alpha.host)
        assert response.status_code == 302, page  # their session means nothing at alpha's host
    # At their own host they see their own clinic: none of alpha's drugs.
    assert "Oralit" not in beta_owner.get("/satusehat/kfa/").content.decode()


def test_the_owners_menu_links_the_pages(alpha):
    page = _owner(alpha).get("/").content.decode()
    assert 'href="/satusehat/"' in page
    assert 'href="/satusehat/export/"' in page
    doctor_page = login(alpha.host, alpha.email(Role.DOCTOR)).get("/").content.decode()
    assert 'href="/satusehat/"' not in doctor_page


# --- the connection ---------------------------------------------------------------------------------


def test_saving_the_connection_stores_the_secret_encrypted_and_never_shows_it(alpha):
    owner = _owner(alpha)
    response = owner.post("/satusehat/", _form())
    assert response.status_code == 302, response.content.decode()[:3000]
    with schema_context(alpha.clinic.schema_name):
        row = Connection.objects.get()
        assert SECRET not in row.client_secret_encrypted
        assert secrets.decrypt(row.client_secret_encrypted) == SECRET
        assert (row.organization_id, row.client_id, row.location_id) == (ORGANIZATION_ID, CLIENT_ID, LOCATION_ID)
    for page in PAGES:
        html = owner.get(page, follow=True).content.decode()
        assert SECRET not in html, page
    page = owner.get("/satusehat/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "tersimpan" in page
    assert re.search(r'<input type="password" name="client_secret"(?![^>]*value=)', page)


def test_a_blank_secret_keeps_the_stored_one_and_a_refused_form_does_not_echo_it(alpha):
    owner = _owner(alpha)
    assert owner.post("/satusehat/", _form()).status_code == 302
    kept = owner.post("/satusehat/", _form(client_secret="", location_name="Poli Gigi"))
    assert kept.status_code == 302
    with schema_context(alpha.clinic.schema_name):
        row = Connection.objects.get()
        assert secrets.decrypt(row.client_secret_encrypted) == SECRET
        assert row.location_name == "Poli Gigi"
    refused = owner.post("/satusehat/", _form(client_secret=SECRET + "-baru", organization_id="100 026 489"))
    assert refused.status_code == 400
    assert SECRET not in refused.content.decode()
    with schema_context(alpha.clinic.schema_name):
        assert secrets.decrypt(Connection.objects.get().client_secret_encrypted) == SECRET


def test_the_first_save_needs_a_secret(alpha):
    response = _owner(alpha).post("/satusehat/", _form(client_secret=""), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Enter the client secret" in response.content.decode()


def test_saving_queues_the_visits_that_waited_for_the_connection(alpha):
    made = make_finished_visit(alpha)
    _fail(alpha, made.visit, "not_connected", "SATUSEHAT belum terhubung.")
    response = _owner(alpha).post("/satusehat/", _form(), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "1 visit that waited for the connection is queued" in response.content.decode()
    with schema_context(alpha.clinic.schema_name):
        send = VisitSend.objects.get(pk=made.visit.pk)
        assert send.state == VisitSend.State.QUEUED
        assert send.reason_code == ""


def test_testing_the_connection_says_what_happened(alpha, satusehat_standin):
    owner = _owner(alpha)
    assert owner.post("/satusehat/", _form(client_secret=CLIENT_SECRET)).status_code == 302
    page = owner.post("/satusehat/test/", HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert "sign-in works" in page
    assert 'id="last-test"' in page
    assert "✓" in page
    with schema_context(alpha.clinic.schema_name):
        row = Connection.objects.get()
        assert row.last_test_ok is True
        assert row.last_test_at is not None
    # A wrong secret: said plainly, recorded, and the secret is nowhere on the page.
    assert owner.post("/satusehat/", _form(client_secret=SECRET)).status_code == 302
    page = owner.post("/satusehat/test/", HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert "✗" in page
    assert SECRET not in page
    assert CLIENT_SECRET not in page
    with schema_context(alpha.clinic.schema_name):
        assert Connection.objects.get().last_test_ok is False


# --- failures -----------------------------------------------------------------------------------------


def test_the_failures_screen_shows_each_visit_with_its_reason_and_what_to_do(alpha):
    siti = make_finished_visit(alpha)
    budi = make_finished_visit(
        alpha, patient={"full_name": "Budi Santoso", "nik": "", "sex": "M", "birth_date": "1985-06-12"}
    )
    _fail(alpha, siti.visit, "refused", "Encounter.period.start: tanggal tidak valid", attempts=3)
    _fail(alpha, budi.visit, "no_nik", "Pasien belum punya NIK. Isi NIK pasien di data pasien.")
    page = _owner(alpha).get("/satusehat/failures/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in ("Siti Rahmawati", siti.patient.medical_record_number, "Encounter.period.start: tanggal tidak valid"):
        assert text in page
    assert "Budi Santoso" in page
    assert f'href="/app/#/patient/{budi.patient.pk}"' in page
    assert re.search(r'id="send-counts".*?<strong>0</strong>queued.*?<strong>2</strong>not sent', page, re.S)
    row = re.search(rf'<tr data-visit="{siti.visit.pk}">(.*?)</tr>', page, re.S)[1]
    assert ">3<" in row  # tries


def test_tries_are_counted_per_day_for_fourteen_days(alpha):
    now = timezone.now()
    yesterday = now - datetime.timedelta(days=1)
    with schema_context(alpha.clinic.schema_name):
        visit_id = make_finished_visit(alpha).visit.pk
        SendEvent.objects.bulk_create(
            [
                SendEvent(visit_id=visit_id, at=now, outcome="sent"),
                SendEvent(visit_id=visit_id, at=now, outcome="sent"),
                SendEvent(visit_id=visit_id, at=yesterday, outcome="retry", message="503"),
                SendEvent(visit_id=visit_id, at=yesterday, outcome="failed", reason_code="refused"),
                SendEvent(visit_id=visit_id, at=now - datetime.timedelta(days=20), outcome="sent"),
            ]
        )
    page = _owner(alpha).get("/satusehat/failures/").content.decode()
    days = re.findall(r'<tr data-day="([\d-]+)">', page)
    assert len(days) == 14
    assert days[0] == timezone.localdate().isoformat()

    def counts(day: datetime.date) -> dict[str, str]:
        row = re.search(rf'<tr data-day="{day.isoformat()}">(.*?)</tr>', page, re.S)[1]
        return dict(re.findall(r'data-count="(\w+)">(\d+)<', row))

    assert counts(timezone.localdate()) == {"sent": "2", "failed": "0", "retried": "0"}
    assert counts(timezone.localdate(yesterday)) == {"sent": "0", "failed": "1", "retried": "1"}


def test_send_again_queues_one_visit_or_all(alpha):
    one, two, three = (make_finished_visit(alpha) for _ in range(3))
    for made in (one, two, three):
        _fail(alpha, made.visit, "refused", "Ditolak SATUSEHAT")
    owner = _owner(alpha)
    response = owner.post("/satusehat/failures/retry/", {"visit": str(one.visit.pk)}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    with schema_context(alpha.clinic.schema_name):
        states = dict(VisitSend.objects.values_list("visit_id", "state"))
    assert states[one.visit.pk] == "queued"
    assert states[two.visit.pk] == states[three.visit.pk] == "failed"
    page = owner.post("/satusehat/failures/retry/", {"all": "1"}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "2 visits are queued to be sent again." in page.content.decode()
    with schema_context(alpha.clinic.schema_name):
        assert set(VisitSend.objects.values_list("state", flat=True)) == {"queued"}
        from django_tasks_db.models import DBTaskResult

        tasks = DBTaskResult.objects.filter(task_path="satusehat.tasks.send_visit")
        assert tasks.filter(args_kwargs__args=[str(two.visit.pk)]).count() >= 2  # finished, then again


def test_send_again_wants_a_post_with_the_csrf_token(alpha):
    client = _owner(alpha)
    client.handler.enforce_csrf_checks = True
    assert client.get("/satusehat/failures/retry/").status_code == 405
    assert client.post("/satusehat/failures/retry/", {"all": "1"}).status_code == 403


def test_thousands_of_failures_come_page_by_page(alpha):
    made = make_finished_visit(alpha)
    with schema_context(alpha.clinic.schema_name):
        now = timezone.now()
        patient = made.patient
        actor = actor_of(alpha, Role.DOCTOR)
        visits = [
            services.record_create(
                entity="visit", actor=actor, data={"patient": str(patient.pk), "started_at": now.isoformat()}
            )
            for _ in range(55)
        ]
        VisitSend.objects.bulk_create(
            [
                VisitSend(
                    visit_id=visit.pk,
                    state="failed",
                    reason_code="refused",
                    reason=f"Ditolak {index}",
                    queued_at=now,
                    failed_at=now - datetime.timedelta(minutes=index),
                )
                for index, visit in enumerate(visits)
            ]
        )
    owner = _owner(alpha)
    first = owner.get("/satusehat/failures/").content.decode()
    assert first.count("<tr data-visit=") == 50
    assert "Ditolak 0<" in first
    assert "Ditolak 54<" not in first
    second = owner.get("/satusehat/failures/?page=2").content.decode()
    assert second.count("<tr data-visit=") == 5
    assert "Ditolak 54<" in second
    assert owner.get("/satusehat/failures/?page=zzz").status_code == 200


# --- drug codes -----------------------------------------------------------------------------------


def test_drugs_are_listed_folded_most_prescribed_first(alpha):
    make_finished_visit(alpha)
    make_finished_visit(
        alpha,
        prescriptions=[{"drug": "  PARACETAMOL   500 mg ", "dose": "500 mg", "frequency": "3x sehari"}],
        diagnoses=[{"code": "J06.9"}],
    )
    page = _owner(alpha).get("/satusehat/kfa/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    drugs = re.findall(r'<tr data-drug="([^"]+)">', page)
    assert drugs == ["paracetamol 500 mg", "oralit 200 ml"]
    assert "2 times" in page
    assert "2 without a code" in page


def test_setting_a_code_requeues_the_visits_our_checks_held_back(alpha):
    made = make_finished_visit(alpha)
    _fail(alpha, made.visit, "invalid", "Oralit 200 ml: belum ada kode KFA.")
    other = make_finished_visit(alpha)
    _fail(alpha, other.visit, "no_nik", "Pasien belum punya NIK.")
    response = _owner(alpha).post(
        "/satusehat/kfa/",
        {"drug": "Oralit 200 ml", "code": "9300 1428", "display": "Oralit 200 ml Serbuk untuk Larutan Oral"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "1 visit SATUSEHAT could not take is queued to be sent again." in response.content.decode()
    with schema_context(alpha.clinic.schema_name):
        code = KfaCode.objects.get(drug="oralit 200 ml")
        assert (code.code, code.display) == ("93001428", "Oralit 200 ml Serbuk untuk Larutan Oral")
        assert VisitSend.objects.get(pk=made.visit.pk).state == "queued"
        assert VisitSend.objects.get(pk=other.visit.pk).state == "failed"
    page = _owner(alpha).get("/satusehat/kfa/").content.decode()
    assert 'value="93001428"' in page


@pytest.mark.parametrize("code", ["9300142", "93001428A", "1" * 21, ""])
def test_a_code_that_is_not_8_to_20_digits_is_refused(alpha, code):
    make_finished_visit(alpha)
    response = _owner(alpha).post(
        "/satusehat/kfa/",
        {"drug": "oralit 200 ml", "code": code, "display": "Oralit"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "A KFA code is 8 to 20 digits" in page or "This field is required" in page
    with schema_context(alpha.clinic.schema_name):
        assert not KfaCode.objects.exists()


# --- practitioners' NIK on the settings page ---------------------------------------------------------------


def _settings_form(alpha, **niks: str) -> dict[str, str]:
    data = {"name": "Klinik Alpha", "address": "", "phone": "", "licence_number": ""}
    for role, nik in niks.items():
        data[f"nik_{user_in(alpha, alpha.email(role)).pk}"] = nik
    return data


def test_the_owner_sets_practitioners_niks_on_the_settings_page(alpha):
    owner = _owner(alpha)
    page = owner.get("/settings/").content.decode()
    for role in (Role.OWNER, Role.DOCTOR, Role.NURSE):
        assert f'name="nik_{user_in(alpha, alpha.email(role)).pk}"' in page
    assert f'name="nik_{user_in(alpha, alpha.email(Role.FRONT_DESK)).pk}"' not in page
    response = owner.post("/settings/", _settings_form(alpha, doctor="3174 0112 0380 0002", nurse="3273015503920001"))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert user_in(alpha, alpha.email(Role.DOCTOR)).nik == "3174011203800002"
    assert user_in(alpha, alpha.email(Role.NURSE)).nik == "3273015503920001"


@pytest.mark.parametrize("nik", ["317401120380000", "31740112038000021", "3174O11203800002"])
def test_a_nik_that_is_not_16_digits_is_refused_and_nothing_is_saved(alpha, nik):
    response = _owner(alpha).post("/settings/", _settings_form(alpha, doctor=nik), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "A NIK is exactly 16 digits" in response.content.decode()
    with schema_context(alpha.clinic.schema_name):
        assert User.objects.get(email=alpha.email(Role.DOCTOR)).nik == ""
