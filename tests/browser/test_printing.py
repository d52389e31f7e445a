# ruff: noqa: E501  (the JavaScript run in the page keeps its lines whole)
"""Papers printed from the device with no connection: each paper rendered by Chromium to PDF
(`page.pdf`, the page's own CSS size) in Indonesian and in English, its text read back with pypdf.

A doctor's device records a patient and a visit (vital signs, a diagnosis, prescriptions), syncs, goes
offline, and prints the visit summary, the prescription, a sick-leave letter and a referral letter;
a prescription added offline is marked as not yet synced; queue tickets print at 80 and 58 mm.
The clinic (`cetak`) is this file's own. Set PRINT_PDF_DIR to keep the PDFs for a person to look at.
"""

import io
import os
import re
from datetime import date
from pathlib import Path

import pytest
from django_tenants.utils import schema_context
from pypdf import PdfReader

from tenants.accounts.models import User
from tenants.models import Clinic
from tests.browser.test_offline_sync import go_offline, open_app, wait_synced
from tests.conftest import _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

MM = 72 / 25.4  # PDF points in a millimetre
A5 = (148 * MM, 210 * MM)
A4 = (210 * MM, 297 * MM)

ADDRESS = "Jl. Melati No. 12, Sleman, Yogyakarta"
LICENCE = "503/0042/DPMPTSP/2026"
DOCTOR = "dr. Rina Wulandari"
SIP = "SIP.446/0815/DU/2026"
BIRTH = date(1990, 1, 2)

RECORD_VISIT = """
async () => {
  const p = emr.randomId(), v = emr.randomId();
  const now = new Date().toISOString();
  await emr.save([
    {entity: 'patient', id: p, op: 'create', fields: {full_name: 'Siti Aminah Lestari', birth_date: '1990-01-02', sex: 'F', address: 'Dusun Krajan RT 02, Bantul'}},
    {entity: 'visit', id: v, op: 'create', fields: {patient: p, started_at: now, status: 'in_progress', chief_complaint: 'Demam 5 hari', objective: 'Lidah kotor, nyeri tekan epigastrium'}},
    {entity: 'vitals', id: emr.randomId(), op: 'create', fields: {visit: v, measured_at: now, temperature_c: 38.2, weight_kg: 60.2, pulse: 96, systolic: 110, diastolic: 70}},
    {entity: 'diagnosis', id: emr.randomId(), op: 'create', fields: {visit: v, code: 'A01.0', kind: 'primary'}, display: {title: 'Typhoid fever'}},
    {entity: 'prescription', id: emr.randomId(), op: 'create', fields: {visit: v, drug: 'Kloramfenikol 500 mg', dose: '500 mg', frequency: '4x1', duration: '7 hari', quantity: 28}},
    {entity: 'prescription', id: emr.randomId(), op: 'create', fields: {visit: v, drug: 'Parasetamol 500 mg', dose: '500 mg', frequency: '3x1', quantity: 10, instructions: 'bila demam'}},
  ]);
  return {patient: p, visit: v};
}
"""


@pytest.fixture(scope="session")
def cetak(platform_world, django_db_blocker):
    """A clinic whose owner has set its letterhead, and whose doctor has a SIP number."""
    with django_db_blocker.unblock():
        fixture = _make_clinic("cetak", "Klinik Pratama Sehat Sentosa")
        Clinic.objects.filter(pk=fixture.clinic.pk).update(
            address=ADDRESS, phone="0274 555 0123", licence_number=LICENCE
        )
        with schema_context(fixture.clinic.schema_name):
            User.objects.filter(email=fixture.email("doctor")).update(full_name=DOCTOR, sip_number=SIP)
    return fixture


@pytest.fixture(scope="module")
def device(browser, live_url, cetak):
    """The doctor's device with the visit recorded and synced, then with no connection."""
    context, page = open_app(browser, live_url, cetak, role="doctor", locale="id-ID", service_workers="block")
    ids = page.evaluate(RECORD_VISIT)
    wait_synced(page)
    # The visit's screen once online: the app has its ICD-10 table (the diagnoses' titles) in hand.
    show(page, f"#/visit/{ids['visit']}")
    page.wait_for_selector("#diagnosis-list [data-id]")
    go_offline(context, page)
    yield page, ids
    context.close()


def speak(page, language, visit_id):
    """The app in `language`, chosen in its header on the visit's screen."""
    show(page, f"#/visit/{visit_id}")
    page.select_option("#language", language)
    page.wait_for_function("(lang) => document.documentElement.lang === lang", arg=language)


def show(page, route):
    page.evaluate("(route) => { location.hash = route; }", route)
    page.wait_for_function("(route) => emr.drawnRoute === route", arg=route)


def print_pdf(page, route, name):
    """The paper at `route` printed to PDF: (its text with spaces made plain, its page's size in points)."""
    show(page, route)
    page.wait_for_selector("[data-paper][data-ready]")
    data = page.pdf(prefer_css_page_size=True, print_background=True)
    keep = os.environ.get("PRINT_PDF_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        Path(keep, f"{name}.pdf").write_bytes(data)
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    box = reader.pages[0].mediabox
    return text, (float(box.width), float(box.height)), len(reader.pages)


def age_today() -> int:
    today = date.today()
    return today.year - BIRTH.year - ((today.month, today.day) < (BIRTH.month, BIRTH.day))


def assert_size(size, expected):
    assert abs(size[0] - expected[0]) < 1, size
    assert abs(size[1] - expected[1]) < 1, size


def assert_letterhead(text):
    assert "Klinik Pratama Sehat Sentosa" in text
    assert ADDRESS in text
    assert "0274 555 0123" in text
    assert LICENCE in text


def test_papers_print_offline_in_indonesian(device):
    page, ids = device
    visit = ids["visit"]
    speak(page, "id", visit)
    assert page.evaluate("navigator.onLine") is False

    text, size, pages = print_pdf(page, f"#/print/prescription/{visit}?size=a5", "id-prescription")
    assert_size(size, A5)
    assert pages == 1
    assert_letterhead(text)
    assert "RESEP" in text
    assert DOCTOR in text
    assert SIP in text
    assert "R/ Kloramfenikol 500 mg No. 28" in text
    assert "S. 4x1 500 mg 7 hari" in text
    assert "R/ Parasetamol 500 mg No. 10" in text
    assert "Siti Aminah Lestari" in text
    assert f"{age_today()} tahun" in text
    assert "60,2 kg" in text
    assert "Belum tersinkron" not in text
    assert re.search(r"Dicetak dari salinan di perangkat ini pada .+ oleh " + re.escape(DOCTOR), text)

    text, size, _ = print_pdf(page, f"#/print/summary/{visit}?size=a5", "id-summary")
    assert_size(size, A5)
    assert_letterhead(text)
    assert "RINGKASAN KUNJUNGAN" in text
    assert "A01.0 Demam tifoid" in text
    assert "Suhu 38,2 °C" in text
    assert "Lidah kotor" in text
    assert "Kloramfenikol 500 mg" in text

    text, size, _ = print_pdf(page, f"#/print/sick-leave/{visit}?size=a5&days=3&from=2026-03-02", "id-sick-leave")
    assert_size(size, A5)
    assert_letterhead(text)
    assert "SURAT KETERANGAN SAKIT" in text
    assert DOCTOR in text
    assert SIP in text
    assert "Siti Aminah Lestari" in text
    assert "beristirahat selama 3 hari, mulai 2 Mar 2026 sampai dengan 4 Mar 2026" in text
    assert "A01.0" not in text  # a letter for an employer keeps the diagnosis off it

    route = f"#/print/referral/{visit}?size=a4&to=RSUD%20Panembahan%20Senopati%2C%20Poli%20Penyakit%20Dalam&note=Mohon%20kultur%20darah"
    text, size, _ = print_pdf(page, route, "id-referral")
    assert_size(size, A4)
    assert_letterhead(text)
    assert "SURAT RUJUKAN" in text
    assert "RSUD Panembahan Senopati, Poli Penyakit Dalam" in text
    assert "A01.0 Demam tifoid" in text
    assert "Suhu 38,2 °C" in text
    assert "Berat badan 60,2 kg" in text
    assert "Terapi yang telah diberikan" in text
    assert "Kloramfenikol 500 mg" in text
    assert "Mohon kultur darah" in text
    assert DOCTOR in text
    assert SIP in text


def test_papers_print_offline_in_english(device):
    page, ids = device
    visit = ids["visit"]
    speak(page, "en", visit)
    try:
        text, size, _ = print_pdf(page, f"#/print/prescription/{visit}?size=a5", "en-prescription")
        assert_size(size, A5)
        assert_letterhead(text)
        assert "RESEP / PRESCRIPTION" in text
        assert DOCTOR in text
        assert SIP in text
        assert "R/ Kloramfenikol 500 mg No. 28" in text
        assert f"{age_today()} years" in text
        assert "60.2 kg" in text
        assert "Not yet synced" not in text
        assert re.search(r"Printed from this device's copy on .+ by " + re.escape(DOCTOR), text)

        text, _, _ = print_pdf(page, f"#/print/summary/{visit}?size=a4", "en-summary")
        assert "VISIT SUMMARY" in text
        assert "A01.0 Typhoid fever" in text
        assert "Temp. 38.2 °C" in text

        text, _, _ = print_pdf(page, f"#/print/sick-leave/{visit}?days=1&from=2026-03-02", "en-sick-leave")
        assert "SURAT KETERANGAN SAKIT / SICK-LEAVE CERTIFICATE" in text
        assert "needs 1 day of rest, on 2 Mar 2026" in text

        text, size, _ = print_pdf(page, f"#/print/referral/{visit}?to=Dr.%20Budi%2C%20Sp.PD", "en-referral")
        assert_size(size, A5)
        assert "SURAT RUJUKAN / REFERRAL LETTER" in text
        assert "Dr. Budi, Sp.PD" in text
        assert "A01.0 Typhoid fever" in text
        assert "Weight 60.2 kg" in text
        assert "Therapy given" in text
    finally:
        speak(page, "id", visit)


def test_a_prescription_added_offline_is_marked_not_yet_synced(device):
    page, ids = device
    visit = ids["visit"]
    speak(page, "id", visit)
    page.evaluate(
        "(visit) => emr.save([{entity: 'prescription', id: emr.randomId(), op: 'create', fields: {visit, drug: 'Omeprazol 20 mg', frequency: '1x1', quantity: 7}}])",
        visit,
    )
    text, _, _ = print_pdf(page, f"#/print/prescription/{visit}?size=a5", "id-prescription-unsynced")
    assert "R/ Omeprazol 20 mg No. 7 Belum tersinkron" in text
    assert "R/ Kloramfenikol 500 mg No. 28 S." in text  # the synced lines carry no mark
    assert "Sebagian isi dokumen ini belum diterima server" in text
    assert "Dicetak dari salinan di perangkat ini" in text


TICKETS = """
async ({patient, doctor}) => {
  const numbered = emr.randomId(), waiting = emr.randomId();
  // A visit the server has numbered, as a pull stores it (no change of this device's waiting).
  await emr.db.records.put({id: numbered, entity: 'visit', parent: patient, version: 1, local: null,
    server: {id: numbered, version: 1, patient, started_at: '2026-03-02T01:05:00Z', arrived_at: '2026-03-02T01:05:00Z', status: 'arrived', practitioner: doctor, queue_number: 7}});
  // A visit checked in on this device, offline: no number until the server gives it.
  await emr.save([{entity: 'visit', id: waiting, op: 'create', fields: {patient, started_at: '2026-03-02T01:20:00Z', arrived_at: '2026-03-02T01:20:00Z', status: 'arrived'}}]);
  return {numbered, waiting};
}
"""


def test_queue_tickets_at_80_and_58_mm(device, cetak):
    page, ids = device
    speak(page, "id", ids["visit"])
    with schema_context(cetak.clinic.schema_name):
        doctor = User.objects.get(email=cetak.email("doctor")).pk
    tickets = page.evaluate(TICKETS, {"patient": ids["patient"], "doctor": doctor})

    text, size, pages = print_pdf(page, f"#/print/ticket/{tickets['numbered']}?size=80", "id-ticket-80")
    assert abs(size[0] - 80 * MM) < 1, size
    assert pages == 1
    assert "Klinik Pratama Sehat Sentosa" in text
    assert "Nomor antrian 7" in text
    assert DOCTOR in text
    assert "Siti" in text
    assert "Aminah" not in text
    assert "Belum tersinkron" not in text

    text, size, pages = print_pdf(page, f"#/print/ticket/{tickets['waiting']}?size=58", "id-ticket-58")
    assert abs(size[0] - 58 * MM) < 1, size
    assert pages == 1
    assert "Nomor menunggu sinkron" in text
    assert "Belum tersinkron" in text
    assert "Siti" in text
    assert "Lestari" not in text

    speak(page, "en", ids["visit"])
    try:
        text, size, _ = print_pdf(page, f"#/print/ticket/{tickets['waiting']}?size=80", "en-ticket-80")
        assert abs(size[0] - 80 * MM) < 1, size
        assert "Number pending sync" in text
        assert "Not yet synced" in text
    finally:
        speak(page, "id", ids["visit"])
