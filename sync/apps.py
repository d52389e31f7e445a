"""App config of sync (in every clinic schema): numbers every record write in the change log, and keeps
open conflicts showing what the server holds now."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = _("Sync")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from records.signals import record_written, records_created_in_bulk
        from sync.changelog import on_record_written, on_records_created_in_bulk
        from sync.services import refresh_open_conflicts

        record_written.connect(on_record_written, dispatch_uid="sync.changelog")
        record_written.connect(refresh_open_conflicts, dispatch_uid="sync.conflicts")
        records_created_in_bulk.connect(on_records_created_in_bulk, dispatch_uid="sync.changelog.bulk")
