"""App config of the clinical record (in every clinic schema, never in public)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = _("Medical records")
    default_auto_field = "django.db.models.BigAutoField"
