"""The owner's clinic settings page: the clinic's details, queue options and practitioners' SIP numbers."""

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tenants.accounts.models import OwnerAction, Role, User
from tenants.models import Clinic
from tests.conftest import login, user_in

pytestmark = pytest.mark.django_db


def _form(alpha, **overrides) -> dict:
    data = {
        "name": "Klinik Alpha Sehat",
        "address": "Jl. Melati 12, Denpasar",
        "phone": "0361 234567",
        "licence_number": "503/123/DPMPTSP/2025",
        "queue_per_practitioner": "on",
    }
    for role in (Role.DOCTOR, Role.NURSE):
        data[f"sip_{user_in(alpha, alpha.email(role)).pk}"] = f"SIP-{role}-001"
    data.update(overrides)
    return data


def _owner(alpha) -> Client:
    return login(alpha.host, alpha.email(Role.OWNER))


def test_the_page_shows_the_clinic_and_each_practitioners_sip_field(alpha):
    response = _owner(alpha).get("/settings/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Klinik Alpha"' in page
    for role in (Role.DOCTOR, Role.NURSE):
        assert f'name="sip_{user_in(alpha, alpha.email(role)).pk}"' in page
    for role in (Role.OWNER, Role.FRONT_DESK):  # no SIP for those who do not practise
        assert f'name="sip_{user_in(alpha, alpha.email(role)).pk}"' not in page


def test_saving_changes_the_clinic_the_sip_numbers_and_what_the_app_is_told(alpha):
    owner = _owner(alpha)
    response = owner.post("/settings/", _form(alpha), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response["Location"] == "/settings/"
    assert "settings are saved" in owner.get("/settings/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    clinic = Clinic.objects.get(pk=alpha.clinic.pk)
    assert (clinic.name, clinic.phone, clinic.licence_number) == (
        "Klinik Alpha Sehat",
        "0361 234567",
        "503/123/DPMPTSP/2025",
    )
    assert clinic.queue_per_practitioner is True
    assert clinic.display_first_names is False
    assert user_in(alpha, alpha.email(Role.DOCTOR)).sip_number == "SIP-doctor-001"
    me = login(alpha.host, alpha.email(Role.NURSE)).get("/api/me/").json()
    assert me["clinic_name"] == "Klinik Alpha Sehat"
    assert me["clinic_details"]["address"] == "Jl. Melati 12, Denpasar"
    doctor = next(member for member in me["staff"] if member["role"] == "doctor")
    assert doctor["sip_number"] == "SIP-doctor-001"
    with schema_context(alpha.clinic.schema_name):
        logged = OwnerAction.objects.get(kind=OwnerAction.Kind.SETTINGS_CHANGED)
    assert logged.by.email == alpha.email(Role.OWNER)
    assert logged.before["name"] == "Klinik Alpha"
    assert logged.after["name"] == "Klinik Alpha Sehat"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "   ", "Enter the clinic"),
        ("phone", "call me", "Enter a phone number of 6 to 15 digits"),
        ("phone", "12", "Enter a phone number of 6 to 15 digits"),
        ("licence_number", "x" * 101, "at most 100 characters"),
    ],
)
def test_a_wrong_value_is_said_plainly_and_nothing_is_saved(alpha, field, value, message):
    response = _owner(alpha).post("/settings/", _form(alpha, **{field: value}), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    assert Clinic.objects.get(pk=alpha.clinic.pk).name == "Klinik Alpha"
    assert user_in(alpha, alpha.email(Role.DOCTOR)).sip_number == ""


def test_a_too_long_sip_number_keeps_the_clinic_unchanged(alpha):
    doctor_id = user_in(alpha, alpha.email(Role.DOCTOR)).pk
    response = _owner(alpha).post("/settings/", _form(alpha, **{f"sip_{doctor_id}": "9" * 101}))
    assert response.status_code == 400
    assert Clinic.objects.get(pk=alpha.clinic.pk).name == "Klinik Alpha"


def test_the_page_speaks_indonesian(alpha):
    page = _owner(alpha).get("/settings/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Pengaturan klinik" in page
    assert "Nomor SIP" in page


def test_saving_nothing_new_logs_nothing(alpha):
    owner = _owner(alpha)
    data = {"name": "Klinik Alpha"}
    with schema_context(alpha.clinic.schema_name):
        for member in User.objects.filter(role__in=[Role.DOCTOR, Role.NURSE]):
            data[f"sip_{member.pk}"] = member.sip_number
    assert owner.post("/settings/", data).status_code == 302
    with schema_context(alpha.clinic.schema_name):
        assert not OwnerAction.objects.exists()


def test_a_practitioner_added_while_the_page_was_open_keeps_their_sip_number(alpha):
    """The page was loaded before the nurse had a SIP field (say she was front desk then): saving it
    must not clear the number she has now."""
    nurse = user_in(alpha, alpha.email(Role.NURSE))
    with schema_context(alpha.clinic.schema_name):
        User.objects.filter(pk=nurse.pk).update(sip_number="446/SIPP/0777/2025")
    data = _form(alpha)
    del data[f"sip_{nurse.pk}"]
    assert _owner(alpha).post("/settings/", data).status_code == 302
    assert user_in(alpha, alpha.email(Role.NURSE)).sip_number == "446/SIPP/0777/2025"
    assert user_in(alpha, alpha.email(Role.DOCTOR)).sip_number == "SIP-doctor-001"
