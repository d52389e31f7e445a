"""The owner's devices page: who, which browser, first and last seen, state, how far behind; revoking
after a confirmation, with who revoked it kept; a revoked device is refused with a code the app knows."""

import pytest
from django.utils import translation
from django_tenants.utils import schema_context

from sync.models import Device
from sync.views import readable_user_agent
from tenants.accounts.models import OwnerAction, Role
from tests.conftest import login
from tests.records.conftest import ApiClient, make_patient

pytestmark = pytest.mark.django_db

ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("agent", "readable"),
    [
        (ANDROID_CHROME, "Chrome 131 on Android"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari 17 on iOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
            "Safari/537.36 Edg/130.0.2849.68",
            "Edge 130 on Windows",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133 on Linux"),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
            "Samsung Internet 26 on Android",
        ),
        ("curl/8.5.0", ""),
    ],
)
def test_a_user_agent_in_words(agent, readable):
    with translation.override("en"):
        assert readable_user_agent(agent) == readable
    with translation.override("id"):
        assert readable_user_agent(ANDROID_CHROME) == "Chrome 131 di Android"


def _nurse_device(alpha, device_id: str = "tablet-nurse-9") -> ApiClient:
    client = login(alpha.host, alpha.email(Role.NURSE))
    client.defaults["HTTP_USER_AGENT"] = ANDROID_CHROME
    nurse = ApiClient(client)
    assert nurse.get("/api/sync/pull", cursor=0, device_id=device_id).status_code == 200
    return nurse


def test_the_page_lists_each_device_with_its_person_browser_and_how_far_behind(alpha):
    _nurse_device(alpha)
    make_patient(alpha)  # a change at the clinic after the device was last seen
    page = login(alpha.host, alpha.email(Role.OWNER)).get("/devices/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-device="tablet-nurse-9"' in page
    assert "Nurse Klinik Alpha" in page
    assert "Chrome 131 on Android" in page
    assert f'title="{ANDROID_CHROME}"' in page
    assert "1 change at the clinic since it last synced" in page
    assert "Active" in page


def test_revoking_asks_first_then_the_device_is_refused_and_the_page_says_when_and_by_whom(alpha):
    nurse = _nurse_device(alpha)
    owner = login(alpha.host, alpha.email(Role.OWNER))
    confirm = owner.get("/devices/tablet-nurse-9/revoke/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "cannot be undone" in confirm
    assert nurse.get("/api/sync/pull", cursor=0, device_id="tablet-nurse-9").status_code == 200
    response = owner.post("/devices/tablet-nurse-9/revoke/", HTTP_ACCEPT_LANGUAGE="en", follow=True)
    page = response.content.decode()
    assert "is revoked" in page
    assert "Revoked on" in page
    assert "by Owner Klinik Alpha" in page
    # Its sign-in is ended; signed in again on it, it is told it is revoked.
    assert nurse.get("/api/sync/pull", cursor=0, device_id="tablet-nurse-9").status_code == 403
    again = ApiClient(login(alpha.host, alpha.email(Role.NURSE)))
    refused = again.get("/api/sync/pull", cursor=0, device_id="tablet-nurse-9")
    assert refused.status_code == 403
    assert refused.json()["code"] == "device_revoked"
    with schema_context(alpha.clinic.schema_name):
        action = OwnerAction.objects.get(kind=OwnerAction.Kind.DEVICE_REVOKED)
        assert (action.device_id, action.by.email) == ("tablet-nurse-9", alpha.email(Role.OWNER))
        assert Device.objects.get(pk="tablet-nurse-9").revoked_at is not None


def test_a_revoked_device_cannot_come_back_under_another_id_nor_use_the_api(alpha):
    """A lost tablet still signed in: revoking it ends its session, so clearing the app's data to get a
    new device id, or calling the REST API, finds nobody signed in; the nurse's other device goes on."""
    lost = _nurse_device(alpha, "lost-tablet-01")
    phone = _nurse_device(alpha, "nurse-phone-02")
    owner = login(alpha.host, alpha.email(Role.OWNER))
    assert owner.post("/devices/lost-tablet-01/revoke/").status_code == 302
    assert lost.get("/api/sync/pull", cursor=0, device_id="fresh-id-0003").status_code == 403
    assert lost.get("/api/patients/").status_code == 403
    assert phone.get("/api/sync/pull", cursor=0, device_id="nurse-phone-02").status_code == 200
    assert phone.get("/api/patients/").status_code == 200


def test_a_device_of_another_person_is_refused_without_the_revoked_code(alpha):
    _nurse_device(alpha)
    doctor = ApiClient(login(alpha.host, alpha.email(Role.DOCTOR)))
    refused = doctor.get("/api/sync/pull", cursor=0, device_id="tablet-nurse-9")
    assert refused.status_code == 403
    assert "code" not in refused.json()


def test_an_unknown_device_is_404(alpha):
    owner = login(alpha.host, alpha.email(Role.OWNER))
    assert owner.get("/devices/no-such-device/revoke/").status_code == 404
    assert owner.post("/devices/no-such-device/revoke/").status_code == 404
