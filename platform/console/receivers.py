"""Keep the console's counts as work happens: receivers of signals the clinic's code already sends."""

import uuid
from typing import Any

from console import usage

COUNTED = ("patient", "visit")


def _visit_counts_this_month(record_id: uuid.UUID) -> bool:
    from records.models import Visit

    return Visit.objects.filter(pk=record_id, created_at__gte=usage.month_start()).exists()


def on_record_written(
    sender: object, *, entity: str, record_id: uuid.UUID, version: int, voided: bool, changed: dict, **_: Any
) -> None:
    """A new patient or visit counts; voiding one takes it away again (restoring counts it back)."""
    if entity not in COUNTED:
        return
    if version == 1 and not changed:
        delta = 0 if voided else 1
    elif "voided" in changed:
        delta = -1 if voided else 1
        if entity == "visit" and not _visit_counts_this_month(record_id):
            delta = 0
    else:
        usage.activity_touch()
        return
    usage.usage_bump(**{"patients" if entity == "patient" else "visits": delta})
    if not delta:
        usage.activity_touch()


def on_records_created_in_bulk(sender: object, *, records: list[tuple[str, uuid.UUID]], **_: Any) -> None:
    entities = [entity for entity, _record_id in records]
    usage.usage_bump(patients=entities.count("patient"), visits=entities.count("visit"))
    if "patient" not in entities and "visit" not in entities:
        usage.activity_touch()


def on_user_saved(sender: object, *, created: bool, update_fields: frozenset[str] | None, **_: Any) -> None:
    """A person joined, left, came back or changed role (sign-ins only write last_login: skipped)."""
    if created or update_fields is None or {"is_active", "role"} & set(update_fields):
        usage.staff_refresh()


def on_device_saved(sender: object, *, created: bool, update_fields: frozenset[str] | None, **_: Any) -> None:
    """A device synced for the first time, or was revoked."""
    if created or update_fields is None or "revoked_at" in update_fields:
        usage.devices_refresh()


def on_user_logged_in(sender: object, **_: Any) -> None:
    usage.activity_touch()


def on_device_seen(sender: object, **_: Any) -> None:
    """A device synced again after a while (only downloading, perhaps): the clinic is in use."""
    usage.activity_touch()


def on_clinic_saved(sender: object, *, instance: Any, created: bool, **_: Any) -> None:
    if created:
        usage.usage_create(instance)
