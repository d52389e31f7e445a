"""Writes for clinics: the public tenant, the template schema, signup (provisioning) and status."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from tenants.accounts.models import Role, User
from tenants.accounts.services import user_create
from tenants.models import Clinic, ClinicStatusEvent, Domain
from tenants.subdomains import normalize_subdomain, schema_name_for

logger = logging.getLogger(__name__)


def platform_ensure() -> Clinic:
    """Create, if missing, the public tenant with the apex domain and the template schema."""
    public, _created = Clinic.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"name": "Platform", "subdomain": "_platform", "status": Clinic.Status.PLATFORM},
    )
    Domain.objects.get_or_create(domain=settings.PLATFORM_DOMAIN, defaults={"tenant": public, "is_primary": True})
    template_ensure()
    return public


def template_ensure() -> Clinic:
    """The template schema every new clinic is cloned from; it is migrated like any clinic."""
    template = Clinic.objects.filter(schema_name=settings.TENANT_BASE_SCHEMA).first()
    if template is None:
        template = Clinic(
            schema_name=settings.TENANT_BASE_SCHEMA,
            name="Template",
            subdomain="_template",
            status=Clinic.Status.TEMPLATE,
        )
        # The template cannot be cloned from itself: it is built by running the migrations.
        template.save(verbosity=0)
    return template


# Held exclusively by `manage.py migrate_clinics` while it migrates, and shared by each signup: a clinic
# is never cloned from a template that a release is half-way through migrating.
MIGRATION_LOCK_KEY = 7_310_425_001


def _wait_for_no_migrations() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s)", [MIGRATION_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise ValidationError(
                _("The platform is being updated. Please try again in a minute; nothing was created.")
            )


@dataclass(frozen=True)
class ClinicSignup:
    clinic: Clinic
    owner: User


def clinic_signup(*, name: str, subdomain: str, owner_name: str, owner_email: str, password: str) -> ClinicSignup:
    """Provision a clinic: schema (cloned from the template), domain and owner, all or nothing.

    Raises ValidationError (with the field it concerns) for a taken, reserved or malformed subdomain.
    """
    subdomain = normalize_subdomain(subdomain)
    try:
        schema_name = schema_name_for(subdomain)
    except ValidationError as exc:
        raise ValidationError({"subdomain": exc.messages}) from exc
    if not schema_exists(settings.TENANT_BASE_SCHEMA):
        raise RuntimeError("The template schema is missing: run `manage.py platform_setup` first.")
    if Clinic.objects.filter(subdomain=subdomain).exists() or schema_exists(schema_name, case_sensitive=False):
        raise ValidationError({"subdomain": [_("This address is already taken. Please choose another.")]})
    domain = f"{subdomain}.{settings.PLATFORM_DOMAIN}"
    try:
        with transaction.atomic():
            _wait_for_no_migrations()
            clinic = Clinic(schema_name=schema_name, name=name.strip(), subdomain=subdomain)
            clinic.save(verbosity=0)  # clones the template schema, in this transaction
            Domain.objects.create(domain=domain, tenant=clinic, is_primary=True)
            with schema_context(schema_name):
                owner = user_create(email=owner_email, full_name=owner_name, role=Role.OWNER, password=password)
    except IntegrityError as exc:  # a concurrent signup took the same subdomain first
        logger.info("clinic signup lost a race for %s", subdomain)
        raise ValidationError({"subdomain": [_("This address is already taken. Please choose another.")]}) from exc
    logger.info("clinic provisioned: %s", schema_name)
    return ClinicSignup(clinic=clinic, owner=owner)


def clinic_set_status(*, clinic: Clinic, status: str, operator_email: str, reason: str = "") -> Clinic:
    """Suspend or reactivate a clinic; its data is never touched."""
    if status not in (Clinic.Status.ACTIVE, Clinic.Status.SUSPENDED):
        raise ValidationError({"status": [_("Unknown status.")]})
    if clinic.status in (Clinic.Status.TEMPLATE, Clinic.Status.PLATFORM):
        raise ValidationError({"status": [_("This is not a clinic.")]})
    with transaction.atomic():
        clinic.status = status
        clinic.status_reason = reason.strip()
        clinic.status_changed_at = timezone.now()
        clinic.save(update_fields=["status", "status_reason", "status_changed_at"])
        ClinicStatusEvent.objects.create(
            clinic=clinic, status=status, reason=clinic.status_reason, operator_email=operator_email
        )
    return clinic


def clinic_set_two_factor_required(*, clinic: Clinic, required: bool) -> Clinic:
    clinic.require_two_factor = required
    clinic.save(update_fields=["require_two_factor"])
    return clinic
