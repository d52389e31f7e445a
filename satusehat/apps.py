"""App config of SATUSEHAT sending and clinic exports (in every clinic schema, never in public)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SatusehatConfig(AppConfig):
    name = "satusehat"
    verbose_name = _("SATUSEHAT and exports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from satusehat import outbox  # noqa: F401  (connects the record's signals)
