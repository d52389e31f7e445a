"""The console's own table in the public schema: each clinic's counts, kept as work happens.

The console's list reads only this table, never a clinic's schema, so it keeps working when clinics'
schemas live on different databases (sharding by schema). The counts are bumped in the transaction of
the work (`console.receivers`) and recounted from one clinic's schema by `usage_recount`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import Clinic


class ClinicUsage(models.Model):
    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, primary_key=True, related_name="usage")
    staff_count = models.PositiveIntegerField(_("active staff"), default=0)
    devices_active = models.PositiveIntegerField(_("active devices"), default=0)
    devices_revoked = models.PositiveIntegerField(_("revoked devices"), default=0)
    patient_count = models.PositiveIntegerField(_("patients"), default=0)
    # Visits recorded in `visits_month` (its first day, clinic time): a new month starts again from 0.
    visits_this_month = models.PositiveIntegerField(_("visits this month"), default=0)
    visits_month = models.DateField(_("month of the visit count"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    recounted_at = models.DateTimeField(_("recounted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("clinic usage")
        verbose_name_plural = _("clinic usage")
        indexes = [models.Index(fields=["last_activity_at"], name="usage_last_activity")]

    def __str__(self) -> str:
        return f"usage of clinic {self.clinic_id}"
