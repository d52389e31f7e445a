"""Fill the counts of clinics that existed before the console kept them, one clinic's schema at a time."""

from django.db import migrations
from django.utils import timezone


def fill(apps, schema_editor) -> None:
    from console.usage import current_month, schema_counts

    Clinic = apps.get_model("tenants", "Clinic")
    ClinicUsage = apps.get_model("console", "ClinicUsage")
    for clinic in Clinic.objects.filter(status__in=["active", "suspended"]).order_by("pk"):
        counts = schema_counts(clinic.schema_name)
        ClinicUsage.objects.update_or_create(
            clinic=clinic,
            defaults={
                "staff_count": counts.staff,
                "devices_active": counts.devices_active,
                "devices_revoked": counts.devices_revoked,
                "patient_count": counts.patients,
                "visits_this_month": counts.visits_this_month,
                "visits_month": current_month(),
                "last_activity_at": counts.last_activity_at,
                "recounted_at": timezone.now(),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("console", "0001_clinic_usage")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
