"""The merge decision on its own: what applies and what conflicts, from values alone (no database)."""

from hypothesis import given
from hypothesis import strategies as st

from sync.merge import FieldConflict, decide

BASE = {"plan": "Istirahat", "assessment": "ISPA", "objective": "", "status": "in_progress"}


def test_a_field_only_the_device_changed_applies():
    current = {**BASE, "objective": "Faring hiperemis"}
    decision = decide(current=current, base=BASE, changed_by_others={"objective"}, incoming={"plan": "Kontrol 3 hari"})
    assert decision.apply == ("plan",)
    assert decision.conflicts == ()


def test_a_field_both_changed_differently_is_a_conflict_keeping_all_three_values():
    current = {**BASE, "plan": "Rujuk ke RS"}
    decision = decide(current=current, base=BASE, changed_by_others={"plan"}, incoming={"plan": "Kontrol 3 hari"})
    assert decision.apply == ()
    assert decision.conflicts == (FieldConflict("plan", "Istirahat", "Rujuk ke RS", "Kontrol 3 hari"),)


def test_the_servers_own_value_is_nothing_to_do():
    current = {**BASE, "plan": "Rujuk ke RS"}
    decision = decide(current=current, base=BASE, changed_by_others={"plan"}, incoming={"plan": "Rujuk ke RS"})
    assert decision.apply == ()
    assert decision.conflicts == ()


def test_a_field_changed_back_by_others_is_not_a_conflict():
    """Someone changed it and changed it back: the server holds the base value, so the device's applies."""
    decision = decide(current=BASE, base=BASE, changed_by_others={"plan"}, incoming={"plan": "Kontrol"})
    assert decision.apply == ("plan",)


def test_a_field_changed_only_by_this_device_applies_over_its_own_earlier_value():
    current = {**BASE, "plan": "my earlier edit"}
    decision = decide(current=current, base=BASE, changed_by_others=set(), incoming={"plan": "my later edit"})
    assert decision.apply == ("plan",)


def test_a_new_record_has_an_empty_base():
    current = {"plan": "Rujuk"}
    decision = decide(current=current, base={}, changed_by_others={"plan"}, incoming={"plan": "Kontrol"})
    assert decision.conflicts == (FieldConflict("plan", None, "Rujuk", "Kontrol"),)


def test_an_unknown_base_stands_as_the_record_now():
    decision = decide(current=BASE, base=None, changed_by_others={"plan"}, incoming={"plan": "Kontrol"})
    assert decision.apply == ("plan",)


def test_several_fields_are_decided_each_on_its_own():
    current = {**BASE, "plan": "Rujuk", "assessment": "Faringitis"}
    decision = decide(
        current=current,
        base=BASE,
        changed_by_others={"plan", "assessment"},
        incoming={"plan": "Kontrol", "assessment": "Faringitis", "objective": "Tonsil T2"},
    )
    assert decision.apply == ("objective",)
    assert [c.field for c in decision.conflicts] == ["plan"]


values = st.sampled_from(["", "a", "b", "c"])


@given(base=values, server=values, device=values, changed=st.booleans())
def test_every_field_is_exactly_one_of_nothing_applied_or_conflict(base, server, device, changed):
    decision = decide(
        current={"f": server}, base={"f": base}, changed_by_others={"f"} if changed else set(), incoming={"f": device}
    )
    applied, conflicted = "f" in decision.apply, bool(decision.conflicts)
    assert not (applied and conflicted)
    if device == server:
        assert not applied
        assert not conflicted
    elif server == base or not changed:
        assert applied
    else:
        assert decision.conflicts == (FieldConflict("f", base, server, device),)
