# ruff: noqa: E501  (the JavaScript run in the page keeps its lines whole)
"""The app's side of the sync rules, in Chromium: a `merged` answer never claims a version the device has
not seen (so its next edit of another's field is a conflict, never an overwrite), charts opened offline
reach the owner's audit trail with the device and the time they were opened, a diagnosis's title is
written with the diagnosis, and a doctor's note starts an arrived visit.

These tests run at a clinic of their own (`pwarules`), whose records the live server commits for real.
"""

import datetime
import json

import pytest

from records.models import ChartAccess, Diagnosis, Visit
from sync.models import Conflict
from tests.browser.test_offline_sync import (
    CHART_JS,
    base_url,
    databases,
    device_records,
    go_offline,
    go_online,
    in_gamma,
    open_app,
    save_patient,
    wait_synced,
    wait_until,
)
from tests.conftest import _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PULL = "**/api/sync/pull**"
J06_9 = "Acute upper respiratory infection, unspecified"


@pytest.fixture(scope="session")
def rules(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("pwarules", "Klinik PWA Rules")


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def open_screen(page, kind, record_id):
    page.evaluate("([kind, id]) => { window.location.hash = `#/${kind}/${id}`; }", [kind, record_id])
    page.wait_for_selector("form[data-form=soap]" if kind == "visit" else "#patient-details h2")


def save_soap(page, **fields):
    """Fill SOAP fields on the visit screen and save; returns once the screen is redrawn."""
    soap = page.query_selector("form[data-form=soap]")
    for name, value in fields.items():
        page.fill(f"#f-{name}", value)
    page.click("form[data-form=soap] button[type=submit]")
    page.wait_for_function("(form) => !form.isConnected", arg=soap)


def pushed_statuses(response) -> list[str]:
    return [result["status"] for result in response.json()["results"]]


def chart_openings(page) -> int:
    """Chart openings waiting in the device's outbox."""
    return page.evaluate("emr.db.outbox.where('entity').equals('chart').count()")


def synced_with_pulls_failing(page):
    """The push went (nothing waits) and the sync stopped at the pull."""
    page.wait_for_function("emr.stats.pending === 0 && !emr.syncing && emr.problem === 'network'")


def test_merged_keeps_the_devices_version_so_editing_anothers_field_is_a_conflict(browser, live_url, rules):
    a_context, a = open_app(browser, live_url, rules, role="doctor", service_workers="block")
    [[_patient, visit_id, *_rest]] = a.evaluate(CHART_JS, {"n": 1, "prefix": "Gabung"})
    wait_synced(a)
    b_context, b = open_app(browser, live_url, rules, role="owner", service_workers="block")
    [base] = device_records(a, [visit_id])

    go_offline(a_context, a)
    open_screen(a, "visit", visit_id)
    save_soap(a, assessment="ISPA")
    a.wait_for_function("emr.stats.pending === 1")
    open_screen(b, "visit", visit_id)
    save_soap(b, plan="Rujuk ke RS")
    wait_until(lambda: in_gamma(rules, lambda: Visit.objects.get(pk=visit_id).plan) == "Rujuk ke RS")
    wait_synced(b)

    # A's push is merged beside B's change; its pull fails, so A has not seen B's change.
    a.route(PULL, lambda route: route.abort())
    with a.expect_response(lambda response: "/api/sync/push" in response.url) as pushed:
        go_online(a_context, a)
    assert "merged" in pushed_statuses(pushed.value)
    synced_with_pulls_failing(a)
    server = in_gamma(rules, lambda: Visit.objects.get(pk=visit_id))
    assert (server.assessment, server.plan) == ("ISPA", "Rujuk ke RS")
    [row] = device_records(a, [visit_id])
    assert row["version"] == base["version"]
    assert server.version > row["version"]
    assert row["local"] is None
    assert row["server"]["assessment"] == "ISPA"  # its own change, kept

    # Still without pulls, A changes the field B changed: a conflict, never an overwrite of B's value.
    go_offline(a_context, a)
    a.wait_for_function(f"document.querySelector('#f-plan')?.value === {json.dumps(base['server']['plan'] or '')}")
    save_soap(a, plan="Kontrol 3 hari")
    a.wait_for_function("emr.stats.pending === 1")
    with a.expect_response(lambda response: "/api/sync/push" in response.url) as pushed:
        go_online(a_context, a)
    assert "conflict" in pushed_statuses(pushed.value)
    synced_with_pulls_failing(a)
    assert in_gamma(rules, lambda: Visit.objects.get(pk=visit_id).plan) == "Rujuk ke RS"
    conflict = in_gamma(rules, lambda: Conflict.objects.get(record_id=visit_id, field="plan", resolved_at=None))
    assert (conflict.server_value, conflict.device_value) == ("Rujuk ke RS", "Kontrol 3 hari")

    # With pulls back, A holds the server's record at its version and shows the conflict.
    a.unroute(PULL)
    a.evaluate("emr.runSync()")
    wait_synced(a)
    a.reload()
    a.wait_for_selector(".conflict[data-field=plan]")
    box = a.inner_text(".conflict[data-field=plan]")
    assert "Rujuk ke RS" in box
    assert "Kontrol 3 hari" in box
    [row] = device_records(a, [visit_id])
    assert row["version"] == in_gamma(rules, lambda: Visit.objects.get(pk=visit_id).version)
    assert row["server"]["plan"] == "Rujuk ke RS"
    a_context.close()
    b_context.close()


def test_a_chart_opened_offline_reaches_the_owners_audit_trail_with_its_device_and_time(browser, live_url, rules):
    context, page = open_app(browser, live_url, rules, role="doctor", service_workers="block")
    [[patient_id, visit_id, *_rest]] = page.evaluate(CHART_JS, {"n": 1, "prefix": "Audit"})
    wait_synced(page)
    device_id = page.evaluate("emr.deviceId")

    go_offline(context, page)
    offline_since = now()
    open_screen(page, "patient", patient_id)
    wait_until(lambda: chart_openings(page) == 1, timeout=10, waiting_for="the chart opening")
    page.evaluate("emr.runSync()")  # offline: fails, and counts again what waits
    page.wait_for_function("!emr.syncing && emr.stats.openings === 1")
    assert page.evaluate("emr.stats.pending") == 0  # a chart opening is no change waiting
    assert "waiting" not in page.inner_text("#pending-count")  # (an earlier test's conflict may show)
    assert page.get_attribute("#patient-details [data-state]", "data-state") == "synced"
    # One of the patient's visits is the same chart, and a redraw is no new opening.
    page.click(f"#visit-list a[href='#/visit/{visit_id}']")
    page.wait_for_selector("form[data-form=soap]")
    page.evaluate("emr.runSync()")
    page.wait_for_function("!emr.syncing")
    assert chart_openings(page) == 1
    assert device_records(page, [patient_id])[0]["local"] is None  # no opened_at among its values

    page.wait_for_timeout(300)
    online_at = now()
    go_online(context, page)
    wait_until(lambda: chart_openings(page) == 0, timeout=20, waiting_for="the push")
    wait_synced(page)
    owner_context, owner = open_app(browser, live_url, rules, role="owner", service_workers="block")
    trail = owner.evaluate(
        "fetch('/api/audit/?kind=chart_access&page_size=100', {credentials: 'same-origin'}).then((response) => response.json())"
    )
    [opened] = [entry for entry in trail["results"] if entry["patient"] == patient_id]
    assert opened["user"] == rules.email("doctor")
    assert opened["device_id"] == device_id
    at = datetime.datetime.fromisoformat(opened["at"])
    assert offline_since <= at < online_at  # when it was opened, offline
    assert datetime.datetime.fromisoformat(opened["received_at"]) >= online_at
    assert in_gamma(rules, lambda: ChartAccess.objects.filter(patient_id=patient_id).count()) == 1
    owner_context.close()
    context.close()


def test_a_chart_opening_the_server_refuses_is_dropped_without_a_word(browser, live_url, rules):
    """The patient's registration is refused, so the opening of its chart is too: only the
    registration shows as failed (the person can fix that one)."""
    context, page = open_app(browser, live_url, rules, role="doctor", service_workers="block")
    go_offline(context, page)
    patient = save_patient(page, full_name="NIK Keliru", birth_date="1980-05-06", sex="F", nik="123")
    open_screen(page, "patient", patient)
    wait_until(lambda: chart_openings(page) == 1, timeout=10, waiting_for="the chart opening")
    go_online(context, page)
    page.wait_for_function("emr.stats.failed === 1 && emr.stats.pending === 0 && !emr.syncing")
    assert chart_openings(page) == 0
    assert page.evaluate("emr.db.failed.toArray().then((rows) => rows.map((row) => row.entity))") == ["patient"]
    context.close()


def test_logout_sends_waiting_chart_openings_first_and_deletes_nothing_while_it_cannot(browser, live_url, rules):
    context, page = open_app(browser, live_url, rules, role="frontdesk", service_workers="block")
    patient = save_patient(page, full_name="Buka Lalu Keluar", birth_date="1970-01-01", sex="M")
    wait_synced(page)
    name = page.evaluate("emr.db.name")
    go_offline(context, page)
    open_screen(page, "patient", patient)
    wait_until(lambda: chart_openings(page) == 1, timeout=10, waiting_for="the chart opening")
    page.click("#logout")
    page.wait_for_selector("[data-notice=logout]")
    assert "has not reached the server" in page.inner_text("[data-notice=logout]")
    assert name in databases(page)
    assert chart_openings(page) == 1
    go_online(context, page)
    page.click("#logout")
    page.wait_for_url("**/accounts/login/**")
    assert name not in databases(page)
    assert in_gamma(rules, lambda: ChartAccess.objects.filter(patient_id=patient).count()) == 1
    context.close()


def test_a_diagnosis_title_is_written_with_the_diagnosis_and_a_doctors_note_starts_the_visit(browser, live_url, rules):
    context, page = open_app(browser, live_url, rules, role="doctor")  # the worker serves the ICD-10 table offline
    visit = page.evaluate(
        "async () => { const patient = emr.randomId(), visit = emr.randomId(); await emr.save(["
        "{entity: 'patient', id: patient, op: 'create', fields: {full_name: 'Judul Diagnosis', "
        "birth_date: '1975-02-03', sex: 'M'}}, {entity: 'visit', id: visit, op: 'create', fields: "
        "{patient, started_at: new Date().toISOString(), status: 'arrived', chief_complaint: 'Batuk'}}]); return visit; }"
    )
    wait_synced(page)
    go_offline(context, page)
    open_screen(page, "visit", visit)
    save_soap(page, subjective="Batuk 2 hari")

    # The moment the diagnosis's outbox entry commits, its record already holds the title.
    page.evaluate(
        "() => { window.diagnosisWritten = new Promise((resolve) => {"
        " emr.db.outbox.hook('creating', (key, entry, tx) => { if (entry.entity !== 'diagnosis') return;"
        " tx.on('complete', () => emr.db.records.get(entry.record_id).then((row) => resolve({entry, local: row.local}))); }); }); }"
    )
    page.click("#add-diagnosis")
    page.fill("#icd-search", "J06")
    page.click("#icd-results button[data-code='J06.9']")
    page.click("form[data-form=diagnosis] button[type=submit]")
    written = page.evaluate("window.diagnosisWritten")
    assert written["local"]["title"] == J06_9
    assert written["entry"]["display"] == {"title": J06_9}
    assert "title" not in written["entry"]["fields"]
    page.wait_for_selector("form[data-form=diagnosis]", state="detached")
    assert J06_9 in page.inner_text("#diagnosis-list")
    page.wait_for_function("emr.stats.pending === 2")

    with page.expect_request(lambda request: "/api/sync/push" in request.url) as pushed:
        go_online(context, page)
    mutations = pushed.value.post_data_json["mutations"]
    assert all("display" not in mutation for mutation in mutations)
    [note] = [m for m in mutations if m["entity"] == "visit"]
    assert note["fields"] == {"subjective": "Batuk 2 hari", "status": "in_progress"}
    [diagnosis] = [m for m in mutations if m["entity"] == "diagnosis"]
    assert "title" not in diagnosis["fields"]
    wait_synced(page)
    [row] = device_records(page, [diagnosis["record_id"]])
    assert row["local"] is None
    assert row["server"]["title"] == J06_9
    assert J06_9 in page.inner_text("#diagnosis-list")
    assert in_gamma(rules, lambda: Diagnosis.objects.get(pk=diagnosis["record_id"]).code) == "J06.9"
    saved = in_gamma(rules, lambda: Visit.objects.get(pk=visit))
    assert (saved.status, saved.subjective) == ("in_progress", "Batuk 2 hari")
    context.close()


def test_a_note_on_a_finished_visit_leaves_its_status(browser, live_url, rules):
    context, page = open_app(browser, live_url, rules, role="doctor", service_workers="block")
    visit = page.evaluate(
        "async () => { const patient = emr.randomId(), visit = emr.randomId(); await emr.save(["
        "{entity: 'patient', id: patient, op: 'create', fields: {full_name: 'Sudah Selesai', "
        "birth_date: '1975-02-03', sex: 'F'}}, {entity: 'visit', id: visit, op: 'create', fields: "
        "{patient, started_at: new Date().toISOString(), status: 'finished'}}]); return visit; }"
    )
    wait_synced(page)
    page.goto(base_url(live_url, rules) + f"/app/#/visit/{visit}")
    page.wait_for_selector("form[data-form=soap] #f-reason")
    page.fill("#f-plan", "Kontrol ulang")
    page.fill("form[data-form=soap] #f-reason", "Rencana terlupa")
    page.click("form[data-form=soap] button[type=submit]")
    wait_until(lambda: in_gamma(rules, lambda: Visit.objects.get(pk=visit).plan) == "Kontrol ulang")
    assert in_gamma(rules, lambda: Visit.objects.get(pk=visit).status) == "finished"
    context.close()


def test_a_tab_whose_database_another_tab_upgrades_is_told_to_reload(browser, live_url, rules):
    """A newer app in another tab upgrades the device's database (Dexie closes it in this tab): this tab
    says so and offers a reload, in the person's language, rather than failing on its next save."""
    context, page = open_app(browser, live_url, rules, service_workers="block", locale="id-ID")
    page.evaluate(
        """() => new Promise((resolve, reject) => {
          const request = indexedDB.open(emr.db.name, emr.db.backendDB().version + 10);
          request.onsuccess = () => { request.result.close(); resolve(); };
          request.onerror = () => reject(request.error);
        })"""
    )
    notice = page.wait_for_selector("[data-notice=update]")
    assert "tab lain" in notice.inner_text()
    assert page.is_visible("#reload-upgraded")  # the reload brings the newer app, which opens it
    context.close()
