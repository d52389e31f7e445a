"""One receipt per pushed batch instead of one row per mutation; the receipts already kept move over
(each becomes a batch of one), so a resent old mutation is still answered with what became of it.
Receipts keep the answers only: the entity, record id and operation of each old row are not carried
over (what an applied mutation changed is in the record's revisions)."""

import django.db.models.deletion
from django.db import migrations, models

MOVE_RECEIPTS = """
INSERT INTO sync_pushedbatch (device_id, first_seq, last_seq, results, received_at)
SELECT device_id, seq, seq, jsonb_build_array(result), received_at FROM sync_pushedmutation
"""

# Going back, each result returns to a row of its own; what the batches did not keep (entity, record id,
# op) is left blank.
RESTORE_RECEIPTS = """
INSERT INTO sync_pushedmutation (device_id, seq, entity, record_id, op, status, result, received_at)
SELECT b.device_id, b.first_seq + r.n - 1, '', NULL, '', COALESCE(r.value->>'status', ''), r.value, b.received_at
FROM sync_pushedbatch b, jsonb_array_elements(b.results) WITH ORDINALITY AS r(value, n)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0002_backfill_change_log"),
    ]

    operations = [
        migrations.CreateModel(
            name="PushedBatch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("first_seq", models.BigIntegerField()),
                ("last_seq", models.BigIntegerField()),
                ("results", models.JSONField(default=list)),
                ("received_at", models.DateTimeField(auto_now_add=True)),
                (
                    "device",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="batches", to="sync.device"
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="pushedbatch",
            constraint=models.UniqueConstraint(fields=("device", "first_seq"), name="batch_once_per_device"),
        ),
        migrations.AddConstraint(
            model_name="pushedbatch",
            constraint=models.CheckConstraint(
                condition=models.Q(("last_seq__gte", models.F("first_seq"))), name="batch_seq_order"
            ),
        ),
        migrations.RunSQL(MOVE_RECEIPTS, RESTORE_RECEIPTS),
        migrations.DeleteModel(
            name="PushedMutation",
        ),
    ]
