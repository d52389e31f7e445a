"""Pull: read the change log after a cursor, in one consistent snapshot, as this user may see it.

The log keeps each record's latest change (so pulling from 0 is the full download). Rows of kinds the
user's role may not read are skipped by the query; conflicts on fields the role may not read
(`records.access.can_read_field`) are skipped after it. The cursor still moves past what was skipped.
"""

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from records import access
from records.selectors import FieldAt, FieldWrite, field_writes
from records.serializers import output_for, rows_of
from records.specs import SPECS
from sync.changelog import current_seq
from sync.models import Change, Conflict, Device
from tenants.accounts.models import User

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000


@dataclass(frozen=True)
class PullPage:
    changes: list[dict[str, Any]]
    cursor: int
    has_more: bool
    reset: bool = False
    remaining: int | None = 0  # log rows still to pull after this page (for a progress bar); None: not counted

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": self.changes,
            "cursor": self.cursor,
            "has_more": self.has_more,
            "reset": self.reset,
            "remaining": self.remaining,
        }


def readable_entities(user: User) -> list[str]:
    return [entity for entity in SPECS if access.can_read(user, entity)] + ["conflict"]


def pull(*, device: Device, user: User, cursor: int, limit: int = DEFAULT_LIMIT, count: bool = True) -> PullPage:
    """The changes after `cursor`; `reset` when the device's copy must be rebuilt from 0 (its user's
    role changed since it pulled, or the cursor is beyond this clinic's log). Counting what remains
    reads every later log row, so a client that already knows the total asks for it once (`count`)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as db:
                db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if cursor > 0 and _must_reset(device, user, cursor):
            return PullPage(changes=[], cursor=0, has_more=True, reset=True)
        if cursor == 0 and device.pulled_as_role != user.role:
            Device.objects.filter(pk=device.pk).update(pulled_as_role=user.role)
        readable = Change.objects.filter(entity__in=readable_entities(user))
        page = readable.filter(seq__gt=cursor).order_by("seq")[:limit]
        rows = list(page.values_list(*LOG_COLUMNS, named=True))  # plain rows: a model per row costs more
        changes = _changes_of(rows, user)
        new_cursor = rows[-1].seq if rows else cursor
        has_more = len(rows) == limit
        if not has_more:
            remaining: int | None = 0
        elif count:
            remaining = readable.filter(seq__gt=new_cursor).count()
        else:
            remaining = None  # the client counted on its first page
    return PullPage(changes=changes, cursor=new_cursor, has_more=has_more, remaining=remaining)


def _must_reset(device: Device, user: User, cursor: int) -> bool:
    if device.pulled_as_role and device.pulled_as_role != user.role:
        return True
    return cursor > current_seq()


LOG_COLUMNS = ("seq", "entity", "record_id", "version", "voided")


def _changes_of(rows: list[Any], user: User) -> list[dict[str, Any]]:
    """Each log row with its record's data, fetched with one query per kind."""
    by_entity: dict[str, list[Any]] = {}
    for row in rows:
        by_entity.setdefault(row.entity, []).append(row.record_id)
    records: dict[tuple[str, Any], dict[str, Any]] = {}
    for entity, ids in by_entity.items():
        if entity == "conflict":
            records.update(_conflicts_of(ids, user))
            continue
        queryset = SPECS[entity].model.objects.filter(pk__in=ids)
        if entity == "visit":
            # The practitioner's name: prefetched, so a page holds one user object per practitioner,
            # not one per visit.
            queryset = queryset.prefetch_related("practitioner")
        instances = list(queryset)
        for instance, data in zip(instances, rows_of(output_for(entity, user), instances), strict=True):
            records[(entity, instance.pk)] = data
    changes = []
    for row in rows:
        data = records.get((row.entity, row.record_id))
        if data is None:
            continue
        changes.append(
            {
                "seq": row.seq,
                "entity": row.entity,
                "record_id": str(row.record_id),
                "op": "void" if row.voided else "upsert",
                "version": row.version,
                "data": data,
            }
        )
    return changes


def _conflicts_of(ids: list[Any], user: User) -> dict[tuple[str, Any], dict[str, Any]]:
    """The conflicts among `ids` on fields this user may read, each with who wrote the value it kept."""
    conflicts = [
        conflict
        for conflict in Conflict.objects.filter(pk__in=ids).select_related("user", "resolved_by")
        if access.can_read_field(user, conflict.entity, conflict.field)
    ]
    writes = field_writes(_kept_write(conflict) for conflict in conflicts)
    return {("conflict", c.pk): conflict_data(c, writes.get(_kept_write(c))) for c in conflicts}


def _kept_write(conflict: Conflict) -> FieldAt:
    return (conflict.entity, conflict.record_id, conflict.field, conflict.created_at)


def conflict_data(conflict: Conflict, kept: FieldWrite | None = None) -> dict[str, Any]:
    """A conflict as devices receive it; `kept`: who wrote the value the server kept, and when."""
    return {
        "id": str(conflict.pk),
        "version": conflict.version,
        "entity": conflict.entity,
        "record_id": str(conflict.record_id),
        "field": conflict.field,
        "base_value": conflict.base_value,
        "server_value": conflict.server_value,
        "device_value": conflict.device_value,
        "device_id": conflict.device_id,
        "user_name": conflict.user.full_name or conflict.user.email,
        "created_at": conflict.created_at.isoformat(),
        "server_user_name": kept.user_name if kept else None,
        "server_changed_at": kept.at.isoformat() if kept else None,
        "resolved_at": conflict.resolved_at.isoformat() if conflict.resolved_at else None,
        "resolved_by_name": (conflict.resolved_by.full_name or conflict.resolved_by.email)
        if conflict.resolved_by
        else None,
        "resolved_value": conflict.resolved_value,
    }


def devices_of_clinic() -> list[Device]:
    return list(Device.objects.select_related("user").order_by("-last_seen"))
