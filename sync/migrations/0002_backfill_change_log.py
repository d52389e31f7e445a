"""Number every record written before the change log existed, so a device's first download holds it."""

from django.db import migrations

TABLES = [
    ("patient", "records_patient"),
    ("visit", "records_visit"),
    ("vitals", "records_vitalsigns"),
    ("diagnosis", "records_diagnosis"),
    ("prescription", "records_prescription"),
]


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for entity, table in TABLES:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
            if not cursor.fetchone()[0]:
                continue  # an empty clinic (or the template schema, which must stay empty)
            cursor.execute("INSERT INTO sync_changecounter (id, value) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
            cursor.execute(
                f"""
                WITH counter AS (SELECT value FROM sync_changecounter WHERE id = 1 FOR UPDATE),
                missing AS (
                    SELECT r.id, r.version, r.voided_at IS NOT NULL AS voided,
                           row_number() OVER (ORDER BY r.created_at, r.id) AS n
                    FROM {table} r
                    WHERE NOT EXISTS (SELECT 1 FROM sync_change c WHERE c.entity = %s AND c.record_id = r.id)
                ),
                inserted AS (
                    INSERT INTO sync_change (entity, record_id, seq, version, voided)
                    SELECT %s, m.id, counter.value + m.n, m.version, m.voided FROM missing m, counter
                    RETURNING seq
                )
                UPDATE sync_changecounter SET value = GREATEST(value, COALESCE((SELECT MAX(seq) FROM inserted), 0))
                WHERE id = 1
                """,
                [entity, entity],
            )


class Migration(migrations.Migration):
    dependencies = [("sync", "0001_initial"), ("records", "0002_chartaccess_chart_access_recent_and_more")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
