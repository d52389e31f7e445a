"""A suspended clinic, said clearly: its pages name the clinic, say its records are kept and whom to
contact; its API and sync answer `403 {"code": "clinic_suspended", ...}`, never the signed-out answer."""

import pytest
from django.conf import settings
from django.test import override_settings

from tenants.accounts.models import Role
from tenants.models import Clinic
from tenants.services import clinic_set_status
from tests.conftest import ClinicFixture, host_client, login

pytestmark = pytest.mark.django_db

SUPPORT = {"SUPPORT_EMAIL": "bantuan@klinik.example", "SUPPORT_PHONE": "+62 21 555 0100"}
DEVICE = "suspended-device-1"


def _suspend(clinic: ClinicFixture) -> None:
    # A copy of the row: the session's fixture object stays as it was for the tests after this one.
    row = Clinic.objects.get(pk=clinic.clinic.pk)
    clinic_set_status(clinic=row, status=Clinic.Status.SUSPENDED, operator_email="ops@platform.test", reason="Unpaid")


@pytest.fixture
def doctor(alpha):
    client = login(alpha.host, alpha.email(Role.DOCTOR))
    _suspend(alpha)
    return client


PAGE_WORDS = {
    "id": ["Klinik Alpha ditangguhkan", "tidak ada yang hilang", "hubungi layanan bantuan platform"],
    "en": ["Klinik Alpha is suspended", "nothing was lost", "contact the platform's support"],
}


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_page_names_the_clinic_says_nothing_was_lost_and_whom_to_contact(doctor, language):
    with override_settings(**SUPPORT):
        page = doctor.get("/", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 403
    body = page.content.decode()
    assert f'<html lang="{language}">' in body
    for words in PAGE_WORDS[language]:
        assert words in body
    assert '<a href="mailto:bantuan@klinik.example">bantuan@klinik.example</a>' in body
    assert '<a href="tel:+62215550100">+62 21 555 0100</a>' in body
    assert "Unpaid" not in body  # the operator's reason is for the console


def test_the_page_says_the_same_to_someone_not_signed_in(alpha):
    _suspend(alpha)
    page = host_client(alpha.host).get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 403
    body = page.content.decode()
    assert "Klinik Alpha is suspended" in body
    assert f"mailto:{settings.SUPPORT_EMAIL}" in body
    assert "tel:" not in body  # no SUPPORT_PHONE set


DETAIL = {
    "id": "Klinik Alpha sedang ditangguhkan oleh platform. Rekam medisnya tetap tersimpan dan tidak ada yang "
    "hilang. Untuk memakainya lagi, hubungi layanan bantuan platform: bantuan@klinik.example atau +62 21 555 0100",
    "en": "Klinik Alpha is suspended on the platform. Its records are kept and nothing was lost. To use it "
    "again, contact the platform's support: bantuan@klinik.example or +62 21 555 0100",
}
API_CALLS = {
    "me": ("get", "/api/me/", {}),
    "records": ("get", "/api/patients/", {}),
    "sync pull": ("get", f"/api/sync/pull?device_id={DEVICE}", {}),
    "sync push": ("post", "/api/sync/push", {"data": {"device_id": DEVICE, "mutations": []}}),
}


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("call", API_CALLS.values(), ids=API_CALLS.keys())
def test_api_and_sync_answer_clinic_suspended(doctor, call, language):
    method, path, extra = call
    with override_settings(**SUPPORT):
        response = getattr(doctor, method)(
            path, content_type="application/json", HTTP_ACCEPT_LANGUAGE=language, **extra
        )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": "clinic_suspended",
        "code": "clinic_suspended",
        "clinic_name": "Klinik Alpha",
        "detail": DETAIL[language],
        "contact": {"email": "bantuan@klinik.example", "phone": "+62 21 555 0100"},
    }


def test_the_api_answer_is_the_same_without_a_session_and_has_no_phone_unless_set(alpha):
    _suspend(alpha)
    response = host_client(alpha.host).get("/api/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403  # not the signed-out answer: the app must not ask to sign in
    body = response.json()
    assert body["code"] == "clinic_suspended"
    assert body["contact"] == {"email": settings.SUPPORT_EMAIL, "phone": None}
    assert body["detail"].endswith(f"contact the platform's support: {settings.SUPPORT_EMAIL}")


def test_signing_out_still_works_and_the_data_is_kept(doctor, alpha):
    assert doctor.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in doctor.session
    row = Clinic.objects.get(pk=alpha.clinic.pk)
    clinic_set_status(clinic=row, status=Clinic.Status.ACTIVE, operator_email="ops@platform.test")
    again = login(alpha.host, alpha.email(Role.DOCTOR))
    assert again.get("/api/me/").json()["clinic_name"] == "Klinik Alpha"


def test_the_favicon_is_still_served(doctor):
    assert doctor.get("/favicon.ico").status_code == 200
