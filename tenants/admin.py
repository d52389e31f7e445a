"""Apex admin for operators: clinics and their domains (no clinical content lives in public)."""

from django.contrib import admin

from tenants.models import Clinic, ClinicStatusEvent, Domain


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    """Clinics are created by signup and suspended from the console (which records who and why)."""

    list_display = ("name", "subdomain", "schema_name", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "subdomain")
    fields = ("name", "subdomain", "schema_name", "status", "status_reason", "status_changed_at", "created_at")
    readonly_fields = ("subdomain", "schema_name", "status", "status_reason", "status_changed_at", "created_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a clinic's records are kept; suspend it instead


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Domain)
class DomainAdmin(ReadOnlyAdmin):
    """Domains follow from subdomains at signup; changing one by hand could route a host to any schema."""

    list_display = ("domain", "tenant", "is_primary")


@admin.register(ClinicStatusEvent)
class ClinicStatusEventAdmin(ReadOnlyAdmin):
    list_display = ("clinic", "status", "reason", "operator_email", "created_at")
