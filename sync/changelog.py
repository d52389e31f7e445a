"""Numbering changes in commit order (see ChangeCounter) and keeping one log row per record."""

import contextlib
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from django.db import connection, transaction
from psycopg2.extras import execute_values

from config.fast_insert import insert_rows
from sync.models import Change

TAKE_NUMBERS = "UPDATE sync_changecounter SET value = value + %(count)s WHERE id = 1 RETURNING value"
TAKE_FIRST_NUMBERS = (
    "INSERT INTO sync_changecounter (id, value) VALUES (1, %(count)s) "
    "ON CONFLICT (id) DO UPDATE SET value = sync_changecounter.value + %(count)s RETURNING value"
)


def next_seq(count: int = 1) -> int:
    """The last of `count` new change numbers; the counter's row stays locked until this transaction
    ends, so a later number is never visible before an earlier one."""
    with connection.cursor() as cursor:
        return take_numbers(cursor, count)


def take_numbers(cursor: Any, count: int) -> int:
    cursor.execute(TAKE_NUMBERS, {"count": count})
    row = cursor.fetchone()
    if row is None:  # the clinic's first change
        cursor.execute(TAKE_FIRST_NUMBERS, {"count": count})
        row = cursor.fetchone()
    return row[0]


_UPSERT = (
    "INSERT INTO sync_change (entity, record_id, seq, version, voided) VALUES %s "
    "ON CONFLICT (entity, record_id) DO UPDATE "
    "SET seq = EXCLUDED.seq, version = EXCLUDED.version, voided = EXCLUDED.voided"
)


def _upsert(cursor: Any, rows: list[tuple[str, uuid.UUID, int, int, bool]]) -> None:
    """Log rows (entity, record_id, seq, version, voided), as the ORM would run them: Django's errors
    (so a lost connection is a 503), and never on a transaction already broken."""
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        execute_values(cursor.cursor, _UPSERT, rows)


def _pending() -> list[tuple[str, uuid.UUID, int, bool]] | None:
    """The changes a `numbered_at_end` block keeps aside (None outside one)."""
    return getattr(connection, "changelog_pending", None)


@contextlib.contextmanager
def numbered_at_end() -> Iterator[None]:
    """Inside a transaction: the changes logged in the block are kept aside and numbered when it ends
    (the counter taken then, in one statement), so the clinic's counter is held only from the end of
    the block to the commit, and always after every other lock the block took (no lock-order cycle)."""
    pending: list[tuple[str, uuid.UUID, int, bool]] = []
    connection.changelog_pending = pending
    try:
        yield
    finally:
        connection.changelog_pending = None
    _log_pending(pending)


@contextlib.contextmanager
def savepoint() -> Iterator[None]:
    """`transaction.atomic()` inside a `numbered_at_end` block: if it rolls back, the changes it
    logged are forgotten with it."""
    pending = _pending()
    mark = len(pending) if pending is not None else 0
    try:
        with transaction.atomic():
            yield
    except BaseException:
        if pending is not None:
            del pending[mark:]
        raise


def _log_pending(pending: list[tuple[str, uuid.UUID, int, bool]]) -> None:
    latest = {(row[0], row[1]): row for row in pending}  # a record written twice: its last change
    if not latest:
        return
    with connection.cursor() as cursor:
        first = take_numbers(cursor, len(latest)) - len(latest) + 1
        _upsert(cursor, [(*row[:2], first + offset, *row[2:]) for offset, row in enumerate(latest.values())])


def log_change(*, entity: str, record_id: uuid.UUID, version: int, voided: bool) -> int:
    pending = _pending()
    if pending is not None:
        pending.append((entity, record_id, version, voided))
        return 0
    seq = next_seq()
    with connection.cursor() as cursor:
        _upsert(cursor, [(entity, record_id, seq, version, voided)])
    return seq


def on_record_written(
    sender: object, *, entity: str, record_id: uuid.UUID, version: int, voided: bool, **_: object
) -> None:
    log_change(entity=entity, record_id=record_id, version=version, voided=voided)


def on_records_created_in_bulk(sender: object, *, records: list[tuple[str, uuid.UUID]], **_: object) -> None:
    """New records have no log row yet (a clash on their id fails their own insert first), so their
    rows are copied in rather than upserted, numbered in the order given."""
    if not records:
        return
    pending = _pending()
    if pending is not None:
        pending.extend((entity, record_id, 1, False) for entity, record_id in records)
        return
    first = next_seq(len(records)) - len(records) + 1
    insert_rows(
        Change,
        [
            SimpleNamespace(entity=entity, record_id=record_id, seq=first + offset, version=1, voided=False)
            for offset, (entity, record_id) in enumerate(records)
        ],
    )


def current_seq() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sync_change")
        return cursor.fetchone()[0]
