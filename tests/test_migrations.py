"""Migrations that move data or change what the database enforces, run in a clinic's schema both ways
(inside the test's transaction, rolled back with it)."""

import datetime
import json
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context

pytestmark = pytest.mark.django_db

BEFORE_BATCHES = ("sync", "0002_backfill_change_log")


BEFORE_FEWER_INDEXES = ("records", "0002_chartaccess_chart_access_recent_and_more")


def _migrate_to(target: tuple[str, str]) -> None:
    with connection.cursor() as cursor:
        # Foreign keys are checked at commit; a table with rows still to check cannot be dropped.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def _latest(app: str) -> tuple[str, str]:
    executor = MigrationExecutor(connection)
    return next(node for node in executor.loader.graph.leaf_nodes() if node[0] == app)


def _indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s", [table]
        )
        return {name for (name,) in cursor}


def _record_by(cursor, created_by_id: int) -> None:
    """A patient row written by this user id, its foreign keys checked at once rather than at commit."""
    cursor.execute(
        "INSERT INTO records_patient (id, medical_record_number, full_name, nik, birth_date, sex, phone, address,"
        " allergies, version, created_at, updated_at, void_reason, created_by_id, updated_by_id)"
        " VALUES (%s, %s, 'Uji', '', '1990-01-01', 'F', '', '', '', 1, now(), now(), '', %s, %s)",
        [uuid.uuid4(), f"MIG-{uuid.uuid4().hex[:8]}", created_by_id, created_by_id],
    )
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_fewer_write_indexes_keeps_every_audit_foreign_key_both_ways(alpha):
    """records 0003 drops the audit columns' indexes but not their constraints: a record naming a
    user who does not exist is refused before and after it, and going back restores the indexes."""
    audit_index = "records_patient_created_by_id_9afadd3c"
    with schema_context(alpha.clinic.schema_name):
        latest = _latest("records")
        for target in (BEFORE_FEWER_INDEXES, latest):
            _migrate_to(target)
            with connection.cursor() as cursor:
                cursor.execute("SELECT max(id) + 1000 FROM accounts_user")
                nobody = cursor.fetchone()[0]
                with pytest.raises(IntegrityError), transaction.atomic():
                    _record_by(cursor, nobody)
            back = target == BEFORE_FEWER_INDEXES
            assert (audit_index in _indexes("records_patient")) is back
            assert ("revision_record" in _indexes("records_revision")) is back
            assert ("patient_nik" in _indexes("records_patient")) is not back


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
        latest = _latest("sync")
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
                    [seq, result["status"], json.dumps(result), at],
                )
        _migrate_to(latest)
        batches = _receipts(
            "SELECT first_seq, last_seq, results::text, received_at FROM sync_pushedbatch"
            " WHERE device_id = 'migration-device' ORDER BY first_seq"
        )
        assert batches == [(seq, seq, [result], at) for seq, result in answers]

        _migrate_to(BEFORE_BATCHES)
        rows = _receipts(
            "SELECT seq, status, result::text, received_at FROM sync_pushedmutation"
            " WHERE device_id = 'migration-device' ORDER BY seq"
        )
        assert rows == [(seq, result["status"], result, at) for seq, result in answers]
        _migrate_to(latest)


def _receipts(sql: str) -> list[tuple]:
    """The rows of `sql`, whose third column is JSON text."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [(first, second, json.loads(answers), at) for first, second, answers, at in cursor]
