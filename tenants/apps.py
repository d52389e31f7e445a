"""App config of the tenants app (public schema only)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Clinics")
    default_auto_field = "django.db.models.BigAutoField"
