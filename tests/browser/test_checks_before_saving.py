"""The app checks each field with the server's rules before saving, in Indonesian on a phone (390x844):
a refused value is said beside its field (which gets focus), and nothing reaches the outbox; a patient
who may be registered already is shown before a new one is saved.

These tests run at a clinic of their own (`pwachecks`); no other test uses that subdomain.
"""

import pytest

from tests.browser.test_offline_sync import base_url, sign_in, wait_synced
from tests.conftest import _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def checks(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("pwachecks", "Klinik Cek Isian")


@pytest.fixture
def phone(browser, live_url, checks):
    """`phone(role)`: a phone in Indonesian, signed in at the clinic with the app synced."""
    contexts = []

    def open_as(role: str):
        context = browser.new_context(locale="id-ID", service_workers="block", viewport=PHONE)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return sign_in(context, base_url(live_url, checks), checks.email(role))

    yield open_as
    for context in contexts:
        context.close()


def patients(page) -> int:
    """Patients on the device, synced or not."""
    return page.evaluate("emr.db.records.where('entity').equals('patient').count()")


def waiting(page, entity: str = "patient") -> int:
    """Changes of this kind waiting in the device's outbox."""
    return page.evaluate("(entity) => emr.db.outbox.where('entity').equals(entity).count()", entity)


def save_local(page, entity: str, fields: dict) -> str:
    return page.evaluate(
        "async ([entity, fields]) => { const id = emr.randomId(); "
        "await emr.save([{ entity, id, op: 'create', fields }]); return id; }",
        [entity, fields],
    )


def submit(page, form: str):
    page.click(f"form[data-form={form}] button[type=submit]")


def refused_beside(page, name: str, text: str):
    """The field's message says `text`, the field is described by it, has the focus and is on screen."""
    note = page.locator(f"#e-{name}")
    note.wait_for()
    assert text in note.inner_text()
    field = page.locator(f"#f-{name}")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == f"e-{name}"
    assert page.evaluate("document.activeElement.id") == f"f-{name}"
    box = field.bounding_box()
    assert box["y"] >= 0, box
    assert box["y"] + box["height"] <= PHONE["height"], box
    assert "Periksa isian yang ditandai." in page.inner_text("form .form-errors")


def fill_patient(page, **fields):
    for name, value in fields.items():
        if name == "sex":
            page.select_option("#f-sex", value)
        else:
            page.fill(f"#f-{name}", value)


def test_a_nik_the_server_would_refuse_is_refused_beside_it_and_nothing_is_saved(phone):
    page = phone("frontdesk")
    before = patients(page)
    page.click("#open-register")
    fill_patient(page, full_name="", nik="12345", birth_date="1990-04-12", sex="F")
    submit(page, "register")
    refused_beside(page, "full_name", "Wajib diisi.")  # the first field that fails gets the focus
    assert "NIK harus terdiri dari tepat 16 digit." in page.inner_text("#e-nik")

    fill_patient(page, full_name="Dewi Lestari", nik="3174015304900001")  # born on the 13th, not the 12th
    submit(page, "register")
    refused_beside(page, "nik", "seharusnya 520490")
    assert "Periksa NIK dan tanggal lahir." in page.inner_text("#e-nik")
    assert page.locator("#e-full_name").count() == 0  # put right: its message is gone

    fill_patient(page, nik="3174011204900001")  # a man's NIK, for a woman
    submit(page, "register")
    refused_beside(page, "nik", "NIK ini milik laki-laki")
    assert waiting(page) == 0
    assert patients(page) == before

    fill_patient(page, nik="3174015204900001")
    submit(page, "register")
    page.wait_for_url("**#/patient/**")
    assert patients(page) == before + 1  # saved (and perhaps already synced: the phone is online)


def test_a_temperature_out_of_range_is_refused_with_the_range(phone):
    page = phone("nurse")
    patient = save_local(page, "patient", {"full_name": "Budi Santoso", "birth_date": "1975-06-01", "sex": "M"})
    visit = save_local(page, "visit", {"patient": patient, "started_at": "2026-01-05T02:00:00Z"})
    page.evaluate("(id) => { window.location.hash = `#/visit/${id}`; }", visit)
    page.click("#add-vitals")
    page.fill("#f-temperature_c", "46")
    page.fill("#f-systolic", "120")
    page.fill("#f-diastolic", "130")
    submit(page, "vitals")
    refused_beside(page, "temperature_c", "Harus antara 30,0 dan 45,0 °C.")
    assert "Tekanan diastolik harus lebih rendah dari sistolik." in page.inner_text("#e-diastolic")
    # A decimal keyboard, and a text field: Chromium's number field made "38,2" 382.
    assert page.locator("#f-temperature_c").get_attribute("inputmode") == "decimal"
    assert waiting(page, "vitals") == 0

    page.fill("#f-temperature_c", "")
    page.locator("#f-temperature_c").press_sequentially("38,2")  # as Indonesians write it
    page.fill("#f-diastolic", "80")
    submit(page, "vitals")
    page.wait_for_selector("form[data-form=vitals]", state="detached")
    saved = page.evaluate(
        "emr.db.records.where('entity').equals('vitals').toArray()"
        ".then(([row]) => ({ ...(row.server || {}), ...(row.local || {}) }))"
    )  # in the outbox, or already synced
    assert (str(saved["temperature_c"]), saved["systolic"], saved["diastolic"]) == ("38.2", 120, 80)


def test_a_patient_who_may_be_registered_already_is_shown_before_a_new_one_is_saved(phone):
    page = phone("frontdesk")
    siti = save_local(
        page, "patient", {"full_name": "Siti Aminah", "birth_date": "1987-03-02", "sex": "F", "nik": "3174014203870001"}
    )
    wait_synced(page)
    before = patients(page)  # on the device (the phone is online: a saved one may be synced at once)

    # The same NIK: shown, and registered anyway when the person says so.
    page.click("#open-register")
    fill_patient(page, full_name="Siti Aminah Lubis", nik="3174014203870001", birth_date="1987-03-02", sex="F")
    submit(page, "register")
    duplicates = page.locator("#duplicates")
    duplicates.wait_for()
    assert "Pasien ini mungkin sudah terdaftar" in duplicates.inner_text()
    shown = duplicates.locator(f"[data-duplicate='{siti}']").inner_text()
    for fact in ("Siti Aminah", "3174014203870001", "NIK sama"):
        assert fact in shown
    assert "RM" in shown  # its record number, given by the server when it synced
    assert patients(page) == before
    page.click("#register-anyway")
    page.wait_for_url("**#/patient/**")
    assert siti not in page.url
    assert patients(page) == before + 1

    # The same name (other case and spaces) and birth date: shown, and the person opens that patient.
    page.evaluate("window.location.hash = '#/'")
    page.click("#open-register")
    fill_patient(page, full_name="  siti   AMINAH ", birth_date="1987-03-02", sex="F")
    submit(page, "register")
    page.locator("#duplicates").wait_for()
    assert "nama dan tanggal lahir sama" in page.inner_text(f"#duplicates [data-duplicate='{siti}']")
    assert page.locator("#duplicates [data-duplicate]").count() == 1
    page.click(f"[data-duplicate-id='{siti}']")
    page.wait_for_url(f"**#/patient/{siti}")
    page.locator("#patient-details h2").wait_for()
    assert patients(page) == before + 1  # nothing more was saved
