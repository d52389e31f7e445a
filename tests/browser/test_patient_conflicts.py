"""Conflicts and refused changes, decided where the record is shown, in Chromium: a patient's conflict
on the patient screen (both values written for people, who wrote each), kept once for every device of
every role; a conflicted field written anew in the edit form decides it; the Sync page names the
patient, the visit's date, the field and both values; a refused patient change opens in its form with
the server's reasons beside the fields, and the corrected change replaces it.

At a clinic of its own (`pwaconflict`), whose records the live server commits for real.
"""

import datetime

import pytest
from playwright.sync_api import expect

from records.models import Patient, VitalSigns
from sync.models import Conflict
from tests.browser.test_offline_sync import (
    go_offline,
    go_online,
    in_gamma,
    open_app,
    phone,
    save_patient,
    wait_synced,
    wait_until,
)
from tests.conftest import _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="session")
def clinic(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("pwaconflict", "Klinik Konflik")


def show(page, route):
    """Open a screen of the app (drawn afresh if it is the one shown) and wait until it is drawn."""
    if page.evaluate("window.location.hash") == route:
        page.reload()
        page.wait_for_function("window.emr && emr.ready && emr.rendered > 0")
        return
    page.evaluate("(route) => { window.location.hash = route; }", route)
    page.wait_for_function("(route) => emr.drawnRoute === route", arg=route)


def sync(page):
    page.evaluate("emr.runSync()")
    wait_synced(page)


def edit_offline(page, patient_id, fields):
    page.evaluate(
        "async ([id, fields]) => emr.save([{ entity: 'patient', id, op: 'update', fields }])", [patient_id, fields]
    )


def open_conflicts_of(clinic, record_id):
    return in_gamma(clinic, lambda: list(Conflict.objects.filter(record_id=record_id, resolved_at=None)))


def no_conflict_anywhere(page):
    """The device shows no conflict: not counted in the header, none on the Sync page."""
    page.wait_for_function("emr.stats.conflicts === 0 && !emr.syncing")
    header = page.inner_text("#pending-count")
    assert "konflik" not in header
    assert "conflict" not in header
    show(page, "#/sync")
    assert page.locator("#conflict-list li[data-conflict]").count() == 0


def test_a_patient_conflict_is_decided_once_on_the_patient_screen_for_every_device(browser, live_url, clinic):
    desk_context, desk = open_app(browser, live_url, clinic, role="frontdesk", service_workers="block")
    patient = save_patient(desk, full_name="Ani Konflik", birth_date="1990-01-02", sex="F", phone="0811")
    wait_synced(desk)
    doctor_context, doctor = phone(browser, live_url, clinic, "doctor")
    nurse_context, nurse = open_app(browser, live_url, clinic, role="nurse", service_workers="block")

    # Offline, the front desk and the doctor each correct the birth date, differently.
    go_offline(desk_context, desk)
    go_offline(doctor_context, doctor)
    edit_offline(desk, patient, {"birth_date": "1990-02-01"})
    show(doctor, f"#/patient/{patient}")
    doctor.click("#edit-patient")
    doctor.fill("#f-birth_date", "1991-01-02")
    doctor.click("form[data-form=patient] button[type=submit]")
    doctor.wait_for_function("emr.stats.pending === 1")
    go_online(desk_context, desk)
    wait_synced(desk)
    go_online(doctor_context, doctor)
    wait_synced(doctor)
    doctor.wait_for_function("emr.stats.conflicts === 1")
    doctor.wait_for_function("document.querySelector('#pending-count').innerText.includes('1 konflik')")
    [conflict] = open_conflicts_of(clinic, patient)
    assert (conflict.server_value, conflict.device_value) == ("1990-02-01", "1991-01-02")

    # On the patient screen, in Indonesian: both dates as people write them, and who wrote each.
    show(doctor, f"#/patient/{patient}")
    box = doctor.locator(".conflict[data-field=birth_date]")
    box.wait_for()
    text = box.inner_text()
    assert "Tanggal lahir diubah di dua tempat" in text
    stored, held = box.locator("[data-side=server]").inner_text(), box.locator("[data-side=device]").inner_text()
    assert "1 Feb 1990" in stored
    assert "Frontdesk Klinik Konflik" in stored
    assert "2 Jan 1991" in held
    assert "Doctor Klinik Konflik" in held
    assert "perangkat ini" in held
    assert "1990-02-01" not in text
    assert "1991-01-02" not in text

    # The doctor keeps their own date; the server keeps it and closes the conflict.
    box.locator("button[data-keep=device]").click()
    wait_until(lambda: not open_conflicts_of(clinic, patient), waiting_for="the conflict to close")
    assert str(in_gamma(clinic, lambda: Patient.objects.get(pk=patient).birth_date)) == "1991-01-02"

    for page in (doctor, desk, nurse):  # the third device is a nurse's: her role reads birth dates too
        sync(page)
        show(page, f"#/patient/{patient}")
        page.wait_for_selector("#patient-details h2")
        assert page.locator(".conflict").count() == 0
        facts = page.inner_text("#patient-details .facts")
        assert "Jan 1991" in facts
        assert "1990" not in facts
        no_conflict_anywhere(page)
    for context in (desk_context, doctor_context, nurse_context):
        context.close()


def test_writing_a_conflicted_field_anew_decides_it(browser, live_url, clinic):
    desk_context, desk = open_app(browser, live_url, clinic, role="frontdesk", service_workers="block")
    patient = save_patient(desk, full_name="Budi Tulis Ulang", birth_date="1985-03-04", sex="M", phone="0811")
    wait_synced(desk)
    nurse_context, nurse = phone(browser, live_url, clinic, "nurse")
    go_offline(desk_context, desk)
    go_offline(nurse_context, nurse)
    edit_offline(desk, patient, {"phone": "0822"})
    edit_offline(nurse, patient, {"phone": "0833"})
    edit_offline(nurse, patient, {"phone": "0844"})  # changed twice before syncing: still one decision
    go_online(desk_context, desk)
    wait_synced(desk)
    go_online(nurse_context, nurse)
    wait_synced(nurse)
    assert len(open_conflicts_of(clinic, patient)) == 2
    nurse.wait_for_function("emr.stats.conflicts === 1")

    show(nurse, f"#/patient/{patient}")
    assert nurse.locator(".conflict").count() == 1
    nurse.click("#edit-patient")
    note = nurse.locator("[data-conflict-note=phone]")
    assert "0822" in note.inner_text()
    assert "0844" in note.inner_text()
    nurse.fill("#f-phone", "0855")
    nurse.fill("#f-address", "Jl. Melati 5")
    nurse.click("form[data-form=patient] button[type=submit]")
    wait_until(lambda: not open_conflicts_of(clinic, patient), waiting_for="the conflict to close")
    stored = in_gamma(clinic, lambda: Patient.objects.values("phone", "address").get(pk=patient))
    assert stored == {"phone": "0855", "address": "Jl. Melati 5"}
    kept = lambda: set(Conflict.objects.filter(record_id=patient).values_list("resolved_value", flat=True))  # noqa: E731
    assert in_gamma(clinic, kept) == {"0855"}
    for page in (nurse, desk):
        sync(page)
        show(page, f"#/patient/{patient}")
        assert page.locator(".conflict").count() == 0
        assert "0855" in page.inner_text("#patient-details .facts")
        no_conflict_anywhere(page)
    desk_context.close()
    nurse_context.close()


VISIT_WITH_VITALS = """async ([patient, started]) => {
  const visit = emr.randomId(), vitals = emr.randomId();
  await emr.save([
    { entity: 'visit', id: visit, op: 'create', fields: { patient, started_at: started, status: 'in_progress' } },
    { entity: 'vitals', id: vitals, op: 'create', fields: { visit, measured_at: started, pulse: 80 } },
  ]);
  return [visit, vitals];
}"""


def test_the_sync_page_names_the_patient_the_visit_the_field_and_both_values(browser, live_url, clinic):
    nurse_context, nurse = open_app(browser, live_url, clinic, role="nurse", service_workers="block")
    patient = save_patient(nurse, full_name="Citra Daftar", birth_date="1979-06-01", sex="F")
    started = datetime.datetime(2026, 3, 9, 2, 30, tzinfo=datetime.UTC).isoformat()
    visit, vitals = nurse.evaluate(VISIT_WITH_VITALS, [patient, started])
    wait_synced(nurse)
    mrn = in_gamma(clinic, lambda: Patient.objects.get(pk=patient).medical_record_number)
    doctor_context, doctor = phone(browser, live_url, clinic, "doctor")
    desk_context, desk = open_app(browser, live_url, clinic, role="frontdesk", service_workers="block")

    go_offline(nurse_context, nurse)
    go_offline(doctor_context, doctor)
    for page, pulse in ((nurse, 88), (doctor, 92)):
        page.evaluate(
            "async ([id, pulse]) => emr.save([{ entity: 'vitals', id, op: 'update', fields: { pulse } }])",
            [vitals, pulse],
        )
    go_online(nurse_context, nurse)
    wait_synced(nurse)
    go_online(doctor_context, doctor)
    wait_synced(doctor)
    doctor.wait_for_function("emr.stats.conflicts === 1")

    show(doctor, "#/sync")
    item = doctor.locator("#conflict-list li[data-conflict]")
    expect(item).to_have_count(1)
    text = item.inner_text()
    visit_date = doctor.evaluate(
        "(at) => new Date(at).toLocaleString('id-ID', { dateStyle: 'medium', timeStyle: 'short' })", started
    )
    for expected in (
        "Citra Daftar",
        mrn,
        f"Kunjungan {visit_date}",
        "Tanda vital",
        "Nadi (/menit)",
        "88",
        "92",
        "Nurse Klinik Konflik",
        "Doctor Klinik Konflik",
    ):
        assert expected in text, (expected, text)
    assert item.locator("a").first.get_attribute("href") == f"#/visit/{visit}"

    # Front desk reads neither vital signs nor their conflicts: nothing shown, nothing counted.
    sync(desk)
    no_conflict_anywhere(desk)
    assert in_gamma(clinic, lambda: VitalSigns.objects.get(pk=vitals).pulse) == 88
    for context in (nurse_context, doctor_context, desk_context):
        context.close()


def test_a_refused_patient_change_opens_in_its_form_and_the_correction_replaces_it(browser, live_url, clinic):
    context, page = phone(browser, live_url, clinic, "frontdesk")
    patient = save_patient(page, full_name="Dewi Koreksi", birth_date="1982-07-15", sex="F")
    wait_synced(page)
    mrn = in_gamma(clinic, lambda: Patient.objects.get(pk=patient).medical_record_number)
    # A change the app's own checks would stop, sent as an older app (or another path) might: refused.
    edit_offline(page, patient, {"nik": "123", "phone": "0812 3456"})
    page.evaluate("emr.runSync()")
    page.wait_for_function("emr.stats.failed === 1 && emr.stats.pending === 0 && !emr.syncing")

    show(page, "#/sync")
    item = page.locator("#failed-list li[data-seq]")
    text = item.inner_text()
    for expected in ("Dewi Koreksi", mrn, "Data pasien", "NIK: 123", "Telepon: 0812 3456", "16"):
        assert expected in text, (expected, text)
    item.locator("a.button").click()

    # The patient's form, open with the device's values and the server's reason beside the NIK.
    page.wait_for_selector("form[data-form=patient]")
    assert page.input_value("#f-nik") == "123"
    assert page.input_value("#f-phone") == "0812 3456"
    assert "16" in page.inner_text("[data-server-error=nik]")
    page.fill("#f-nik", "3171015507820001")
    page.click("form[data-form=patient] button[type=submit]")
    stored = lambda: Patient.objects.values("nik", "phone").get(pk=patient)  # noqa: E731
    wait_until(lambda: in_gamma(clinic, stored)["nik"] == "3171015507820001", waiting_for="the correction")
    assert in_gamma(clinic, stored) == {"nik": "3171015507820001", "phone": "0812 3456"}
    wait_synced(page)
    assert page.evaluate("emr.stats.failed") == 0
    show(page, f"#/patient/{patient}")
    assert page.locator("form[data-form=patient]").count() == 0
    context.close()


def test_a_conflict_on_a_voided_patient_is_left_to_nobody(browser, live_url, clinic):
    """A patient voided as registered in error: nothing of theirs can change, so their conflict can never
    be decided; no device shows it or counts it."""
    desk_context, desk = open_app(browser, live_url, clinic, role="frontdesk", service_workers="block")
    patient = save_patient(desk, full_name="Fajar Salah Daftar", birth_date="1995-05-05", sex="M")
    wait_synced(desk)
    nurse_context, nurse = open_app(browser, live_url, clinic, role="nurse", service_workers="block")
    go_offline(desk_context, desk)
    go_offline(nurse_context, nurse)
    edit_offline(desk, patient, {"phone": "0822"})
    edit_offline(nurse, patient, {"phone": "0833"})
    go_online(desk_context, desk)
    wait_synced(desk)
    go_online(nurse_context, nurse)
    wait_synced(nurse)
    [conflict] = open_conflicts_of(clinic, patient)
    listed = f"#conflict-list li[data-conflict='{conflict.pk}']"
    show(nurse, "#/sync")
    expect(nurse.locator(listed)).to_have_count(1)
    sync(desk)  # the desk pulls the nurse's conflict before counting (it synced before the conflict existed)
    before = {page: page.evaluate("emr.stats.conflicts") for page in (desk, nurse)}  # (other tests' too)

    desk.evaluate("async (id) => emr.save([{ entity: 'patient', id, op: 'void', reason: 'Salah daftar' }])", patient)
    wait_synced(desk)
    assert in_gamma(clinic, lambda: Patient.objects.get(pk=patient).voided_at) is not None
    for page in (desk, nurse):
        sync(page)
        page.wait_for_function("(n) => emr.stats.conflicts === n - 1 && !emr.syncing", arg=before[page])
        show(page, f"#/patient/{patient}")
        assert page.locator(".conflict").count() == 0
        show(page, "#/sync")
        assert page.locator(listed).count() == 0
    desk_context.close()
    nurse_context.close()
