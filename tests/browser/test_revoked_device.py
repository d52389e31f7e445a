"""A device the owner revokes while it holds an unsent change: its sign-in ends; signed in again, it
says plainly that it is revoked, stops trying to sync, and keeps the change listed on the Sync page with
a download of everything unsent."""

import json

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from sync.models import Device
from tests.browser.test_offline_sync import base_url, go_offline, go_online, new_device, open_app, save_patient, sign_in
from tests.conftest import PASSWORD, _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="session")
def revoking(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("revokeddev", "Klinik Cabut")


def _revoke_on_the_devices_page(browser, live_url, clinic, device_id: str) -> None:
    context = new_device(browser)
    page = sign_in(context, base_url(live_url, clinic), clinic.email("owner"))
    page.goto(f"{base_url(live_url, clinic)}/devices/")
    page.click(f"tr[data-device='{device_id}'] a[data-action=revoke]")
    expect(page.locator("h1")).to_contain_text("Revoke the device of")
    page.click("#confirm")
    expect(page.locator(f"tr[data-device='{device_id}'] .device-state")).to_contain_text("Revoked on")
    context.close()


def test_a_revoked_device_says_so_stops_and_keeps_its_unsent_change_for_export(browser, live_url, revoking, tmp_path):
    context, page = open_app(browser, live_url, revoking, role="nurse", service_workers="block")
    device_id = page.evaluate("emr.deviceId")
    go_offline(context, page)
    patient_id = save_patient(page, full_name="Rina Luring", birth_date="1991-04-05", sex="F")

    _revoke_on_the_devices_page(browser, live_url, revoking, device_id)
    with schema_context(revoking.clinic.schema_name):
        assert Device.objects.get(pk=device_id).revoked_at is not None

    # Revoking ended the device's sign-in: back online, it finds itself signed out, its change kept.
    go_online(context, page)
    page.evaluate("emr.runSync()")
    page.wait_for_function("emr.problem === 'signed_out'")
    assert page.evaluate("emr.stats.pending") == 1
    # Signed in again on it, it is told it is revoked (at its first sync, or the one asked for here).
    sync_requests = []
    page.on("request", lambda request: "/api/sync/" in request.url and sync_requests.append(request.url))
    page.goto(f"{base_url(live_url, revoking)}/accounts/login/?next=/app/")
    page.fill("input[name=login]", revoking.email("nurse"))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/app/**")
    page.wait_for_function("window.emr && emr.ready")
    assert page.evaluate("emr.deviceId") == device_id
    page.evaluate("emr.runSync()")
    notice = page.locator("[data-notice=session]")
    expect(notice).to_contain_text("This device was revoked by the clinic\u2019s owner")
    expect(notice).to_contain_text("download them")
    expect(page.locator("#online-state")).to_have_text("Revoked")

    # Sync stops trying: another run (a save, the timer, the button) sends nothing.
    sent = len(sync_requests)
    assert sent >= 1
    page.evaluate("emr.runSync()")
    page.click("#sync-now")
    page.evaluate("emr.runSync()")
    assert len(sync_requests) == sent
    assert page.evaluate("emr.stats.pending") == 1

    page.click("#open-sync")
    expect(page.locator("#unsynced-list")).to_contain_text("Rina Luring")
    expect(page.locator("#revoked-notice")).to_be_visible()
    with page.expect_download() as download_info:
        page.click("#export-unsynced")
    download = download_info.value
    assert download.suggested_filename.startswith("perubahan-belum-terkirim-revokeddev-")
    path = tmp_path / "unsent.json"
    download.save_as(path)
    exported = json.loads(path.read_text())
    assert exported["device_id"] == device_id
    [change] = [m for m in exported["outbox"] if m["entity"] == "patient"]
    assert change["record_id"] == patient_id
    assert change["fields"]["full_name"] == "Rina Luring"
    context.close()
