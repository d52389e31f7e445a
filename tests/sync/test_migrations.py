"""The sync migrations that move data, run with data in a clinic's schema, both ways: the receipts of
pushes already answered must survive, so a resent old mutation is still answered as it was."""

import datetime
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context

pytestmark = pytest.mark.django_db

BEFORE_BATCHES = ("sync", "0002_backfill_change_log")


def _migrate_to(target: tuple[str, str]) -> None:
    with connection.cursor() as cursor:
        # Foreign keys are checked at commit; a table with rows still to check cannot be dropped.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def _latest() -> tuple[str, str]:
    executor = MigrationExecutor(connection)
    return next(node for node in executor.loader.graph.leaf_nodes() if node[0] == "sync")


def test_receipts_move_to_batches_and_back(alpha):
    """Each row of `sync_pushedmutation` becomes a batch of one with its answer; going back restores a
    row per answer. Everything runs inside the test's transaction and is rolled back with it."""
    at = datetime.datetime(2026, 11, 20, 9, 30, tzinfo=datetime.UTC)
    answers = [
        (1, {"seq": 1, "status": "applied", "version": 1}),
        (2, {"seq": 2, "status": "rejected", "errors": {"full_name": ["Wajib diisi."]}}),
        (3, {"seq": 3, "status": "conflict", "version": 2, "conflict_ids": ["c1"]}),
    ]
    with schema_context(alpha.clinic.schema_name):
        latest = _latest()
        _migrate_to(BEFORE_BATCHES)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO sync_device (id, user_id, user_agent, first_seen, last_seen, last_seq, pulled_as_role)"
                " SELECT 'migration-device', id, '', %s, %s, 3, '' FROM accounts_user ORDER BY id LIMIT 1",
                [at, at],
            )
            for seq, result in answers:
                cursor.execute(
                    "INSERT INTO sync_pushedmutation (device_id, seq, entity, record_id, op, status, result,"
                    " received_at) VALUES ('migration-device', %s, 'patient', gen_random_uuid(), 'create', %s,"
                    " %s::jsonb, %s)",
                    [seq, result["status"], _json(result), at],
                )
        _migrate_to(latest)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT first_seq, last_seq, results::text, received_at FROM sync_pushedbatch"
                " WHERE device_id = 'migration-device' ORDER BY first_seq"
            )
            batches = [(first, last, _loads(results), received) for first, last, results, received in cursor]
        assert batches == [(seq, seq, [result], at) for seq, result in answers]

        _migrate_to(BEFORE_BATCHES)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT seq, status, result::text, received_at FROM sync_pushedmutation"
                " WHERE device_id = 'migration-device' ORDER BY seq"
            )
            rows = [(seq, status, _loads(result), received) for seq, status, result, received in cursor]
        assert rows == [(seq, result["status"], result, at) for seq, result in answers]
        _migrate_to(latest)


def _json(value: object) -> str:
    return json.dumps(value)


def _loads(text: str) -> object:
    return json.loads(text)
