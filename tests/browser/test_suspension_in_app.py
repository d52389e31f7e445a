"""A clinic suspended while its staff work: the app says so once, naming the clinic and that nothing was
lost, never "sign in again"; the header no longer says online; the device keeps its changes and sends
them when the clinic is reactivated."""

import pytest

from tenants.models import Clinic
from tenants.services import clinic_set_status
from tests.browser.test_offline_sync import base_url, committed, save_patient, sign_in, wait_synced
from tests.conftest import _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="session")
def delta(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("pwasuspend", "Klinik Harapan Sehat")


def _set(delta, django_db_blocker, status):
    """Committed at once, as an operator's click is, so the live server sees it."""
    committed(
        django_db_blocker,
        lambda: clinic_set_status(
            clinic=Clinic.objects.get(pk=delta.clinic.pk), status=status, operator_email="op@test"
        ),
    )


@pytest.mark.parametrize(("locale", "words"), [("id-ID", "tidak ada yang hilang"), ("en-US", "nothing was lost")])
def test_a_suspended_clinic_is_said_once_by_name_and_its_changes_wait(
    browser, live_url, delta, django_db_blocker, locale, words
):
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844}, service_workers="block")
    context.set_default_timeout(20_000)
    page = sign_in(context, base_url(live_url, delta), delta.email("doctor"))
    _set(delta, django_db_blocker, Clinic.Status.SUSPENDED)
    try:
        patient = save_patient(page, full_name="Agus Salim", birth_date="1975-06-01", sex="M")
        page.wait_for_function("emr.problem === 'suspended'")
        notices = page.locator("#notices")
        text = notices.inner_text()
        assert "Klinik Harapan Sehat" in text
        assert words in text
        assert page.locator("[data-notice=session]").count() == 1
        assert "sign in" not in text.lower()
        assert "masuk lagi" not in text.lower()
        state = page.locator("#online-state").inner_text()
        assert state in ("Klinik ditangguhkan", "Clinic suspended")
        assert page.evaluate("emr.stats.pending") == 1
    finally:
        _set(delta, django_db_blocker, Clinic.Status.ACTIVE)
    page.evaluate("emr.runSync()")
    wait_synced(page)
    assert page.evaluate(f"emr.db.records.get('{patient}').then((r) => Boolean(r.server))")
    assert page.locator("[data-notice=session]").count() == 0
    context.close()
