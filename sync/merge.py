"""The field-by-field merge of a device's update, as a pure decision (no reads, no writes).

Given the record as the server holds it now, the record as it was at the version the device saw, the
fields others changed since and the values the device sends, it says which fields apply and which
conflict. The rules a write must pass are checked before it is asked (`records.services`), so it only
ever decides between values the device may write.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldConflict:
    field: str
    base_value: Any
    server_value: Any
    device_value: Any


@dataclass(frozen=True)
class MergeDecision:
    apply: tuple[str, ...]  # the fields whose device value is written
    conflicts: tuple[FieldConflict, ...]  # the fields both sides changed differently: the server's value stays


def decide(
    *,
    current: Mapping[str, Any],
    base: Mapping[str, Any] | None,
    changed_by_others: frozenset[str] | set[str],
    incoming: Mapping[str, Any],
) -> MergeDecision:
    """Field by field (values in one canonical form): a value equal to the server's is nothing to do; a
    field nobody else changed since the device's version applies; a field someone else changed to a
    different value is a conflict. With no known base (a version the server never had), the record as it
    is now stands for it, so nothing counts as changed by others and the device's values apply."""
    base = current if base is None else base
    apply: list[str] = []
    conflicts: list[FieldConflict] = []
    for name, device_value in incoming.items():
        server_value, base_value = current.get(name), base.get(name)
        if server_value == device_value:
            continue
        if server_value == base_value or name not in changed_by_others:
            apply.append(name)
            continue
        conflicts.append(FieldConflict(name, base_value, server_value, device_value))
    return MergeDecision(apply=tuple(apply), conflicts=tuple(conflicts))
