"""Fewer indexes for a device's batch to write, each served otherwise:

- the indexes on the audit columns `created_by`, `updated_by` and `voided_by` of every record table
  (who wrote a record is asked of its revisions, indexed by user). Their foreign-key constraints stay:
  on the database side only the indexes are dropped, because `AlterField` would drop and re-add each
  constraint, checking every row of the table again while holding its lock;
- the NIK's two indexes (`db_index` made a plain one and a pattern one), replaced by one pattern index
  that serves both the prefix search and equality;
- `revision_record`, covered by the unique (entity, record_id, version) that every history query uses.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import records.validators

AUDIT_INDEXES = [
    (f"records_{table}", f"{column}_id", f"records_{table}_{column}_id_{suffix}")
    for table, column, suffix in [
        ("patient", "created_by", "9afadd3c"),
        ("patient", "updated_by", "1c955a1a"),
        ("patient", "voided_by", "82f64023"),
        ("visit", "created_by", "79bf0661"),
        ("visit", "updated_by", "0aec3708"),
        ("visit", "voided_by", "c80cd9f3"),
        ("vitalsigns", "created_by", "5de6cc6e"),
        ("vitalsigns", "updated_by", "9e852474"),
        ("vitalsigns", "voided_by", "1168229d"),
        ("diagnosis", "created_by", "48c802d7"),
        ("diagnosis", "updated_by", "4df68879"),
        ("diagnosis", "voided_by", "e7b8234e"),
        ("prescription", "created_by", "3841d70a"),
        ("prescription", "updated_by", "a20689cb"),
        ("prescription", "voided_by", "3a8107be"),
    ]
]


def _audit_field(null: bool) -> models.ForeignKey:
    return models.ForeignKey(
        blank=null,
        null=null,
        db_index=False,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to=settings.AUTH_USER_MODEL,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0002_chartaccess_chart_access_recent_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="revision", name="revision_record"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name=model, name=name, field=_audit_field(null=name == "voided_by"))
                for model in ("diagnosis", "patient", "prescription", "visit", "vitalsigns")
                for name in ("created_by", "updated_by", "voided_by")
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")',
                )
                for table, column, index in AUDIT_INDEXES
            ],
        ),
        migrations.AlterField(
            model_name="patient",
            name="nik",
            field=models.CharField(
                blank=True, max_length=16, validators=[records.validators.validate_nik], verbose_name="NIK"
            ),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["nik"], name="patient_nik", opclasses=["varchar_pattern_ops"]),
        ),
    ]
