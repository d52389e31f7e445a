"""Numbering changes in commit order (see ChangeCounter) and keeping one log row per record."""

import uuid

from django.db import connection


def next_seq() -> int:
    """The next change number; the counter's row stays locked until this transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sync_changecounter SET value = value + 1 WHERE id = 1 RETURNING value")
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                "INSERT INTO sync_changecounter (id, value) VALUES (1, 1) "
                "ON CONFLICT (id) DO UPDATE SET value = sync_changecounter.value + 1 RETURNING value"
            )
            row = cursor.fetchone()
    return row[0]


def log_change(*, entity: str, record_id: uuid.UUID, version: int, voided: bool) -> int:
    seq = next_seq()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sync_change (entity, record_id, seq, version, voided) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (entity, record_id) DO UPDATE "
            "SET seq = EXCLUDED.seq, version = EXCLUDED.version, voided = EXCLUDED.voided",
            [entity, record_id, seq, version, voided],
        )
    return seq


def on_record_written(
    sender: object, *, entity: str, record_id: uuid.UUID, version: int, voided: bool, **_: object
) -> None:
    log_change(entity=entity, record_id=record_id, version=version, voided=voided)


def current_seq() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sync_change")
        return cursor.fetchone()[0]
