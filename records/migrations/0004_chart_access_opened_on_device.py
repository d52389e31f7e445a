"""A chart opening carries when it was opened (on the device's clock, for a chart opened offline and
reported later) and when the server received it; rows from before are both at once."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0003_fewer_write_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="chartaccess",
            name="at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="chartaccess",
            name="received_at",
            field=models.DateTimeField(auto_now_add=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.RunSQL(
            "UPDATE records_chartaccess SET received_at = at",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
