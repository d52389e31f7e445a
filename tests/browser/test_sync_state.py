# ruff: noqa: E501  (the JavaScript run in the page keeps its lines whole)
"""The header's sync state, in Chromium, over every combination of changes waiting, refused and in
conflict: it never says "All synced" while anything waits or needs the person, and counts each in
words with the right plural, in English and in Indonesian."""

import itertools

import pytest

from tests.browser.test_offline_sync import go_offline, open_app
from tests.conftest import _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

# Puts the device in a state: `pending` changes in the outbox, `failed` refused, `conflicts` open; then
# a sync attempt (offline, so it fails) counts them again and redraws the header.
SET_STATE = """async ([pending, failed, conflicts]) => {
  const { db } = emr;
  await db.transaction('rw', db.outbox, db.failed, db.conflicts, async () => {
    await Promise.all([db.outbox.clear(), db.failed.clear(), db.conflicts.clear()]);
    const id = () => emr.randomId();
    for (let n = 0; n < pending; n++) await db.outbox.add({ seq: 1000 + n, entity: 'patient', record_id: id(), op: 'update', base_version: 1, fields: { phone: '0812' }, reason: '', at: Date.now() });
    for (let n = 0; n < failed; n++) await db.failed.put({ seq: 2000 + n, entity: 'patient', record_id: id(), op: 'update', base_version: 1, fields: { nik: '123' }, reason: '', errors: { nik: ['A NIK is exactly 16 digits.'] } });
    for (let n = 0; n < conflicts; n++) await db.conflicts.put({ id: id(), entity: 'patient', record_id: id(), field: 'phone', server_value: '0811', device_value: '0812', version: 1 });
  });
  await emr.runSync();
}"""


@pytest.fixture(scope="session")
def state_clinic(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("pwastate", "Klinik PWA State")


def _header(page, pending, failed, conflicts) -> str:
    page.evaluate(SET_STATE, [pending, failed, conflicts])
    page.wait_for_function(
        "([p, f, c]) => !emr.syncing && emr.stats.pending === p && emr.stats.failed === f && emr.stats.conflicts === c",
        arg=[pending, failed, conflicts],
    )
    return page.inner_text("#pending-count")


def test_the_header_never_says_all_synced_while_anything_waits_or_needs_the_person(browser, live_url, state_clinic):
    context, page = open_app(browser, live_url, state_clinic, role="doctor", service_workers="block")
    go_offline(context, page)
    expected_parts = {
        "pending": {1: "1 change waiting", 2: "2 changes waiting"},
        "failed": {1: "1 refused", 3: "3 refused"},
        "conflicts": {1: "1 conflict", 2: "2 conflicts"},
    }
    for pending, failed, conflicts in itertools.product((0, 1, 2), (0, 1, 3), (0, 1, 2)):
        shown = _header(page, pending, failed, conflicts)
        parts = [
            expected_parts[name][count]
            for name, count in (("pending", pending), ("failed", failed), ("conflicts", conflicts))
            if count
        ]
        assert shown == (" · ".join(parts) if parts else "All synced"), (pending, failed, conflicts)
        needs_the_person = bool(failed or conflicts)
        assert (page.get_attribute("#pending-count", "class") == "attention") is needs_the_person
    page.select_option("#language", "id")
    assert _header(page, 1, 2, 1) == "1 perubahan menunggu · 2 ditolak · 1 konflik"
    assert _header(page, 0, 0, 0) == "Semua tersinkron"
    _header(page, 0, 1, 0)
    page.click("#pending-count")  # what needs the person leads to where they act on it
    page.wait_for_url("**#/sync")
    context.close()
