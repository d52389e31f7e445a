"""Nurses change and void only the vital signs they recorded; doctors and owners any (README's rule)."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from records import services
from records.models import VitalSigns
from tenants.accounts.models import Role, User
from tenants.accounts.services import user_create
from tests.conftest import PASSWORD, login
from tests.records.conftest import ApiClient, make_patient, make_visit
from tests.sync.device import Device

pytestmark = pytest.mark.django_db

MESSAGE = "Nurses change only the vital signs they recorded. Ask a doctor, or the nurse who recorded them."


@pytest.fixture
def second_nurse(alpha) -> ApiClient:
    with schema_context(alpha.clinic.schema_name):
        user_create(email="nurse2@alpha.test", full_name="Ners Dewi", role=Role.NURSE, password=PASSWORD)
    return ApiClient(login(alpha.host, "nurse2@alpha.test"))


def vitals_by_first_nurse(alpha) -> VitalSigns:
    visit = make_visit(alpha, make_patient(alpha))
    with schema_context(alpha.clinic.schema_name):
        nurse = User.objects.get(email=alpha.email(Role.NURSE))
        return services.record_create(
            entity="vitals",
            actor=services.Actor(user=nurse, device_id="nurse-tablet-1"),
            data={"visit": str(visit.pk), "measured_at": timezone.now().isoformat(), "temperature_c": 38.5},
        )


def test_a_nurse_amending_another_nurses_vital_signs_is_refused_with_a_reason(alpha, api, second_nurse):
    vitals = vitals_by_first_nurse(alpha)
    refused = second_nurse.patch(f"/api/vitals/{vitals.pk}/", {"temperature_c": 37.0})
    assert refused.status_code == 403
    assert refused.json()["detail"] == MESSAGE
    voided = second_nurse.post(f"/api/vitals/{vitals.pk}/void/", {"reason": "Salah pasien"})
    assert voided.status_code == 403
    phone = Device(second_nurse)
    phone.version_of = lambda entity, record_id: 1
    phone.update("vitals", str(vitals.pk), {"temperature_c": 37.0})
    phone.void("vitals", str(vitals.pk), "Salah pasien")
    results = phone.push()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert results[0]["errors"] == {"non_field_errors": [MESSAGE]}
    with schema_context(alpha.clinic.schema_name):
        kept = VitalSigns.objects.get(pk=vitals.pk)
    assert (str(kept.temperature_c), kept.version, kept.voided_at) == ("38.5", 1, None)


def test_the_nurse_who_recorded_them_and_doctors_may_amend_them(alpha, api):
    vitals = vitals_by_first_nurse(alpha)
    own = api(Role.NURSE).patch(f"/api/vitals/{vitals.pk}/", {"temperature_c": 38.0, "version": 1})
    assert own.status_code == 200, own.content
    doctor = api(Role.DOCTOR).patch(f"/api/vitals/{vitals.pk}/", {"pulse": 96, "version": 2})
    assert doctor.status_code == 200, doctor.content
    owner = api(Role.OWNER).post(f"/api/vitals/{vitals.pk}/void/", {"reason": "Alat rusak"})
    assert owner.status_code == 200
