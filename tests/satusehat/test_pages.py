"""The owner's SATUSEHAT pages: who may open them and send visits again (every role); the connection
form (the client secret never shown back, each field saying where the portal shows it, saving
re-queues the visits that waited, testing it against the stand-in); the clinic's state above the pages
(not connected, credentials refused, SATUSEHAT unreachable: waiting, never counted as failed); the
failures screen (reasons and tries in the reader's language with the old columns as fallback, what to
do, counts, visits per day in the clinic's days, sending again, pages); drug codes (KFA) re-queueing
the visits our checks held back; the export's link shown whole with a copy button; the practitioners'
NIK on the settings page."""

import datetime
import re

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from records import services
from records.models import Visit
from satusehat import secrets
from satusehat.models import Connection, Export, KfaCode, SendEvent, VisitSend
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


def _fail(
    clinic, visit: Visit, code: str, reason: str, *, attempts: int = 1, when=None, texts: dict | None = None
) -> VisitSend:
    when = when or timezone.now()
    with schema_context(clinic.clinic.schema_name):
        VisitSend.objects.filter(pk=visit.pk).update(
            state=VisitSend.State.FAILED,
            reason_code=code,
            reason=reason,
            reason_texts=texts or {},
            attempts=attempts,
            failed_at=when,
            last_attempt_at=when,
        )
        return VisitSend.objects.get(pk=visit.pk)


def _wait(clinic, visit: Visit, code: str, reason: str = "", *, until=None) -> None:
    """The visit queued, waiting for the clinic's connection (not a failure)."""
    with schema_context(clinic.clinic.schema_name):
        VisitSend.objects.filter(pk=visit.pk).update(
            state=VisitSend.State.QUEUED, reason_code=code, reason=reason, next_attempt_at=until
        )


def _connect(clinic) -> None:
    assert _owner(clinic).post("/satusehat/", _form()).status_code == 302


def _hold(clinic, code: str, *, since, until, texts: dict) -> None:
    with schema_context(clinic.clinic.schema_name):
        Connection.objects.update(hold_code=code, hold_since=since, hold_until=until, hold_tries=3, hold_texts=texts)


def _failed_rows(page: str) -> list[str]:
    return re.findall(r'<tr data-visit="([0-9a-f-]+)"', page)


def _count(page: str, key: str) -> int | None:
    found = re.search(rf'<li class="\w+" data-count="{key}"><strong>(\d+)</strong>', page)
    return int(found[1]) if found else None


def _banner(page: str) -> str:
    found = re.search(r'<section class="ss-banner[^"]*" id="clinic-state".*?</section>', page, re.S)
    return found[0] if found else ""


def _written(moment: datetime.datetime, language: str) -> str:
    """How the page writes a time: 7 December 2026, 09:05 WIB / 7 Desember 2026, 09.05 WIB."""
    from django.utils import formats, translation

    with translation.override(language):
        return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


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


@pytest.mark.parametrize("role", [Role.OWNER, Role.DOCTOR, Role.NURSE, Role.FRONT_DESK])
def test_only_the_owner_sees_and_presses_send_again(alpha, role):
    one, two = make_finished_visit(alpha), make_finished_visit(alpha)
    for made in (one, two):
        _fail(alpha, made.visit, "refused", "Ditolak SATUSEHAT")
    client = login(alpha.host, alpha.email(role))
    page = client.get("/satusehat/failures/", HTTP_ACCEPT_LANGUAGE="en")
    single = client.post("/satusehat/failures/retry/", {"visit": str(one.visit.pk)})
    every = client.post("/satusehat/failures/retry/", {"all": "1"})
    with schema_context(alpha.clinic.schema_name):
        states = set(VisitSend.objects.filter(pk__in=[one.visit.pk, two.visit.pk]).values_list("state", flat=True))
    if role == Role.OWNER:
        assert page.status_code == 200
        assert 'id="retry-all"' in page.content.decode()
        assert len(re.findall(r'<button[^>]*data-action="retry"', page.content.decode())) == 2
        assert (single.status_code, every.status_code) == (302, 302)
        assert states == {"queued"}
    else:
        assert (page.status_code, single.status_code, every.status_code) == (403, 403, 403)
        assert "retry-all" not in page.content.decode()
        assert states == {"failed"}


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
    _wait(alpha, made.visit, "not_connected", "SATUSEHAT belum terhubung.")
    before = _owner(alpha).get("/satusehat/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (_count(before, "waiting"), _count(before, "queued")) == (1, 0)
    response = _owner(alpha).post("/satusehat/", _form(), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    page = response.content.decode()
    assert "1 visit that waited for the connection is queued" in page
    # Connected: it no longer waits, it is queued for the worker (which gives it its new reason).
    assert 'id="clinic-state"' not in page
    assert (_count(page, "waiting"), _count(page, "queued")) == (None, 1)
    with schema_context(alpha.clinic.schema_name):
        assert VisitSend.objects.get(pk=made.visit.pk).state == VisitSend.State.QUEUED


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


def test_each_connection_field_says_where_the_portal_shows_it(alpha):
    page = _owner(alpha).get("/satusehat/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    helps = dict(re.findall(r'<label for="id_(\w+)">.*?</label>.*?<small class="help">(.*?)</small>', page, re.S))
    assert set(helps) >= {"environment", "organization_id", "client_id", "client_secret", "location_id"}
    for field in ("organization_id", "client_id", "client_secret"):
        assert "API access codes page" in helps[field], field
    assert "satusehat.kemkes.go.id/platform" in helps["organization_id"]
    assert "IT person or vendor" in helps["location_id"]
    assert 'href="https://satusehat.kemkes.go.id/platform"' in page


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
    assert (_count(page, "queued"), _count(page, "failed")) == (0, 2)
    row = re.search(rf'<tr data-visit="{siti.visit.pk}"[^>]*>(.*?)</tr>', page, re.S)[1]
    assert ">3<" in row  # tries


def test_a_visit_sent_but_for_its_drugs_says_so_and_links_the_drug_codes(alpha):
    made = make_finished_visit(alpha)
    _fail(
        alpha,
        made.visit,
        "no_kfa",
        "Terkirim, kecuali: Paracetamol 500 mg belum punya kode KFA.",
        texts={
            "id": "Terkirim, kecuali: Paracetamol 500 mg belum punya kode KFA.",
            "en": "Sent, except: Paracetamol 500 mg has no KFA code yet.",
        },
    )
    page = _owner(alpha).get("/satusehat/failures/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = re.search(rf'<tr data-visit="{made.visit.pk}" data-reason="no_kfa">(.*?)</tr>', page, re.S)[1]
    assert "Partly sent" in row
    assert "Sent, except: Paracetamol 500 mg has no KFA code yet." in row
    assert 'href="/satusehat/kfa/"' in row


# --- waiting is not failing: the clinic's state ----------------------------------------------------------------


def test_a_clinic_not_connected_shows_its_visits_waiting_not_failed(alpha):
    waiting = [make_finished_visit(alpha) for _ in range(3)]
    failed = make_finished_visit(alpha)
    for made in waiting:
        _wait(alpha, made.visit, "not_connected", "SATUSEHAT belum terhubung.")
    _fail(alpha, failed.visit, "refused", "Ditolak SATUSEHAT")
    owner = _owner(alpha)
    page = owner.get("/satusehat/failures/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _failed_rows(page) == [str(failed.visit.pk)]
    assert (_count(page, "waiting"), _count(page, "failed"), _count(page, "queued")) == (3, 1, 0)
    assert '<span class="ss-badge">1</span>' in page  # the tab counts failures only
    banner = _banner(page)
    assert 'data-state="not_connected"' in banner
    assert "ss-banner waiting" in banner  # amber, not red
    assert "3 finished visits are waiting to be sent" in banner
    assert 'href="/satusehat/"' in banner
    indonesian = owner.get("/satusehat/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert 'data-state="not_connected"' in _banner(indonesian)
    assert 'href="#connection-form"' in _banner(indonesian)


def test_a_new_clinic_with_only_waiting_visits_shows_no_failure(alpha):
    for _ in range(4):
        made = make_finished_visit(alpha)
        _wait(alpha, made.visit, "not_connected")
    page = _owner(alpha).get("/satusehat/failures/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _failed_rows(page) == []
    assert '<span class="ss-badge">' not in page
    assert "retry-all" not in page
    assert _count(page, "failed") == 0
    assert _count(page, "waiting") == 4
    assert "No visit has failed" in page
    assert "ss-banner refused" not in page


def test_a_clinic_whose_credentials_are_refused_says_since_when_and_what_to_do(alpha):
    _connect(alpha)
    for _ in range(2):
        made = make_finished_visit(alpha)
        _wait(alpha, made.visit, "credentials", "SATUSEHAT menolak client ID atau secret klinik.")
    since = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=3)
    texts = {
        "id": "SATUSEHAT menolak client ID atau secret klinik (401).",
        "en": "SATUSEHAT refused the clinic's client ID or secret (401).",
    }
    _hold(alpha, "credentials", since=since, until=timezone.now() + datetime.timedelta(hours=1), texts=texts)
    owner = _owner(alpha)
    for url in ("/satusehat/failures/", "/satusehat/"):
        english = _banner(owner.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
        assert 'class="ss-banner refused"' in english  # red: nothing is sent until the owner acts
        assert 'role="alert"' in english
        assert f"Since {_written(since, 'en')}" in english
        assert "refused the clinic&#x27;s client ID or secret (401)." in english
        assert "2 visits are waiting" in english
        assert "Kode Akses API" in english
        assert "#connection-form" in english
        indonesian = _banner(owner.get(url, HTTP_ACCEPT_LANGUAGE="id").content.decode())
        assert "SATUSEHAT menolak client ID atau secret klinik (401)." in indonesian
        assert _written(since, "id") in indonesian
    page = owner.get("/satusehat/failures/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _failed_rows(page) == []
    assert _count(page, "failed") == 0


def test_a_clinic_that_cannot_reach_satusehat_waits_and_says_when_it_tries_next(alpha):
    _connect(alpha)
    made = make_finished_visit(alpha)
    until = timezone.now().replace(microsecond=0) + datetime.timedelta(minutes=20)
    _wait(alpha, made.visit, "unavailable", "503", until=until)
    since = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=40)
    texts = {"id": "SATUSEHAT menjawab 503.", "en": "SATUSEHAT answered 503."}
    _hold(alpha, "unavailable", since=since, until=until, texts=texts)
    owner = _owner(alpha)
    banner = _banner(owner.get("/satusehat/failures/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert 'class="ss-banner waiting"' in banner  # amber
    assert f"SATUSEHAT has not answered since {_written(since, 'en')}." in banner
    assert "1 visit is waiting" in banner
    assert f"The next try is at {_written(until, 'en')}." in banner
    assert "SATUSEHAT answered 503." in banner
    assert "Nothing to do" in banner
    # Its time come: it is being tried.
    _hold(alpha, "unavailable", since=since, until=timezone.now() - datetime.timedelta(seconds=5), texts=texts)
    banner = _banner(owner.get("/satusehat/failures/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "being tried again now" in banner


def test_a_connected_clinic_without_a_hold_shows_no_banner(alpha):
    _connect(alpha)
    page = _owner(alpha).get("/satusehat/failures/").content.decode()
    assert 'id="clinic-state"' not in page


# --- messages in the reader's language -------------------------------------------------------------------


def test_reasons_and_tries_are_read_in_the_readers_language_with_the_old_text_as_fallback(alpha):
    kept, old = make_finished_visit(alpha), make_finished_visit(alpha)
    _fail(
        alpha,
        kept.visit,
        "patient_unknown",
        "kolom lama",
        texts={"id": "SATUSEHAT tidak mengenal NIK pasien.", "en": "SATUSEHAT does not know the patient's NIK."},
    )
    _fail(alpha, old.visit, "refused", "Ditolak: pesan lama tanpa terjemahan")
    with schema_context(alpha.clinic.schema_name):
        now = timezone.now()
        SendEvent.objects.bulk_create(
            [
                SendEvent(
                    visit_id=kept.visit.pk,
                    at=now - datetime.timedelta(minutes=5),
                    outcome="retry",
                    reason_code="unavailable",
                    message="kolom lama",
                    message_texts={"id": "Waktu habis menunggu SATUSEHAT.", "en": "SATUSEHAT timed out."},
                ),
                SendEvent(visit_id=kept.visit.pk, at=now, outcome="failed", message="Pesan percobaan lama"),
            ]
        )
    owner = _owner(alpha)
    english = owner.get("/satusehat/failures/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    indonesian = owner.get("/satusehat/failures/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "SATUSEHAT does not know the patient&#x27;s NIK." in english
    assert "SATUSEHAT tidak mengenal NIK pasien." in indonesian
    assert "SATUSEHAT timed out." in english
    assert "Waktu habis menunggu SATUSEHAT." in indonesian
    for page in (english, indonesian):
        assert "kolom lama" not in page
        assert "Ditolak: pesan lama tanpa terjemahan" in page  # no texts kept: the old column
        assert "Pesan percobaan lama" in page
    row = re.search(rf'<tr data-visit="{kept.visit.pk}"[^>]*>(.*?)</tr>', english, re.S)[1]
    tries = re.findall(r'<li data-outcome="(\w+)">', row)
    assert tries == ["failed", "retry"]  # newest first


def test_the_last_test_is_read_in_the_readers_language(alpha):
    _connect(alpha)
    with schema_context(alpha.clinic.schema_name):
        Connection.objects.update(
            last_test_at=timezone.now(),
            last_test_ok=False,
            last_test_message="kolom lama",
            last_test_texts={"id": "Client secret salah.", "en": "The client secret is wrong."},
        )
    owner = _owner(alpha)
    english = owner.get("/satusehat/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The client secret is wrong." in english
    assert "Client secret salah." in owner.get("/satusehat/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    with schema_context(alpha.clinic.schema_name):
        Connection.objects.update(last_test_texts={})
    assert "kolom lama" in owner.get("/satusehat/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_visits_are_counted_per_day_for_fourteen_days_once_each(alpha):
    now = timezone.now()
    yesterday = now - datetime.timedelta(days=1)
    with schema_context(alpha.clinic.schema_name):
        one, two = make_finished_visit(alpha).visit.pk, make_finished_visit(alpha).visit.pk
        SendEvent.objects.bulk_create(
            [
                # Today: one visit sent twice (an amendment) is one visit sent; three tries in all.
                SendEvent(visit_id=one, at=now, outcome="sent"),
                SendEvent(visit_id=one, at=now, outcome="sent"),
                SendEvent(visit_id=two, at=now, outcome="sent"),
                # Yesterday: two visits failed, one of them three times over; a try that found it down.
                SendEvent(visit_id=one, at=yesterday, outcome="retry", message="503"),
                SendEvent(visit_id=one, at=yesterday, outcome="failed", reason_code="refused"),
                SendEvent(visit_id=two, at=yesterday, outcome="failed", reason_code="refused"),
                SendEvent(visit_id=two, at=yesterday, outcome="failed", reason_code="refused"),
                SendEvent(visit_id=two, at=yesterday, outcome="failed", reason_code="refused"),
                SendEvent(visit_id=one, at=now - datetime.timedelta(days=20), outcome="sent"),
            ]
        )
    page = _owner(alpha).get("/satusehat/failures/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    days = re.findall(r'<tr data-day="([\d-]+)">', page)
    assert len(days) == 14
    assert days[0] == timezone.localdate().isoformat()
    assert "Visits per day" in page
    assert "Sent and not sent count visits" in page

    def counts(day: datetime.date) -> dict[str, str]:
        row = re.search(rf'<tr data-day="{day.isoformat()}">(.*?)</tr>', page, re.S)[1]
        return dict(re.findall(r'data-count="(\w+)">(\d+)<', row))

    assert counts(timezone.localdate()) == {"sent": "2", "failed": "0", "tries": "3"}
    assert counts(timezone.localdate(yesterday)) == {"sent": "0", "failed": "2", "tries": "5"}


def test_a_day_is_the_clinics_day_not_utcs(alpha):
    """Jakarta is UTC+7: 23:30 there is 16:30 UTC the same day, 00:30 there is 17:30 UTC the day before."""
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    late = datetime.datetime.combine(yesterday, datetime.time(23, 30), tzinfo=zone)
    early = datetime.datetime.combine(today, datetime.time(0, 30), tzinfo=zone)
    assert early.astimezone(datetime.UTC).date() == yesterday
    with schema_context(alpha.clinic.schema_name):
        visit_id = make_finished_visit(alpha).visit.pk
        SendEvent.objects.bulk_create(
            [
                SendEvent(visit_id=visit_id, at=late, outcome="failed", reason_code="refused"),
                SendEvent(visit_id=visit_id, at=early, outcome="sent"),
            ]
        )
    page = _owner(alpha).get("/satusehat/failures/").content.decode()
    today_row = re.search(rf'<tr data-day="{today.isoformat()}">(.*?)</tr>', page, re.S)[1]
    yesterday_row = re.search(rf'<tr data-day="{yesterday.isoformat()}">(.*?)</tr>', page, re.S)[1]
    assert 'data-count="sent">1<' in today_row
    assert 'data-count="failed">0<' in today_row
    assert 'data-count="failed">1<' in yesterday_row
    assert 'data-count="sent">0<' in yesterday_row


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


# --- the export's link ------------------------------------------------------------------------------------


def test_the_export_link_is_shown_whole_with_a_copy_button_and_its_expiry_in_clinic_time(alpha):
    expires = timezone.now().replace(microsecond=0) + datetime.timedelta(hours=24)
    with schema_context(alpha.clinic.schema_name):
        Export.objects.create(state="done", progress=100, size_bytes=2048, file_name="alpha.zip", expires_at=expires)
    page = _owner(alpha).get("/satusehat/export/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    link = re.search(
        r'<code class="ss-link" id="export-link"[^>]*>(http://alpha\.localhost/satusehat/export/[^<]+)</code>', page
    )
    assert link, page[-4000:]
    assert f'href="{link[1]}"' in page
    assert 'id="export-copy"' in page
    assert "Copy link" in page
    assert "navigator.clipboard" in page
    assert f"The link works until {_written(expires, 'en')}" in page
    assert "WIB" in _written(expires, "en")
    assert "<input" not in re.search(r'<section class="card wide" id="export-latest".*?</section>', page, re.S)[0]


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
