# ruff: noqa: E501  (the JavaScript run in the page keeps its lines whole)
"""The visit screen in Chromium on a phone (390 by 844), in Indonesian: the patient's banner (name, age,
sex, record number, allergies), a prescription that matches an allergy warns and waits for "Tetap
simpan", the doctor finishes the visit, vital signs, diagnoses and prescriptions are corrected (an
amendment with a reason after finishing), a nurse corrects only the vital signs she recorded, and a
refused part is corrected in its form and sent again.

At a clinic of its own (`pwavisit`), whose records the live server commits for real.
"""

import datetime

import pytest
from playwright.sync_api import expect

from records.models import Diagnosis, Patient, Prescription, Revision, Visit, VitalSigns
from tests.browser.test_offline_sync import PHONE, go_offline, go_online, phone, wait_synced, wait_until
from tests.browser.test_offline_sync import in_gamma as in_clinic
from tests.conftest import _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

# A patient and a visit (and vital signs, if given) saved on the device in one transaction.
CHART_JS = """async ({patient, visit, vitals}) => {
  const ids = { patient: emr.randomId(), visit: emr.randomId(), vitals: null };
  const now = new Date().toISOString();
  const changes = [
    { entity: 'patient', id: ids.patient, op: 'create', fields: patient },
    { entity: 'visit', id: ids.visit, op: 'create', fields: { patient: ids.patient, started_at: now, status: 'in_progress', ...visit } },
  ];
  if (vitals) {
    ids.vitals = emr.randomId();
    changes.push({ entity: 'vitals', id: ids.vitals, op: 'create', fields: { visit: ids.visit, measured_at: now, ...vitals } });
  }
  await emr.save(changes);
  return ids;
}"""


@pytest.fixture(scope="session")
def visit_clinic(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("pwavisit", "Klinik PWA Kunjungan")


def days_ago(days: int) -> str:
    return (datetime.date.today() - datetime.timedelta(days=days)).isoformat()


def chart(page, patient, visit=None, vitals=None) -> dict:
    return page.evaluate(CHART_JS, {"patient": patient, "visit": visit or {}, "vitals": vitals})


def sync(page):
    page.evaluate("emr.runSync()")
    wait_synced(page)


def open_visit(page, visit_id):
    page.evaluate("(id) => { window.location.hash = `#/visit/${id}`; }", visit_id)
    page.wait_for_selector(f".visit-screen[data-visit='{visit_id}'] #patient-banner")


def outbox(page) -> list[dict]:
    return page.evaluate("emr.db.outbox.toArray()")


def test_the_banner_shows_name_age_sex_record_number_and_allergies_on_a_phone(browser, live_url, visit_clinic):
    context, page = phone(browser, live_url, visit_clinic, "doctor")
    adult = chart(
        page,
        {
            "full_name": "Siti Aminah",
            "birth_date": days_ago(int(34 * 365.25) + 30),
            "sex": "F",
            "allergies": "Penisilin, udang",
        },
    )
    sync(page)
    mrn = in_clinic(visit_clinic, lambda: Patient.objects.get(pk=adult["patient"]).medical_record_number)
    open_visit(page, adult["visit"])
    banner = page.locator("#patient-banner")
    expect(banner).to_contain_text(f"No. RM {mrn}")
    text = banner.inner_text()
    assert "Siti Aminah" in text
    assert "34 tahun · Perempuan · No. RM" in text
    allergies = banner.locator("[data-allergies=known]")
    assert allergies.inner_text() == "⚠ Alergi: Penisilin, udang"
    assert allergies.evaluate("(el) => getComputedStyle(el).color") == "rgb(185, 28, 28)"  # the app's red
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing runs off the phone
    # Read in one step: the app may redraw the screen between two reads (a sync that changed the store).
    box = banner.evaluate("(el) => { const r = el.getBoundingClientRect(); return { x: r.x, width: r.width }; }")
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]

    # Not yet synced, a baby of eight months with no allergies recorded; and a newborn.
    go_offline(context, page)
    baby = chart(page, {"full_name": "Bayi Pratama", "birth_date": days_ago(253), "sex": "M"})
    newborn = chart(page, {"full_name": "Bayi Baru", "birth_date": days_ago(5), "sex": "F", "allergies": ""})
    open_visit(page, baby["visit"])
    expect(banner).to_contain_text("Bayi Pratama")
    assert "8 bulan · Laki-laki · No. RM menunggu sinkron" in banner.inner_text()
    assert banner.locator("[data-allergies=none]").inner_text() == "Tidak ada alergi yang diketahui"
    open_visit(page, newborn["visit"])
    expect(banner).to_contain_text("Bayi Baru")
    assert "5 hari · Perempuan" in banner.inner_text()

    banner.click()  # the banner opens the patient's screen
    page.wait_for_url(f"**#/patient/{newborn['patient']}")
    context.close()


def test_a_drug_the_patient_is_allergic_to_warns_as_typed_and_needs_save_anyway(browser, live_url, visit_clinic):
    context, page = phone(browser, live_url, visit_clinic, "doctor")
    ids = chart(
        page, {"full_name": "Rina Alergi", "birth_date": "1990-04-01", "sex": "F", "allergies": "Penisilin, udang"}
    )
    sync(page)
    open_visit(page, ids["visit"])
    page.click("#add-prescription")
    form = page.locator("form[data-form=prescription]")
    warning = form.locator("#allergy-warning")
    form.locator("[name=drug]").press_sequentially("Parasetamol")
    expect(warning).to_be_hidden()
    form.locator("[name=drug]").fill("")
    form.locator("[name=drug]").press_sequentially("Amoksisilin 500 mg")
    expect(warning).to_be_visible()
    assert "Pasien alergi Penisilin: Amoksisilin 500 mg termasuk golongan penisilin." in warning.inner_text()
    form.locator("[name=dose]").fill("500 mg")
    form.locator("[name=frequency]").fill("3x1")
    form.locator("button[type=submit]").click()
    expect(form.locator("#save-anyway")).to_have_text("Tetap simpan")
    assert "Tetap simpan resep ini?" in warning.inner_text()
    assert [m for m in outbox(page) if m["entity"] == "prescription"] == []  # nothing saved yet
    form.locator("#save-anyway").click()
    expect(form).to_have_count(0)
    line = page.locator("#prescription-list li").first
    expect(line.locator("[data-allergy]")).to_have_text("⚠ alergi: Penisilin")
    sync(page)
    assert in_clinic(
        visit_clinic, lambda: list(Prescription.objects.filter(visit_id=ids["visit"]).values_list("drug", flat=True))
    ) == ["Amoksisilin 500 mg"]

    # A drug that matches nothing saves at once, and is not marked.
    page.click("#add-prescription")
    form.locator("[name=drug]").fill("Parasetamol 500 mg")
    form.locator("[name=dose]").fill("500 mg")
    form.locator("[name=frequency]").fill("3x1")
    form.locator("button[type=submit]").click()
    expect(form).to_have_count(0)
    expect(page.locator("#prescription-list li")).to_have_count(2)
    expect(page.locator("#prescription-list [data-allergy]")).to_have_count(1)
    context.close()


def test_finishing_then_correcting_a_vital_sign_is_an_amendment_with_its_reason(browser, live_url, visit_clinic):
    context, page = phone(browser, live_url, visit_clinic, "doctor")
    ids = chart(
        page,
        {"full_name": "Budi Demam", "birth_date": "1985-06-07", "sex": "M"},
        vitals={
            "temperature_c": 38.2,
            "pulse": 96,
            "systolic": 120,
            "diastolic": 80,
            "height_cm": 170,
            "weight_kg": 60.2,
        },
    )
    sync(page)
    open_visit(page, ids["visit"])
    vitals = page.locator(f"#vitals-list li[data-id='{ids['vitals']}']")
    expect(vitals.locator("[data-vital=temperature_c] dd")).to_have_text("38,2")  # the Indonesian decimal comma
    assert vitals.locator("[data-vital=blood_pressure] dd").inner_text() == "120/80"
    assert vitals.locator("[data-vital=weight_kg] dd").inner_text() == "60,2"
    columns = vitals.locator(".vitals-grid").evaluate(
        "(el) => getComputedStyle(el).gridTemplateColumns.split(' ').length"
    )
    assert columns in (2, 3)

    # Finish: no diagnosis yet, so it asks first.
    page.click("#finish-visit")
    expect(page.locator("#finish-box")).to_contain_text("Belum ada diagnosis")
    page.click("#finish-anyway")
    expect(page.locator("#finished-note")).to_contain_text("amandemen")
    expect(page.locator("#finish-visit")).to_have_count(0)
    sync(page)
    assert in_clinic(visit_clinic, lambda: Visit.objects.get(pk=ids["visit"]).status) == "finished"

    # Correct the temperature: the form holds the values, asks the amendment's reason, sends the change only.
    go_offline(context, page)
    vitals.locator("button[data-edit]").click()
    edit = page.locator("form[data-form=edit-vitals]")
    assert edit.locator("[name=temperature_c]").input_value() == "38,2"  # as Indonesians write it
    edit.locator("[name=temperature_c]").fill("37.5")
    edit.locator("button[type=submit]").click()
    expect(edit.locator(".form-errors")).to_have_text("Alasan wajib diisi.")
    edit.locator("[name=reason]").fill("Salah ketik suhu")
    edit.locator("button[type=submit]").click()
    expect(edit).to_have_count(0)
    [sent] = [m for m in outbox(page) if m["entity"] == "vitals"]
    assert (sent["op"], sent["fields"], sent["reason"]) == ("update", {"temperature_c": 37.5}, "Salah ketik suhu")
    expect(vitals.locator("[data-vital=temperature_c] dd")).to_have_text("37,5")
    go_online(context, page)
    wait_synced(page)
    assert page.evaluate("emr.stats.failed") == 0
    assert str(in_clinic(visit_clinic, lambda: VitalSigns.objects.get(pk=ids["vitals"]).temperature_c)) == "37.5"
    amendment = in_clinic(
        visit_clinic, lambda: Revision.objects.filter(record_id=ids["vitals"]).order_by("version").last()
    )
    assert (amendment.action, amendment.reason) == ("amend", "Salah ketik suhu")
    assert (amendment.before["temperature_c"], amendment.after["temperature_c"]) == ("38.2", "37.5")
    context.close()


def test_a_diagnosis_is_corrected_by_choosing_another_code(browser, live_url, visit_clinic):
    context, page = phone(browser, live_url, visit_clinic, "doctor")
    ids = chart(page, {"full_name": "Dewi Batuk", "birth_date": "1979-01-02", "sex": "F"})
    open_visit(page, ids["visit"])
    page.click("#add-diagnosis")
    page.fill("#icd-search", "J06")
    page.click("#icd-results button[data-code='J06.9']")
    page.click("form[data-form=diagnosis] button[type=submit]")
    line = page.locator("#diagnosis-list li").first
    expect(line).to_contain_text("J06.9")
    sync(page)
    diagnosis_id = line.get_attribute("data-id")
    line.locator("button[data-edit]").click()
    edit = page.locator("form[data-form=edit-diagnosis]")
    expect(edit.locator("#icd-picked")).to_contain_text("J06.9")
    edit.locator("#icd-search").fill("J02")
    edit.locator("#icd-results button[data-code='J02.9']").click()
    edit.locator("button[type=submit]").click()
    expect(page.locator("#diagnosis-list li").first).to_contain_text("J02.9")
    sync(page)
    assert in_clinic(visit_clinic, lambda: Diagnosis.objects.get(pk=diagnosis_id).code) == "J02.9"

    # With a diagnosis, finishing asks nothing.
    page.click("#finish-visit")
    expect(page.locator("#finished-note")).to_be_visible()
    sync(page)
    assert in_clinic(visit_clinic, lambda: Visit.objects.get(pk=ids["visit"]).status) == "finished"
    context.close()


def test_a_nurse_corrects_her_own_vital_signs_but_not_a_doctors(browser, live_url, visit_clinic):
    doctor_context, doctor = phone(browser, live_url, visit_clinic, "doctor")
    ids = chart(doctor, {"full_name": "Ani Perawat", "birth_date": "1992-08-09", "sex": "F"}, vitals={"pulse": 80})
    sync(doctor)
    doctor_context.close()

    context, page = phone(browser, live_url, visit_clinic, "nurse")
    open_visit(page, ids["visit"])
    doctors = page.locator(f"#vitals-list li[data-id='{ids['vitals']}']")
    expect(doctors).to_be_visible()
    expect(doctors.locator("button[data-edit]")).to_have_count(0)
    expect(doctors.locator("button[data-void]")).to_have_count(0)
    assert page.locator("#finish-visit").count() == 0  # nurses do not finish a visit

    page.click("#add-vitals")
    page.locator("form[data-form=vitals] [name=pulse]").fill("90")
    page.locator("form[data-form=vitals] button[type=submit]").click()
    expect(page.locator("#vitals-list li")).to_have_count(2)
    sync(page)
    hers = page.locator(f"#vitals-list li:not([data-id='{ids['vitals']}'])")
    hers_id = hers.get_attribute("data-id")
    hers.locator("button[data-edit]").click()
    edit = page.locator("form[data-form=edit-vitals]")
    edit.locator("[name=pulse]").fill("92")
    edit.locator("button[type=submit]").click()
    expect(edit).to_have_count(0)
    sync(page)
    assert page.evaluate("emr.stats.failed") == 0
    assert in_clinic(visit_clinic, lambda: VitalSigns.objects.get(pk=hers_id).pulse) == 92
    assert in_clinic(visit_clinic, lambda: VitalSigns.objects.get(pk=ids["vitals"]).pulse) == 80
    context.close()


def test_a_refused_part_opens_in_its_form_with_the_reasons_and_is_sent_again(browser, live_url, visit_clinic):
    context, page = phone(browser, live_url, visit_clinic, "doctor")
    # A pulse of 400 (40 or 100?) saved where the form's own checks did not stop it (an older app, say).
    ids = chart(page, {"full_name": "Tono Nadi", "birth_date": "1970-03-04", "sex": "M"}, vitals={"pulse": 400})
    vitals_id = ids["vitals"]
    page.evaluate("emr.runSync()")
    page.wait_for_function("emr.stats.failed === 1 && emr.stats.pending === 0 && !emr.syncing")
    open_visit(page, ids["visit"])
    line = page.locator(f"#vitals-list li[data-id='{vitals_id}']")
    expect(line.locator(".failure")).to_contain_text("Nadi")
    assert in_clinic(visit_clinic, lambda: VitalSigns.objects.filter(pk=vitals_id).exists()) is False
    line.locator("button[data-edit]").click()
    edit = page.locator("form[data-form=edit-vitals]")
    assert edit.locator("[name=pulse]").input_value() == "400"  # the device's value, to correct
    expect(page.locator(".part-edit .failure")).to_contain_text("Nadi")  # and the server's reasons beside it
    edit.locator("[name=pulse]").fill("100")
    edit.locator("button[type=submit]").click()
    wait_until(
        lambda: in_clinic(visit_clinic, lambda: VitalSigns.objects.filter(pk=vitals_id).exists()),
        waiting_for="the corrected vitals",
    )
    wait_synced(page)
    assert page.evaluate("emr.stats.failed") == 0
    assert in_clinic(visit_clinic, lambda: VitalSigns.objects.get(pk=vitals_id).pulse) == 100
    context.close()


def test_a_conflict_on_a_part_is_shown_on_its_line(browser, live_url, visit_clinic):
    context, page = phone(browser, live_url, visit_clinic, "doctor")
    ids = chart(page, {"full_name": "Konflik Bagian", "birth_date": "1988-02-03", "sex": "F"}, vitals={"pulse": 70})
    sync(page)
    go_offline(context, page)
    page.evaluate(
        "(id) => emr.db.conflicts.put({ id: emr.randomId(), entity: 'vitals', record_id: id, field: 'pulse', server_value: 72, device_value: 70, user_name: 'Dokter', version: 1 })",
        ids["vitals"],
    )
    open_visit(page, ids["visit"])
    line = page.locator(f"#vitals-list li[data-id='{ids['vitals']}']")
    expect(line.locator(".conflict[data-field=pulse]")).to_be_visible()
    context.close()


def test_a_refused_change_of_the_visit_opens_its_form_with_the_reason_to_correct_and_resend(
    browser, live_url, visit_clinic
):
    """An older app (or another path) sent a chief complaint the server refuses: the visit's details
    open in their form with the device's value and the server's reason beside the field; corrected
    there, the change goes up and the refusal is gone."""
    context, page = phone(browser, live_url, visit_clinic, "doctor")
    ids = chart(page, {"full_name": "Yanti Keluhan", "birth_date": "1982-11-20", "sex": "F"})
    sync(page)
    too_long = "Batuk " * 200  # 1,200 characters: the server keeps 1,000
    page.evaluate(
        "([id, text]) => emr.save([{entity: 'visit', id, op: 'update', fields: {chief_complaint: text}}])",
        [ids["visit"], too_long],
    )
    page.wait_for_function("emr.stats.failed === 1")
    open_visit(page, ids["visit"])
    edit = page.locator("#visit-admin form[data-form=visit-admin]")
    expect(edit).to_be_visible()
    assert edit.locator("[name=chief_complaint]").input_value() == too_long
    expect(edit.locator("[data-server-error=chief_complaint]")).to_contain_text("1000")
    edit.locator("[name=chief_complaint]").fill("Batuk berdahak 2 minggu")
    edit.locator("button[type=submit]").click()
    page.wait_for_function("emr.stats.failed === 0 && emr.stats.pending === 0 && !emr.syncing")
    stored = in_clinic(visit_clinic, lambda: Visit.objects.get(pk=ids["visit"]).chief_complaint)
    assert stored == "Batuk berdahak 2 minggu"
    context.close()
