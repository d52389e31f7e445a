# ruff: noqa: E501  (the JavaScript run in the page keeps its lines whole)
"""In Chromium: what once stopped a device's sync for good no longer does. A note holding half an emoji
(what `.slice()` leaves of one) is refused with a reason the person can act on, an outbox far over the
server's body limit goes up in batches the server takes, and the changes after both reach the server.

At a clinic of its own (`pwaguard`), whose records the live server commits for real.
"""

import pytest

from records.models import Patient, Visit
from tests.browser.test_offline_sync import (
    base_url,
    go_offline,
    go_online,
    in_gamma,
    open_app,
    wait_synced,
    wait_until,
)
from tests.conftest import _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

NOTE = "Demam sejak tiga hari, batuk berdahak, nyeri menelan. Riwayat alergi disangkal. " * 62  # ~5,000 characters
VISITS = 900  # 900 notes of ~5,000 characters: over 4.5 MB, beyond the 4 MiB a request may carry


@pytest.fixture(scope="session")
def guard(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("pwaguard", "Klinik PWA Guard")


def test_a_half_emoji_and_an_outbox_over_the_limit_do_not_stop_the_sync(browser, live_url, guard):
    context, page = open_app(browser, live_url, guard, role="doctor", service_workers="block")
    go_offline(context, page)
    ids = page.evaluate(
        """async ([note, visits]) => {
          const halfEmoji = 'penisilin 🤒'.slice(0, -1);
          const cut = emr.randomId();
          const patient = emr.randomId();
          await emr.save([{ entity: 'patient', id: cut, op: 'create', fields: { full_name: 'Rahmat Separuh', birth_date: '1979-06-01', sex: 'M', allergies: halfEmoji } }]);
          await emr.save([{ entity: 'patient', id: patient, op: 'create', fields: { full_name: 'Siti Catatan Panjang', birth_date: '1985-02-14', sex: 'F' } }]);
          const started = new Date().toISOString();
          const changes = Array.from({ length: visits }, () => ({ entity: 'visit', id: emr.randomId(), op: 'create', fields: { patient, started_at: started, subjective: note } }));
          await emr.save(changes);
          const after = emr.randomId();
          await emr.save([{ entity: 'patient', id: after, op: 'create', fields: { full_name: 'Sesudah Semua 🙏', birth_date: '1990-09-09', sex: 'F' } }]);
          return { cut, patient, after, outboxBytes: new Blob([JSON.stringify(await emr.db.outbox.toArray())]).size };
        }""",
        [NOTE, VISITS],
    )
    assert ids["outboxBytes"] > 4 * 1024 * 1024
    pushes = []
    page.on(
        "request",
        lambda request: (
            pushes.append(len(request.post_data_buffer or b"")) if request.url.endswith("/api/sync/push") else None
        ),
    )
    go_online(context, page)
    page.wait_for_function("emr.stats.pending === 0 && emr.stats.failed === 1 && !emr.syncing", timeout=120_000)

    assert len(pushes) >= 18
    assert max(pushes) <= 256 * 1024
    assert in_gamma(guard, lambda: Visit.objects.filter(patient_id=ids["patient"]).count()) == VISITS
    assert in_gamma(guard, lambda: set(Patient.objects.values_list("full_name", flat=True))) >= {
        "Siti Catatan Panjang",
        "Sesudah Semua 🙏",
    }
    assert in_gamma(guard, lambda: Patient.objects.filter(pk=ids["cut"]).exists()) is False

    # The refusal says what to do, on the Sync page, and the record can be corrected and sent again.
    page.goto(base_url(live_url, guard) + "/app/#/sync")
    failed = page.locator("#failed-list li").first
    failed.wait_for()
    assert "half of a character" in failed.inner_text()
    page.evaluate("([id]) => { window.location.hash = `#/patient/${id}`; }", [ids["cut"]])
    page.wait_for_selector("form[data-form=patient]")  # a refused record opens in its form
    page.fill("#f-allergies", "penisilin 🤒")
    page.click("form[data-form=patient] button[type=submit]")
    cut = lambda: Patient.objects.filter(pk=ids["cut"]).values_list("allergies", flat=True).first()  # noqa: E731
    wait_until(lambda: in_gamma(guard, cut) is not None, waiting_for="the corrected patient")
    wait_synced(page)
    assert page.evaluate("emr.stats.failed") == 0
    assert in_gamma(guard, cut) == "penisilin 🤒"
    context.close()


def test_a_corrected_record_carries_the_refused_changes_it_shows(browser, live_url, guard):
    """A new patient refused (a NIK of 3 digits), then given allergies (refused too: the server has no
    such patient): correcting only the NIK sends the patient again as a create with everything the
    screen shows, the allergies included; nothing the person saw is silently dropped."""
    context, page = open_app(browser, live_url, guard, role="frontdesk", service_workers="block")
    patient = page.evaluate(
        """async () => {
          const id = emr.randomId();
          await emr.save([{ entity: 'patient', id, op: 'create', fields: { full_name: 'Koreksi Lengkap', birth_date: '1982-07-15', sex: 'F', nik: '123' } }]);
          await emr.save([{ entity: 'patient', id, op: 'update', fields: { allergies: 'penisilin' } }]);
          await emr.runSync();
          return id;
        }"""
    )
    page.wait_for_function("emr.stats.failed === 2 && emr.stats.pending === 0 && !emr.syncing")
    page.evaluate(
        "async (id) => { await emr.save([{ entity: 'patient', id, op: 'update', fields: { nik: '3171015507820001' } }]); }",
        patient,
    )
    stored = lambda: Patient.objects.filter(pk=patient).values("nik", "allergies").first()  # noqa: E731
    wait_until(lambda: in_gamma(guard, stored) is not None, waiting_for="the corrected patient")
    assert in_gamma(guard, stored) == {"nik": "3171015507820001", "allergies": "penisilin"}
    wait_synced(page)
    assert page.evaluate("emr.stats.failed") == 0
    context.close()
