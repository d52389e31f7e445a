"""The day's queue in the browser: two front-desk devices check patients in offline at once and get
unique numbers in their order once they sync, every device shows the same queue, and a call reaches the
waiting-room display (shown large and said aloud) within seconds."""

import time

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from records import queue, services
from records.models import Visit
from tenants.accounts.models import Role, User
from tests.browser.test_offline_sync import base_url, committed, go_offline, go_online, phone, wait_synced, wait_until
from tests.conftest import _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

NAMES = ["Siti Aminah", "Budi Santoso", "Wayan Sudarsana", "Dewi Lestari", "Agus Salim", "Rina Marlina"]

# Web Speech in a test browser says nothing anyone can hear: what the display asks it to say is kept.
RECORD_SPEECH = """
window.spoken = [];
Object.defineProperty(window, 'speechSynthesis', {
  configurable: true,
  value: { speak: (u) => { if (u.text) window.spoken.push({ text: u.text, lang: u.lang }); } },
});
"""


@pytest.fixture(scope="module")
def clinic(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("antrian", "Klinik Antrian Sehat")


@pytest.fixture(scope="module")
def display_clinic(platform_world, django_db_blocker):
    """A clinic of its own, whose queue holds only the patient the display test calls."""
    with django_db_blocker.unblock():
        return _make_clinic("antriantv", "Klinik Layar Antrian")


def _actor(clinic, role):
    return services.Actor(user=User.objects.get(email=clinic.email(role)), device_id="server-test")


def _patients(clinic, django_db_blocker, names) -> list[str]:
    def create():
        actor = _actor(clinic, Role.FRONT_DESK)
        data = {"birth_date": "1990-05-17", "sex": "F"}
        return [
            str(services.record_create(entity="patient", actor=actor, data={"full_name": name, **data}).pk)
            for name in names
        ]

    return committed(django_db_blocker, create, clinic.clinic.schema_name)


def _check_in_on_screen(page, patient_id):
    page.goto(page.url.split("#")[0] + f"#/patient/{patient_id}")
    page.wait_for_function(f"emr.drawnRoute === '#/patient/{patient_id}'")
    page.click("#open-new-visit")
    page.click("form[data-form=new-visit] button[type=submit]")
    page.wait_for_selector("#queue-line")
    return page.evaluate("location.hash.split('/')[2]")


def _queue_shown(page) -> list[tuple[str, str]]:
    """(number, patient's name) of each queue line, top to bottom."""
    return page.eval_on_selector_all(
        "#queue li.queue-item",
        "items => items.map((li) => [li.dataset.number, li.querySelector('strong').textContent])",
    )


def test_two_front_desks_offline_get_unique_numbers_and_every_device_shows_one_queue(
    browser, live_url, clinic, django_db_blocker
):
    patients = _patients(clinic, django_db_blocker, NAMES)
    first_context, first = phone(browser, live_url, clinic, "frontdesk")
    second_context, second = phone(browser, live_url, clinic, "frontdesk", locale="en-US")
    for context, page in ((first_context, first), (second_context, second)):
        go_offline(context, page)
    # Interleaved, as two desks at once: A1, B1, A2, B2, A3, B3.
    visits = {first: [], second: []}
    for index, patient_id in enumerate(patients):
        page = first if index % 2 == 0 else second
        visits[page].append(_check_in_on_screen(page, patient_id))
        pending = {first: "Nomor menunggu sinkron", second: "Number pending sync"}[page]
        assert pending in page.inner_text("#queue-line")
    first.goto(first.url.split("#")[0] + "#/queue")
    first.wait_for_function("emr.drawnRoute === '#/queue'")
    assert [number for number, _name in _queue_shown(first)] == ["", "", ""]  # offline: numbers pending
    assert first.query_selector("#call-next") is None  # front desk checks in; clinicians call

    for context, page in ((first_context, first), (second_context, second)):
        go_online(context, page)
    for page in (first, second):
        wait_synced(page)
    for page in (first, second):
        page.goto(page.url.split("#")[0] + "#/queue")
        page.wait_for_function(
            "document.querySelectorAll('#queue li.queue-item[data-number]:not([data-number=\"\"])').length === 6",
            timeout=30_000,
        )
    shown = [_queue_shown(page) for page in (first, second)]
    assert shown[0] == shown[1]  # the same queue on every device
    assert [number for number, _name in shown[0]] == ["1", "2", "3", "4", "5", "6"]
    with django_db_blocker.unblock(), schema_context(clinic.clinic.schema_name):
        numbers = {str(pk): n for pk, n in Visit.objects.values_list("pk", "queue_number")}
    for page in (first, second):
        mine = [numbers[visit] for visit in visits[page]]
        assert mine == sorted(mine)  # each desk's patients in the order it checked them in
    first_context.close()
    second_context.close()


def test_a_call_reaches_the_waiting_room_display_large_and_aloud(browser, live_url, display_clinic, django_db_blocker):
    clinic = display_clinic
    (patient,) = _patients(clinic, django_db_blocker, ["Ahmad Fauzi Hasibuan"])

    def prepare():
        owner = User.objects.get(email=clinic.email(Role.OWNER))
        _link, token = queue.display_link_create(label="TV ruang tunggu", user=owner)
        now = timezone.now().isoformat()
        visit = services.record_create(
            entity="visit",
            actor=_actor(clinic, Role.FRONT_DESK),
            data={"patient": patient, "started_at": now, "arrived_at": now},
        )
        return token, visit

    token, visit = committed(django_db_blocker, prepare, clinic.clinic.schema_name)
    number = visit.queue_number

    tv = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    tv.add_init_script(RECORD_SPEECH)
    screen = tv.new_page()
    response = screen.goto(f"{base_url(live_url, clinic)}/display/{token}/")
    assert response.status == 200
    screen.wait_for_function("document.getElementById('display').dataset.shownKey !== undefined")
    assert "Sekarang dipanggil" in screen.inner_text("#now")  # in Indonesian on an English TV
    screen.click("#sound")  # a browser speaks only after a tap

    doctor_context, doctor = phone(browser, live_url, clinic, "doctor")
    doctor.goto(doctor.url.split("#")[0] + "#/queue")
    doctor.wait_for_selector(f"#queue li[data-number='{number}']")
    doctor.click("#call-next")

    def called() -> bool:
        with django_db_blocker.unblock(), schema_context(clinic.clinic.schema_name):
            return Visit.objects.filter(pk=visit.pk, called_at__isnull=False).exists()

    wait_until(called, timeout=15, waiting_for="the doctor's call to reach the server")
    reached = time.monotonic()
    screen.wait_for_function(f"document.getElementById('now-number').textContent === '{number}'", timeout=5_000)
    assert time.monotonic() - reached < 5
    assert "Ahmad" not in screen.inner_text("body")  # no names unless the owner allows first names
    screen.wait_for_function("window.spoken.length === 1")
    spoken = screen.evaluate("window.spoken")[0]
    assert spoken["lang"] == "id-ID"
    assert spoken["text"].startswith("Nomor antrian ")

    # Call again: said again, the doctor's queue shows the patient as called.
    doctor.wait_for_selector(f"#queue li[data-number='{number}'][data-queue-state=q_called]")
    doctor.click(f"#queue li[data-number='{number}'] [data-action=call-again]")
    screen.wait_for_function("window.spoken.length === 2", timeout=15_000)
    doctor_context.close()
    tv.close()
