"""The Clinic (one PostgreSQL schema each) and its Domain, stored in the public schema."""

from django.db import connection, models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_creation_fakes_migrations, schema_exists

from tenants.schema_clone import clone_schema


class Clinic(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        TEMPLATE = "template", _("Template")  # the schema new clinics are cloned from; no domain
        PLATFORM = "platform", _("Platform")  # the public schema's own row

    name = models.CharField(_("clinic name"), max_length=120)
    subdomain = models.CharField(_("subdomain"), max_length=30, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(_("reason for status"), max_length=300, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    require_two_factor = models.BooleanField(_("require two-factor authentication"), default=False)
    # What the owner sets for printed papers (letterhead) and the day's queue.
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    licence_number = models.CharField(
        _("operating licence number"),
        max_length=100,
        blank=True,
        help_text=_("The clinic's operating licence number (nomor izin operasional)."),
    )
    queue_per_practitioner = models.BooleanField(
        _("a queue per practitioner"),
        default=False,
        help_text=_("Number patients separately for each doctor, instead of one queue for the clinic."),
    )
    display_first_names = models.BooleanField(
        _("show first names on the waiting-room display"),
        default=False,
        help_text=_("Without this, the display shows queue numbers only."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Schemas are created (cloned) by services.clinic_provision inside its transaction.
    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.subdomain})"

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    def create_schema(self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1) -> bool:
        """Clone the template (TENANT_BASE_SCHEMA) with our copier; without a template, migrate as usual.

        The cloned `django_migrations` rows already mark every migration applied, which is what
        TENANT_CREATION_FAKES_MIGRATIONS asks for, so no migrate command runs per clinic.
        """
        base_schema = self.get_base_schema() if get_creation_fakes_migrations() else False
        if not (sync_schema and base_schema and schema_exists(base_schema)):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        clone_schema(source=base_schema, target=self.schema_name)
        connection.set_schema_to_public()
        return True


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def __str__(self) -> str:
        return self.domain


class ClinicStatusEvent(models.Model):
    """Who suspended or reactivated a clinic, when and why (operators' actions are attributable)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="status_events")
    status = models.CharField(max_length=12, choices=Clinic.Status.choices)
    reason = models.CharField(max_length=300, blank=True)
    operator_email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.clinic.subdomain}: {self.status} by {self.operator_email}"
