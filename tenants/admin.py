"""Apex admin for operators: clinics and their domains (no clinical content lives in public)."""

from django.contrib import admin

from tenants.models import Clinic, ClinicStatusEvent, Domain


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ("name", "subdomain", "schema_name", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "subdomain")
    readonly_fields = ("schema_name", "subdomain", "created_at", "status_changed_at")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a clinic's records are kept; suspend it instead


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "is_primary")


@admin.register(ClinicStatusEvent)
class ClinicStatusEventAdmin(admin.ModelAdmin):
    list_display = ("clinic", "status", "reason", "operator_email", "created_at")
    readonly_fields = ("clinic", "status", "reason", "operator_email", "created_at")
