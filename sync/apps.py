"""App config of sync (in every clinic schema): numbers every record write in the change log."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = _("Sync")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from records.signals import record_written, records_created_in_bulk
        from sync.changelog import on_record_written, on_records_created_in_bulk

        record_written.connect(on_record_written, dispatch_uid="sync.changelog")
        records_created_in_bulk.connect(on_records_created_in_bulk, dispatch_uid="sync.changelog.bulk")
