"""A day at a clinic, lived in Chromium on phones (390 by 844) in Indonesian, through the screens as its
staff use them: front desk registers patients (a second registration of one of them is flagged before
it is saved) and opens a visit; the nurse, offline, records vital signs with decimals; the doctor reads
the patient's allergies, writes the note, finds the diagnosis by its Indonesian words, is warned of a
prescription the patient is allergic to, finishes the visit and corrects a vital sign with a reason.
A second device then holds every value exactly as it was typed, and so does the server.

At a clinic of its own (`pwaday`), whose records the live server commits for real.
"""

import pytest
from playwright.sync_api import expect

from records.models import Diagnosis, Patient, Prescription, Revision, Visit, VitalSigns
from tests.browser.test_offline_sync import PHONE, device_records, go_offline, go_online, phone, wait_synced
from tests.browser.test_offline_sync import in_gamma as in_clinic
from tests.conftest import _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SITI = {
    "full_name": "Siti Aminah",
    "nik": "3171015403850001",  # DKI Jakarta; born 14-03-85, a woman: day 14 + 40
    "birth_date": "1985-03-14",
    "sex": "F",
    "phone": "0812-3456-7890",
    "address": "Jl. Melati No. 5, RT 03/RW 07, Jakarta Timur",
    "allergies": "Penisilin",
}
BUDI = {"full_name": "Budi Santoso", "nik": "3171010207900002", "birth_date": "1990-07-02", "sex": "M"}
VITALS = {  # as the nurse types them: an Indonesian decimal comma, and a dot
    "temperature_c": "38,2",
    "pulse": "96",
    "respiratory_rate": "22",
    "systolic": "118",
    "diastolic": "76",
    "spo2": "97",
    "height_cm": "155.5",
    "weight_kg": "60.2",
}
NOTE = {
    "subjective": "Demam 3 hari, naik turun, terutama sore. Batuk pilek, mual 🤢",
    "objective": "T 38,2 °C, faring hiperemis, lidah kotor",
    "assessment": "Suspek demam tifoid",
    "plan": "Cek Widal, tirah baring, minum banyak air",
}


@pytest.fixture(scope="session")
def day_clinic(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("pwaday", "Klinik Sehat Sentosa")


def installed_phone(browser, live_url, clinic, role):
    """A phone in Indonesian, signed in as `role`, the app installed (its service worker controls it)."""
    context, page = phone(browser, live_url, clinic, role, service_workers="allow")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    return context, page


def fill_form(form, values):
    for name, value in values.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("(el) => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def register(page, values) -> None:
    page.evaluate("window.location.hash = '#/'")
    page.click("#open-register")
    form = page.locator("form[data-form=register]")
    fill_form(form, values)
    form.locator("button[type=submit]").click()


def id_in_url(page, kind) -> str:
    page.wait_for_url(f"**#/{kind}/*")
    return page.url.rsplit("/", 1)[1]


def open_visit(page, visit_id):
    page.evaluate("(id) => { window.location.hash = `#/visit/${id}`; }", visit_id)
    page.wait_for_selector(f".visit-screen[data-visit='{visit_id}'] #patient-banner")


def test_a_day_at_the_clinic_on_phones_in_indonesian(browser, live_url, day_clinic):
    # --- Front desk: two patients, a second registration of one of them flagged, a visit. ----------
    desk_context, desk = installed_phone(browser, live_url, day_clinic, "frontdesk")
    register(desk, SITI)
    siti = id_in_url(desk, "patient")
    register(desk, BUDI)
    budi = id_in_url(desk, "patient")
    assert budi != siti
    # Siti comes back to the desk the next hour; she is typed in again, the name a little differently.
    register(desk, {"full_name": "siti  aminah", "birth_date": SITI["birth_date"], "sex": "F"})
    duplicates = desk.locator("#duplicates")
    expect(duplicates.locator(f"[data-duplicate-id='{siti}']")).to_be_visible()
    assert "Siti Aminah" in duplicates.inner_text()
    duplicates.locator(f"a[data-duplicate-id='{siti}']").click()  # "open this patient"
    desk.wait_for_url(f"**#/patient/{siti}")
    desk.click("#open-new-visit")
    visit_form = desk.locator("form[data-form=new-visit]")
    visit_form.locator("[name=chief_complaint]").fill("Demam 3 hari, batuk pilek")
    visit_form.locator("button[type=submit]").click()
    visit = id_in_url(desk, "visit")
    wait_synced(desk)
    assert in_clinic(day_clinic, lambda: Patient.objects.filter(full_name__iexact="siti aminah").count()) == 1

    # --- Nurse: the connection drops; the app opens from the phone and takes the vital signs. -------
    nurse_context, nurse = installed_phone(browser, live_url, day_clinic, "nurse")
    go_offline(nurse_context, nurse)
    nurse.reload()
    nurse.wait_for_function("window.emr && emr.ready")
    open_visit(nurse, visit)
    expect(nurse.locator("#patient-banner")).to_contain_text("Penisilin")
    nurse.click("#add-vitals")
    vitals_form = nurse.locator("form[data-form=vitals]")
    fill_form(vitals_form, VITALS)
    vitals_form.locator("button[type=submit]").click()
    expect(vitals_form).to_have_count(0)
    vitals_line = nurse.locator("#vitals-list li").first
    expect(vitals_line.locator("[data-vital=temperature_c] dd")).to_have_text("38,2")
    expect(nurse.locator("#pending-count")).to_have_text("1 perubahan menunggu")
    assert nurse.locator("#online-state").inner_text() == "Luring"
    go_online(nurse_context, nurse)
    wait_synced(nurse)
    vitals_id = vitals_line.get_attribute("data-id")

    # --- Doctor: the note, a diagnosis found in Indonesian, a prescription, finishing, a correction. --
    doctor_context, doctor = installed_phone(browser, live_url, day_clinic, "doctor")
    open_visit(doctor, visit)
    banner = doctor.locator("#patient-banner")
    expect(banner.locator("[data-allergies=known]")).to_have_text("⚠ Alergi: Penisilin")
    assert "Siti Aminah" in banner.inner_text()
    expect(doctor.locator(f"#vitals-list li[data-id='{vitals_id}'] [data-vital=weight_kg] dd")).to_have_text("60,2")
    soap = doctor.locator("form[data-form=soap]")
    fill_form(soap, NOTE)
    drawn = doctor.evaluate("emr.rendered")
    soap.locator("button[type=submit]").click()
    doctor.wait_for_function(f"emr.rendered > {drawn}")  # the screen redrawn with the saved note
    expect(doctor.locator("#soap [name=assessment]")).to_have_value(NOTE["assessment"])

    doctor.click("#add-diagnosis")
    doctor.fill("#icd-search", "tifoid")
    typhoid = doctor.locator("#icd-results button[data-code='A01.0']")
    expect(typhoid).to_contain_text("Demam tifoid")
    typhoid.click()
    doctor.click("form[data-form=diagnosis] button[type=submit]")
    expect(doctor.locator("#diagnosis-list li").first).to_contain_text("A01.0")

    doctor.click("#add-prescription")
    prescription = doctor.locator("form[data-form=prescription]")
    prescription.locator("[name=drug]").press_sequentially("Amoksisilin 500 mg")
    warning = prescription.locator("#allergy-warning")
    expect(warning).to_be_visible()
    assert "Penisilin" in warning.inner_text()
    # Warned, the doctor prescribes another antibiotic instead.
    prescription.locator("[name=drug]").fill("")
    prescription.locator("[name=drug]").press_sequentially("Kloramfenikol 500 mg")
    expect(warning).to_be_hidden()
    fill_form(prescription, {"dose": "500 mg", "frequency": "4x1", "quantity": "40", "instructions": "Sesudah makan"})
    prescription.locator("button[type=submit]").click()
    expect(prescription).to_have_count(0)

    doctor.click("#finish-visit")
    expect(doctor.locator("#finished-note")).to_be_visible()
    wait_synced(doctor)
    # The thermometer was read wrong: corrected after finishing, with the reason.
    doctor.locator(f"#vitals-list li[data-id='{vitals_id}'] button[data-edit]").click()
    edit = doctor.locator("form[data-form=edit-vitals]")
    edit.locator("[name=temperature_c]").fill("38.4")
    edit.locator("[name=reason]").fill("Salah baca termometer")
    edit.locator("button[type=submit]").click()
    expect(edit).to_have_count(0)
    wait_synced(doctor)

    # --- A second device (the owner's phone) holds every value as it was typed. ---------------------
    owner_context, owner = installed_phone(browser, live_url, day_clinic, "owner")
    records = {r["id"]: {**(r["server"] or {}), **(r["local"] or {})} for r in device_records(owner, [siti, visit])}
    assert {key: records[siti][key] for key in SITI} == SITI
    assert {key: records[visit][key] for key in NOTE} == NOTE
    assert records[visit]["status"] == "finished"
    vitals_row = device_records(owner, [vitals_id])[0]["server"]
    typed = {**VITALS, "temperature_c": "38.4"}  # 38,2 typed, corrected to 38.4
    assert {key: str(vitals_row[key]) for key in typed} == typed
    open_visit(owner, visit)
    vitals_shown = owner.locator(f"#vitals-list li[data-id='{vitals_id}']")
    expect(vitals_shown.locator("[data-vital=temperature_c] dd")).to_have_text("38,4")
    expect(vitals_shown.locator("[data-vital=height_cm] dd")).to_have_text("155,5")
    expect(owner.locator("#diagnosis-list")).to_contain_text("A01.0")
    expect(owner.locator("#prescription-list")).to_contain_text("Kloramfenikol 500 mg")
    assert owner.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # --- And so does the server, with the correction attributable. ----------------------------------
    def stored():
        vitals = VitalSigns.objects.get(pk=vitals_id)
        return {
            "vitals": {key: str(getattr(vitals, key)) for key in typed},
            "visit": Visit.objects.get(pk=visit).status,
            "diagnoses": list(Diagnosis.objects.filter(visit_id=visit).values_list("code", flat=True)),
            "drugs": list(Prescription.objects.filter(visit_id=visit).values_list("drug", flat=True)),
            "amendment": Revision.objects.filter(record_id=vitals_id, action="amend").values_list("reason", flat=True)[
                0
            ],
        }

    assert in_clinic(day_clinic, stored) == {
        "vitals": typed,
        "visit": "finished",
        "diagnoses": ["A01.0"],
        "drugs": ["Kloramfenikol 500 mg"],
        "amendment": "Salah baca termometer",
    }
    for context in (desk_context, nurse_context, doctor_context, owner_context):
        context.close()
