"""SATUSEHAT in Chromium: a finished visit's screen says its send state ("SATUSEHAT: Terkirim …",
"Gagal: …" with the reason, front desk's in general words, and offline that it is shown when online);
the owner's SATUSEHAT pages render and can be used on a phone and a laptop, in Indonesian and English.
Screenshots of each go to /tmp/shots_c/ (SHOTS_DIR) for a person to look at.

At a clinic of its own (`pwasatu`), whose records are committed for the live server to see.
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
