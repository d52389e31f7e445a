"""SATUSEHAT in Chromium: a finished visit's screen says its send state ("SATUSEHAT: Terkirim …",
"Gagal: …" with the reason in red, front desk's in general words, "Menunggu: …" in amber for a visit
waiting for the clinic's connection, and offline that it is shown when online); the owner's SATUSEHAT
pages render and can be used on a phone and a laptop, in Indonesian and English, the export's link
copied by its button (or selected where the browser gives no clipboard). Screenshots of each go to
/tmp/shots_c/ (SHOTS_DIR) for a person to look at.

At clinics of their own (`pwasatu`, and `pwatunggu` never connected), whose records are committed for
the live server to see.
"""

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from satusehat.export import build_export
from satusehat.models import Export, VisitSend
from tests.browser.test_offline_sync import PHONE, committed, go_offline, go_online, phone, sign_in
from tests.conftest import _make_clinic
from tests.satusehat.factories import make_finished_visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots_c"))
LAPTOP = {"width": 1280, "height": 800}
REFUSAL = "Paracetamol 500 mg: belum ada kode KFA. Petakan obat ini di halaman Kode obat KFA."
REFUSAL_EN = "Paracetamol 500 mg: no KFA code yet. Map this drug on the KFA drug codes page."


@pytest.fixture(scope="session")
def satu(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("pwasatu", "Klinik Sehat Sentosa")


@pytest.fixture(scope="session")
def sent_and_failed(satu, django_db_blocker):
    """Two finished visits of Siti Rahmawati, one sent to SATUSEHAT, one refused for a drug's code."""

    def make():
        sent = make_finished_visit(satu).visit
        failed = make_finished_visit(satu).visit
        at = timezone.now() - datetime.timedelta(minutes=5)
        VisitSend.objects.filter(pk=sent.pk).update(state="sent", sent=1, sent_at=at, attempts=1)
        VisitSend.objects.filter(pk=failed.pk).update(
            state="failed", reason_code="invalid", reason=REFUSAL, attempts=1, failed_at=at, last_attempt_at=at
        )
        return str(sent.pk), str(failed.pk)

    return committed(django_db_blocker, make, satu.clinic.schema_name)


@pytest.fixture(scope="session")
def tunggu(platform_world, django_db_blocker):
    """A clinic never connected to SATUSEHAT."""
    with django_db_blocker.unblock():
        return _make_clinic("pwatunggu", "Klinik Tunggu Sehat")


@pytest.fixture(scope="session")
def waiting_and_failed(tunggu, django_db_blocker):
    """At the clinic never connected: a visit waiting for the connection, and one SATUSEHAT refused
    earlier (kept in both languages)."""

    def make():
        waiting = make_finished_visit(tunggu).visit
        failed = make_finished_visit(tunggu).visit
        at = timezone.now() - datetime.timedelta(minutes=5)
        VisitSend.objects.filter(pk=waiting.pk).update(
            state="queued", reason_code="not_connected", reason="SATUSEHAT belum terhubung."
        )
        VisitSend.objects.filter(pk=failed.pk).update(
            state="failed",
            reason_code="invalid",
            reason=REFUSAL,
            reason_texts={"id": REFUSAL, "en": REFUSAL_EN},
            attempts=1,
            failed_at=at,
            last_attempt_at=at,
        )
        return str(waiting.pk), str(failed.pk)

    return committed(django_db_blocker, make, tunggu.clinic.schema_name)


AMBER = "rgb(180, 83, 9)"  # the app's --warn
RED = "rgb(185, 28, 28)"  # the app's --bad


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _open_visit(page, visit_id: str) -> None:
    page.evaluate("(id) => { window.location.hash = `#/visit/${id}`; }", visit_id)
    expect(page.locator(f'[data-visit="{visit_id}"]')).to_be_visible()


def test_a_finished_visit_says_its_satusehat_state(browser, live_url, satu, sent_and_failed):
    sent, failed = sent_and_failed
    context, page = phone(browser, live_url, satu, "doctor")
    try:
        _open_visit(page, sent)
        line = page.locator("#satusehat-line")
        expect(line).to_have_attribute("data-state", "sent")
        expect(line).to_contain_text("SATUSEHAT: Terkirim")
        _shot(page, "visit-sent-id-390")
        _open_visit(page, failed)
        expect(line).to_have_attribute("data-state", "failed")
        expect(line).to_contain_text(f"SATUSEHAT: Gagal: {REFUSAL}")
        _shot(page, "visit-failed-id-390")
        go_offline(context, page)
        _open_visit(page, sent)
        expect(page.locator("#satusehat-line")).to_contain_text("statusnya ditampilkan saat daring")
        _shot(page, "visit-offline-id-390")
        go_online(context, page)
    finally:
        context.close()


def test_front_desk_reads_the_state_without_drug_names(browser, live_url, satu, sent_and_failed):
    _, failed = sent_and_failed
    context, page = phone(browser, live_url, satu, "frontdesk", locale="en-US")
    try:
        _open_visit(page, failed)
        line = page.locator("#satusehat-line")
        expect(line).to_contain_text("SATUSEHAT: Failed: SATUSEHAT did not take the visit")
        assert "Paracetamol" not in line.inner_text()
        _shot(page, "visit-failed-frontdesk-en-390")
    finally:
        context.close()


@pytest.mark.parametrize(
    ("locale", "waits", "fails"), [("id-ID", "Menunggu: ", "Gagal: "), ("en-US", "Waiting: ", "Failed: ")]
)
def test_a_visit_waiting_for_the_connection_reads_amber_a_failed_one_red(
    browser, live_url, tunggu, waiting_and_failed, locale, waits, fails
):
    waiting, failed = waiting_and_failed
    context, page = phone(browser, live_url, tunggu, "nurse", locale=locale)
    lang = locale[:2]
    try:
        _open_visit(page, waiting)
        line = page.locator("#satusehat-line")
        expect(line).to_have_attribute("data-state", "waiting")
        expect(line).to_contain_text(f"SATUSEHAT: {waits}")
        expect(line).not_to_contain_text(fails)
        assert line.evaluate("(el) => getComputedStyle(el).color") == AMBER
        _shot(page, f"visit-waiting-nurse-{lang}-390")
        _open_visit(page, failed)
        expect(line).to_have_attribute("data-state", "failed")
        expect(line).to_contain_text(f"SATUSEHAT: {fails}{REFUSAL if lang == 'id' else REFUSAL_EN}")
        assert line.evaluate("(el) => getComputedStyle(el).color") == RED
        _shot(page, f"visit-failed-nurse-{lang}-390")
    finally:
        context.close()


def test_the_owner_of_a_clinic_not_connected_sees_waiting_not_failures(browser, live_url, tunggu, waiting_and_failed):
    context = browser.new_context(locale="en-US", viewport=PHONE, service_workers="block")
    context.set_default_timeout(20_000)
    try:
        page = sign_in(context, live_url.format("pwatunggu."), tunggu.email("owner"))
        page.goto(f"{live_url.format('pwatunggu.')}/satusehat/failures/")
        banner = page.locator("#clinic-state")
        expect(banner).to_have_attribute("data-state", "not_connected")
        expect(banner).to_contain_text("visit is waiting to be sent")
        expect(page.locator("tr[data-visit]")).to_have_count(1)
        expect(page.locator(f'tr[data-visit="{waiting_and_failed[1]}"]')).to_contain_text(REFUSAL_EN)
        _shot(page, "failures-not-connected-en-390")
        page.click("#connect-link")
        page.wait_for_url("**/satusehat/")
        expect(page.locator("#connection-form")).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["id-ID", "en-US"])
def test_the_owner_finds_satusehat_and_the_export_in_the_apps_menu_on_a_phone(browser, live_url, satu, locale):
    """In Indonesian the bar wraps and the menu's button sits at the left edge: the opened menu must
    still lie on the screen, every link whole."""
    context, page = phone(browser, live_url, satu, "owner", locale=locale)
    try:
        page.click("#menu summary")
        for name in ("SATUSEHAT", "Ekspor data klinik" if locale == "id-ID" else "Export clinic data"):
            link = page.get_by_role("link", name=name)
            expect(link).to_be_visible()
            box = link.bounding_box()
            assert box["x"] >= 0, f"{name} starts off the screen"
            assert box["x"] + box["width"] <= PHONE["width"], f"{name} ends off the screen"
        _shot(page, f"app-menu-{locale[:2]}-390")
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["id-ID", "en-US"])
@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1280"])
def test_the_owners_satusehat_pages_render(
    browser, live_url, satu, sent_and_failed, locale, viewport, django_db_blocker
):
    context = browser.new_context(locale=locale, viewport=viewport, service_workers="block")
    context.set_default_timeout(20_000)
    lang = locale[:2]
    width = viewport["width"]
    try:
        page = sign_in(context, live_url.format("pwasatu."), satu.email("owner"))
        base = live_url.format("pwasatu.")
        page.goto(f"{base}/satusehat/")
        expect(page.locator("h1")).to_have_text("SATUSEHAT")
        page.fill("#id_organization_id", "100026489")
        page.fill("#id_client_id", "kVu9Xq2Lw8HnT3bYc1RfPz7AsD4gEjMk")
        page.fill("#id_client_secret", "Rahasia-Browser-Sentosa-41")
        page.fill("#id_location_id", "ef011065-38c9-46f8-9c35-d1fe68966a3e")
        page.fill("#id_location_name", "Poli Umum, Lantai 1")
        page.click("#save-connection")
        expect(page.locator("#secret-stored")).to_be_visible()
        assert "Rahasia-Browser-Sentosa-41" not in page.content()
        _shot(page, f"connection-{lang}-{width}")

        page.goto(f"{base}/satusehat/failures/")
        expect(page.locator(f'tr[data-visit="{sent_and_failed[1]}"]')).to_contain_text("Siti Rahmawati")
        expect(page.locator("#retry-all")).to_be_visible()
        _shot(page, f"failures-{lang}-{width}")

        page.goto(f"{base}/satusehat/kfa/")
        expect(page.locator('tr[data-drug="paracetamol 500 mg"]')).to_be_visible()
        _shot(page, f"kfa-{lang}-{width}")

        page.goto(f"{base}/satusehat/export/")
        page.click("#export-start")
        expect(page.locator("#export-latest")).to_have_attribute("data-state", "queued")
        _shot(page, f"export-progress-{lang}-{width}")

        def build() -> None:
            build_export(Export.objects.order_by("-requested_at").first().id)

        committed(django_db_blocker, build, satu.clinic.schema_name)
        expect(page.locator("#export-download")).to_be_visible()  # the page refreshes by itself
        _shot(page, f"export-ready-{lang}-{width}")
        link = page.locator("#export-link")
        url = link.inner_text().strip()
        assert url.startswith(base + "/satusehat/export/")
        box = link.bounding_box()
        assert box["x"] + box["width"] <= width, "the link runs off the screen"
        assert link.evaluate("(el) => el.scrollWidth <= el.clientWidth"), "the link is cut off"
        expect(page.locator("#export-expires")).to_contain_text("WIB")
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        page.click("#export-copy")
        expect(page.locator("#export-copy-status")).not_to_be_empty()
        assert page.evaluate("navigator.clipboard.readText()") == url
        _shot(page, f"export-copied-{lang}-{width}")
        with page.expect_download() as download:
            page.click("#export-download")
        assert download.value.suggested_filename.startswith("pwasatu-")
        for button in page.locator("main button, .ss-tabs a").all():
            if button.is_visible():
                box = button.bounding_box()
                assert box["height"] >= 43, button.inner_text()
                assert box["x"] >= 0, button.inner_text()
                assert box["x"] + box["width"] <= width + 1, button.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()


def test_without_a_clipboard_the_export_link_is_selected_to_copy(browser, live_url, satu, django_db_blocker):
    """A browser that gives the page no clipboard (an http address that is not this machine's): the
    button selects the whole link and says how to copy it."""
    context = browser.new_context(locale="en-US", viewport=PHONE, service_workers="block")
    context.set_default_timeout(20_000)
    context.add_init_script("Object.defineProperty(navigator, 'clipboard', { value: undefined });")
    base = live_url.format("pwasatu.")

    def ready_export() -> None:
        Export.objects.filter(state__in=["queued", "running"]).update(state="failed")
        Export.objects.create(
            state="done",
            progress=100,
            size_bytes=1024,
            file_name="pwasatu-copy.zip",
            expires_at=timezone.now() + datetime.timedelta(hours=24),
        )

    committed(django_db_blocker, ready_export, satu.clinic.schema_name)
    try:
        page = sign_in(context, base, satu.email("owner"))
        page.goto(f"{base}/satusehat/export/")
        url = page.locator("#export-link").inner_text().strip()
        page.click("#export-copy")
        expect(page.locator("#export-copy-status")).not_to_be_empty()
        assert page.evaluate("window.getSelection().toString()").strip() == url
        _shot(page, "export-selected-en-390")
    finally:
        context.close()
