"""A device's first visit: the service worker takes the page without a reload, the header says when the
device is ready to work offline, and from then on the app opens and saves with no connection."""

import pytest

from tests.browser.test_offline_sync import base_url, sign_in, wait_synced
from tests.conftest import _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="session")
def firstload(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("pwafirst", "Klinik Pertama")


def test_the_first_load_is_controlled_at_once_and_works_offline_without_a_reload(browser, live_url, firstload):
    context = browser.new_context(locale="id-ID", viewport={"width": 390, "height": 844}, service_workers="allow")
    context.set_default_timeout(20_000)
    page = sign_in(context, base_url(live_url, firstload), firstload.email("nurse"))
    navigations = page.evaluate("performance.getEntriesByType('navigation').length")
    # No reload: the worker installed after the first sync claims this very page.
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=30_000)
    ready = page.locator("#offline-ready[data-ready='1']")
    ready.wait_for()
    assert ready.inner_text() == "Siap bekerja luring"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == navigations
    assert page.evaluate("emr.rendered") >= 1

    context.set_offline(True)
    page.reload()  # with no connection at all: the app's files come from the worker's cache
    page.wait_for_function("window.emr && emr.ready")
    assert page.locator("#online-state").inner_text() == "Luring"
    page.click("#open-register")
    page.fill("#f-full_name", "Dewi Lestari Luring")
    page.fill("#f-birth_date", "1993-03-21")
    page.select_option("#f-sex", "F")
    page.click("form[data-form=register] button[type=submit]")
    page.wait_for_url("**/app/#/patient/*")
    page.wait_for_function("emr.stats.pending === 1")
    assert page.locator("#pending-count").inner_text() == "1 perubahan menunggu"

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_synced(page)
    context.close()
