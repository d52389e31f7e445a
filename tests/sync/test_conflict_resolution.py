"""Patient conflicts resolved once for every device: a device that changed a field twice offline
leaves one decision, not two (resolving closes every open conflict of that field from that device;
another device's stays open), and the pull names
who wrote each value and when."""

import datetime

import pytest
from django_tenants.utils import schema_context

from records.models import Patient
from sync.models import Conflict
from tenants.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_patient(device):
    """A patient on three devices: front desk, a nurse and a doctor, all synced."""
    first, second, doctor = device("frontdesk"), device("nurse"), device("doctor")
    patient = first.create("patient", {"full_name": "Ani Konflik", "birth_date": "1990-01-02", "sex": "F"})
    first.sync()
    second.pull()
    doctor.pull()
    return first, second, doctor, patient


def test_two_offline_edits_of_one_field_are_one_decision(alpha, shared_patient):
    first, second, doctor, patient = shared_patient
    first.update("patient", patient, {"phone": "0811"})
    second.update("patient", patient, {"phone": "0822"})  # offline, then changed again before syncing
    second.update("patient", patient, {"phone": "0833"})
    first.sync()
    second.sync()
    assert sorted(c["device_value"] for c in second.open_conflicts()) == ["0822", "0833"]

    latest = max(second.open_conflicts(), key=lambda c: c["created_at"])
    second.resolve(latest["id"], "0833")
    second.sync()
    for phone in (first, doctor):
        phone.pull()
    for phone in (first, second, doctor):
        assert phone.open_conflicts() == []
        assert phone.data("patient", patient)["phone"] == "0833"
    with schema_context(alpha.clinic.schema_name):
        assert Patient.objects.get(pk=patient).phone == "0833"
        assert not Conflict.objects.filter(record_id=patient, resolved_at__isnull=True).exists()
        assert set(Conflict.objects.filter(record_id=patient).values_list("resolved_value", flat=True)) == {"0833"}


def test_the_pull_says_who_wrote_each_value_and_when(alpha, shared_patient):
    first, second, doctor, patient = shared_patient
    first.update("patient", patient, {"allergies": "Penisilin"})
    second.update("patient", patient, {"allergies": "Sulfa"})
    first.sync()
    second.sync()
    doctor.pull()
    [conflict] = doctor.open_conflicts()
    with schema_context(alpha.clinic.schema_name):
        desk, nurse = (User.objects.get(email=alpha.email(role)) for role in ("frontdesk", "nurse"))
    assert (conflict["server_value"], conflict["device_value"]) == ("Penisilin", "Sulfa")
    assert conflict["server_user_name"] == desk.full_name
    assert conflict["user_name"] == nurse.full_name
    server_at = datetime.datetime.fromisoformat(conflict["server_changed_at"])
    assert server_at <= datetime.datetime.fromisoformat(conflict["created_at"])


def test_a_decision_leaves_another_devices_conflict_on_the_field_open(alpha, shared_patient):
    """The doctor's held penicillin allergy was never shown to the nurse deciding her own conflict on
    the field: it stays open, for a person to see and decide."""
    first, second, doctor, patient = shared_patient
    first.update("patient", patient, {"allergies": "Sulfa"})
    second.update("patient", patient, {"allergies": "Amoksisilin"})  # both offline
    doctor.update("patient", patient, {"allergies": "Penisilin"})
    first.sync()
    second.sync()
    doctor.sync()
    [nurses] = second.open_conflicts()
    second.resolve(nurses["id"], "Sulfa")
    second.sync()
    doctor.pull()
    [left] = [c for c in doctor.open_conflicts() if c["device_value"] == "Penisilin"]
    assert left["field"] == "allergies"
    with schema_context(alpha.clinic.schema_name):
        still_open = Conflict.objects.filter(record_id=patient, resolved_at__isnull=True)
        assert list(still_open.values_list("device_value", flat=True)) == ["Penisilin"]


def test_a_field_written_again_while_in_conflict_shows_its_new_value_on_every_device(alpha, shared_patient):
    """A correction made while a conflict on its field is open (through a part's Edit, REST, another
    device) is what the conflict offers as the server's value: keeping "the server's value" never
    brings back an older one over the correction."""
    first, second, doctor, patient = shared_patient
    first.update("patient", patient, {"phone": "0811"})
    second.update("patient", patient, {"phone": "0822"})  # offline
    first.sync()
    second.sync()
    [conflict] = second.open_conflicts()
    assert conflict["server_value"] == "0811"
    doctor.pull()
    doctor.update("patient", patient, {"phone": "0899"})  # the number corrected, the conflict still open
    doctor.sync()
    second.pull()
    [refreshed] = second.open_conflicts()
    assert (refreshed["id"], refreshed["server_value"], refreshed["device_value"]) == (conflict["id"], "0899", "0822")
    second.resolve(refreshed["id"], refreshed["server_value"])
    second.sync()
    with schema_context(alpha.clinic.schema_name):
        assert Patient.objects.get(pk=patient).phone == "0899"
        assert not Conflict.objects.filter(record_id=patient, resolved_at__isnull=True).exists()
