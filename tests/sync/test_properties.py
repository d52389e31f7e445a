"""Property: random interleavings of pushes, retries (lost responses) and pulls from several devices
converge; each device's copy after pull-and-apply equals a fresh full download."""

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sync.device import Device

pytestmark = pytest.mark.django_db

ROLES = ("doctor", "owner", "nurse")

action = st.one_of(
    st.tuples(st.just("create_patient"), st.integers(0, 2), st.integers(0, 999)),
    st.tuples(st.just("edit_patient"), st.integers(0, 2), st.integers(0, 999)),
    st.tuples(st.just("edit_visit"), st.integers(0, 2), st.sampled_from(["subjective", "plan", "assessment"])),
    st.tuples(st.just("create_visit"), st.integers(0, 2), st.integers(0, 999)),
    st.tuples(st.just("vitals"), st.integers(0, 2), st.integers(50, 150)),
    st.tuples(st.just("void"), st.integers(0, 2), st.integers(0, 999)),
    st.tuples(st.just("push"), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("pull"), st.integers(0, 2), st.integers(1, 7)),
    st.tuples(st.just("resolve"), st.integers(0, 2), st.integers(0, 999)),
)


def live(phone: Device, entity: str) -> list[str]:
    return [
        record_id for (kind, record_id), entry in sorted(phone.copy.items()) if kind == entity and entry["op"] != "void"
    ]


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(actions=st.lists(action, min_size=5, max_size=40))
def test_random_interleavings_converge(api, actions):
    phones = [Device(api(role)) for role in ROLES]
    for kind, who, value in actions:
        phone = phones[who]
        patients, visits = live(phone, "patient"), live(phone, "visit")
        if kind == "create_patient":
            phone.create("patient", {"full_name": f"Pasien {value}", "birth_date": "1990-01-01", "sex": "F"})
        elif kind == "edit_patient" and patients:
            phone.update("patient", patients[value % len(patients)], {"phone": f"0812{value}"})
        elif kind == "create_visit" and patients:
            phone.create(
                "visit", {"patient": patients[value % len(patients)], "started_at": timezone.now().isoformat()}
            )
        elif kind == "edit_visit" and visits:
            phone.update("visit", visits[len(value) % len(visits)], {value: f"{value} by {who}"})
        elif kind == "vitals" and visits:
            phone.create(
                "vitals",
                {"visit": visits[value % len(visits)], "measured_at": timezone.now().isoformat(), "pulse": value},
            )
        elif kind == "void" and patients:
            phone.void("patient", patients[value % len(patients)], "Salah input")
        elif kind == "push":
            phone.push(limit=3, lose_response=value)
        elif kind == "pull":
            phone.pull(limit=value)
        elif kind == "resolve" and phone.open_conflicts():
            conflicts = phone.open_conflicts()
            phone.resolve(conflicts[value % len(conflicts)]["id"], f"resolved {value}")
    for _ in range(2):  # resolutions made in the first round reach everyone in the second
        for phone in phones:
            phone.sync()
    for phone in phones:
        phone.pull()
        assert phone.outbox == []
        fresh = Device(phone.api)
        fresh.pull(limit=500)
        assert phone.copy == fresh.copy
    # Every device of the same role sees the same clinic; doctor and owner see exactly the same.
    assert phones[0].copy == phones[1].copy
    assert set(phones[2].copy) <= set(phones[0].copy)
