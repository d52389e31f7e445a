"""Edits made on two devices: different fields merge, the same field becomes a conflict kept until a
person resolves it, and a device never conflicts with its own earlier edits."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from records.models import Visit
from sync.models import Conflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_visit(device):
    """A visit both doctors' devices hold at the same version."""
    first = device("doctor")
    patient_id = first.create("patient", {"full_name": "Siti Aminah", "birth_date": "1987-03-02", "sex": "F"})
    visit_id = first.create(
        "visit", {"patient": patient_id, "started_at": timezone.now().isoformat(), "subjective": "Demam"}
    )
    first.sync()
    second = device("owner")
    second.pull()
    return first, second, visit_id


def visit_in(alpha, visit_id):
    with schema_context(alpha.clinic.schema_name):
        return Visit.objects.get(pk=visit_id)


def test_edits_to_different_fields_merge(alpha, shared_visit):
    first, second, visit_id = shared_visit
    first.update("visit", visit_id, {"assessment": "ISPA"})
    second.update("visit", visit_id, {"plan": "Paracetamol 3x500 mg"})
    assert first.push()["results"][0]["status"] == "applied"
    result = second.push()["results"][0]
    assert result["status"] == "merged"
    assert result["version"] == 3
    visit = visit_in(alpha, visit_id)
    assert (visit.assessment, visit.plan, visit.version) == ("ISPA", "Paracetamol 3x500 mg", 3)


def test_same_field_becomes_a_conflict_keeping_both_values(alpha, shared_visit):
    first, second, visit_id = shared_visit
    first.update("visit", visit_id, {"plan": "Kontrol 3 hari"})
    second.update("visit", visit_id, {"plan": "Rujuk ke RS"})
    first.push()
    result = second.push()["results"][0]
    assert result["status"] == "conflict"
    assert visit_in(alpha, visit_id).plan == "Kontrol 3 hari"  # the server value stays
    with schema_context(alpha.clinic.schema_name):
        conflict = Conflict.objects.get(pk=result["conflict_id"])
    assert (conflict.field, conflict.base_value, conflict.server_value, conflict.device_value) == (
        "plan",
        "",
        "Kontrol 3 hari",
        "Rujuk ke RS",
    )
    for phone in (first, second):
        phone.pull()
        [open_conflict] = phone.open_conflicts()
        assert open_conflict["record_id"] == visit_id
        assert open_conflict["device_value"] == "Rujuk ke RS"

    second.resolve(result["conflict_id"], "Rujuk ke RS; kontrol 3 hari")
    assert second.push()["results"][0]["status"] == "applied"
    for phone in (first, second):
        phone.pull()
        assert phone.open_conflicts() == []
        assert phone.data("visit", visit_id)["plan"] == "Rujuk ke RS; kontrol 3 hari"
    with schema_context(alpha.clinic.schema_name):
        conflict.refresh_from_db()
    assert conflict.resolved_value == "Rujuk ke RS; kontrol 3 hari"


def test_same_value_on_both_sides_is_not_a_conflict(alpha, shared_visit):
    first, second, visit_id = shared_visit
    first.update("visit", visit_id, {"plan": "Kontrol"})
    second.update("visit", visit_id, {"plan": "Kontrol"})
    first.push()
    assert second.push()["results"][0]["status"] == "merged"
    assert visit_in(alpha, visit_id).version == 2


def test_a_device_does_not_conflict_with_its_own_earlier_edits(alpha, shared_visit):
    first, _second, visit_id = shared_visit
    first.update("visit", visit_id, {"plan": "Kontrol 3 hari"})
    first.push()
    # Still at the old base version (the device has not pulled), the same doctor edits again.
    first.update("visit", visit_id, {"plan": "Kontrol 5 hari"})
    first.outbox[-1]["base_version"] = 1
    assert first.push()["results"][0]["status"] in ("applied", "merged")
    assert visit_in(alpha, visit_id).plan == "Kontrol 5 hari"


def test_a_conflict_on_soap_is_not_sent_to_front_desk(alpha, shared_visit, device):
    first, second, visit_id = shared_visit
    first.update("visit", visit_id, {"plan": "A"})
    second.update("visit", visit_id, {"plan": "B"})
    first.push()
    second.push()
    desk = device("frontdesk")
    desk.pull()
    assert [key for key in desk.copy if key[0] == "conflict"] == []
    assert "plan" not in desk.data("visit", visit_id)
