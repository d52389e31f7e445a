"""App config of the operator console: its counts are kept by receivers of the clinics' own signals."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = _("Operator console")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_save

        from console import receivers
        from records.signals import record_written, records_created_in_bulk
        from sync.models import Device
        from sync.signals import device_seen
        from tenants.models import Clinic

        record_written.connect(receivers.on_record_written, dispatch_uid="console.usage.record")
        records_created_in_bulk.connect(receivers.on_records_created_in_bulk, dispatch_uid="console.usage.bulk")
        post_save.connect(receivers.on_user_saved, sender=get_user_model(), dispatch_uid="console.usage.staff")
        post_save.connect(receivers.on_device_saved, sender=Device, dispatch_uid="console.usage.device")
        post_save.connect(receivers.on_clinic_saved, sender=Clinic, dispatch_uid="console.usage.clinic")
        user_logged_in.connect(receivers.on_user_logged_in, dispatch_uid="console.usage.sign_in")
        device_seen.connect(receivers.on_device_seen, dispatch_uid="console.usage.device_seen")
