"""Writes to the clinical record: create, change (or amend) and void, each with its Revision.

These functions take plain JSON-like values, so the API and the sync protocol share one path: every
value is parsed and checked here, and a refusal is a ValidationError with field messages (or
PermissionDenied with a reason). Nothing is ever deleted.
"""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.api_errors import ConflictError
from records import access, icd10
from records.models import ChartAccess, ClinicalRecord, Diagnosis, MedicalRecordCounter, Patient, Revision, Visit
from records.specs import EntitySpec, entity_of, spec_for
from tenants.accounts.models import User

MRN_PREFIX = "RM"


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and from which device (empty for the web API without a device)."""

    user: User
    device_id: str = ""


class StaleVersionError(ConflictError):
    """The change was made against an older version of the record than the server holds."""

    def __init__(self, current_version: int) -> None:
        super().__init__(_("The record changed since you loaded it."), version=current_version)
        self.current_version = current_version


# --- values ------------------------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    """A field value as JSON: the form revisions and the API carry."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return json_value(value.pk)
    return value


def snapshot(instance: ClinicalRecord) -> dict[str, Any]:
    spec = spec_for(entity_of(instance))
    values = {name: json_value(_field(spec, name).value_from_object(instance)) for name in spec.fields}
    if isinstance(instance, Diagnosis):
        values["title"] = instance.title
    values["voided"] = instance.is_voided
    if instance.is_voided:
        values["void_reason"] = instance.void_reason
    return values


def _field(spec: EntitySpec, name: str) -> models.Field:
    try:
        return spec.model._meta.get_field(name)
    except FieldDoesNotExist as exc:
        raise ValidationError({name: [_("Unknown field.")]}) from exc


def _parse(spec: EntitySpec, name: str, value: Any) -> Any:
    """One incoming value as the model's Python value; related records are looked up with checks."""
    if name not in spec.fields:
        raise ValidationError({name: [_("Unknown field.")]})
    field = _field(spec, name)
    if isinstance(field, models.ForeignKey):
        return _related(name, field, value)
    if value is None and not field.null:
        return "" if isinstance(field, models.CharField | models.TextField) else None
    try:
        return field.to_python(value)
    except ValidationError as exc:
        raise ValidationError({name: exc.messages}) from exc


def _related(name: str, field: models.ForeignKey, value: Any) -> models.Model | None:
    if value in (None, ""):
        return None
    model = field.related_model
    try:
        instance = model.objects.filter(pk=field.target_field.to_python(value)).first()
    except (ValidationError, ValueError, TypeError):
        instance = None
    if instance is None:
        raise ValidationError({name: [_("No such record in this clinic.")]})
    if isinstance(instance, ClinicalRecord) and instance.is_voided:
        raise ValidationError({name: [_("This record is voided.")]})
    if isinstance(instance, User) and (not instance.is_active or instance.role not in access.CLINICAL_READERS):
        raise ValidationError({name: [_("Choose an active doctor, nurse or owner of this clinic.")]})
    return instance


def _apply(instance: ClinicalRecord, spec: EntitySpec, data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        try:
            setattr(instance, name, _parse(spec, name, value))
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                errors.setdefault(field_name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


# --- rules ---------------------------------------------------------------------------------------------


def _visit_of(instance: ClinicalRecord) -> Visit | None:
    if isinstance(instance, Visit):
        return instance
    return getattr(instance, "visit", None)


def _is_locked(instance: ClinicalRecord) -> bool:
    """A finished visit and its parts are changed only by amendment, with a reason."""
    visit = _visit_of(instance)
    return visit is not None and visit.status == Visit.Status.FINISHED


def _check_visit_status(instance: Visit, previous_status: str | None, user: User) -> None:
    if previous_status == Visit.Status.FINISHED and instance.status != Visit.Status.FINISHED:
        raise ValidationError({"status": [_("A finished visit stays finished; amend its notes instead.")]})
    if instance.status == Visit.Status.FINISHED and previous_status != Visit.Status.FINISHED:
        access.check_can_finish_visit(user)


def _assign_medical_record_number(patient: Patient) -> None:
    counter, _created = MedicalRecordCounter.objects.select_for_update().get_or_create(pk=1)
    while True:
        candidate = f"{MRN_PREFIX}{counter.next_value:06d}"
        counter.next_value += 1
        if not Patient.objects.filter(medical_record_number=candidate).exists():
            break
    counter.save(update_fields=["next_value"])
    patient.medical_record_number = candidate


def _prepare_diagnosis(diagnosis: Diagnosis) -> None:
    entry = icd10.lookup(diagnosis.code or "")
    if entry is None:
        raise ValidationError({"code": [_("This is not a WHO ICD-10 (2019) diagnosis code.")]})
    diagnosis.code, diagnosis.title = entry.code, entry.title


def _validate(instance: ClinicalRecord) -> None:
    if isinstance(instance, Diagnosis):
        _prepare_diagnosis(instance)
    instance.full_clean()


def _save(instance: ClinicalRecord, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            instance.save(**kwargs)
    except IntegrityError as exc:
        if isinstance(instance, Patient):
            raise ValidationError(
                {"medical_record_number": [_("This medical record number is already used.")]}
            ) from exc
        raise


def _write_revision(
    instance: ClinicalRecord, action: str, actor: Actor, before: dict | None, reason: str = ""
) -> Revision:
    return Revision.objects.create(
        entity=entity_of(instance),
        record_id=instance.pk,
        version=instance.version,
        action=action,
        user=actor.user,
        device_id=actor.device_id,
        before=before,
        after=snapshot(instance),
        reason=reason.strip(),
    )


def _require_reason(reason: str, message: str) -> None:
    if not reason.strip():
        raise ValidationError({"reason": [message]})


# --- the three writes ----------------------------------------------------------------------------------


@transaction.atomic
def record_create(
    *, entity: str, actor: Actor, data: dict[str, Any], record_id: uuid.UUID | None = None, reason: str = ""
) -> ClinicalRecord:
    """Create a record (with a device's UUID when it has one). Parts of a finished visit need a reason."""
    spec = spec_for(entity)
    access.check_can_write(actor.user, entity, set(data))
    if record_id is not None and spec.model.objects.filter(pk=record_id).exists():
        raise ValidationError({"id": [_("A record with this id already exists.")]})
    instance = spec.model(id=record_id or uuid.uuid4(), created_by=actor.user, updated_by=actor.user)
    _apply(instance, spec, data)
    if isinstance(instance, Visit):
        _check_visit_status(instance, None, actor.user)
    elif _is_locked(instance):
        _require_reason(reason, _("This visit is finished: adding to it is an amendment and needs a reason."))
    if isinstance(instance, Patient) and not instance.medical_record_number:
        _assign_medical_record_number(instance)
    _validate(instance)
    _save(instance, force_insert=True)
    _write_revision(instance, Revision.Action.CREATE, actor, None, reason)
    return instance


@transaction.atomic
def record_update(
    *,
    instance: ClinicalRecord,
    actor: Actor,
    changes: dict[str, Any],
    reason: str = "",
    base_version: int | None = None,
) -> ClinicalRecord:
    """Change some fields. A finished visit (or its part) is amended: a reason is required, and the
    revision keeps the values before. `base_version`, when given, must be the current version."""
    spec = spec_for(entity_of(instance))
    instance = spec.model.objects.select_for_update().get(pk=instance.pk)
    access.check_can_write(actor.user, spec.name, set(changes))
    if instance.is_voided:
        raise ValidationError(_("This record is voided and cannot be changed."))
    if base_version is not None and base_version != instance.version:
        raise StaleVersionError(instance.version)
    moved = [name for name in spec.immutable if name in changes]
    if moved:
        raise ValidationError(
            {name: [_("This cannot be changed; void the record and create it again.")] for name in moved}
        )
    locked = _is_locked(instance)
    if locked:
        _require_reason(reason, _("This visit is finished: a change is an amendment and needs a reason."))
    before = snapshot(instance)
    previous_status = instance.status if isinstance(instance, Visit) else None
    _apply(instance, spec, changes)
    if isinstance(instance, Visit):
        _check_visit_status(instance, previous_status, actor.user)
    if snapshot(instance) == before:
        return instance  # nothing changed: no new version, no revision
    _validate(instance)
    instance.version += 1
    instance.updated_by = actor.user
    _save(instance)
    _write_revision(instance, Revision.Action.AMEND if locked else Revision.Action.UPDATE, actor, before, reason)
    return instance


@transaction.atomic
def record_void(*, instance: ClinicalRecord, actor: Actor, reason: str) -> ClinicalRecord:
    """Mark a record as entered in error, with a reason; it stays readable in the history."""
    spec = spec_for(entity_of(instance))
    instance = spec.model.objects.select_for_update().get(pk=instance.pk)
    access.check_can_write(actor.user, spec.name, set())
    if isinstance(instance, Visit) and actor.user.role not in access.CLINICIANS and _holds_clinical_notes(instance):
        raise PermissionDenied(_("Only doctors void a visit that holds clinical notes."))
    _require_reason(reason, _("Say why this record is voided."))
    if instance.is_voided:
        raise ValidationError(_("This record is already voided."))
    before = snapshot(instance)
    instance.voided_at = timezone.now()
    instance.voided_by = actor.user
    instance.void_reason = reason.strip()
    instance.version += 1
    instance.updated_by = actor.user
    instance.save(update_fields=["voided_at", "voided_by", "void_reason", "version", "updated_by", "updated_at"])
    _write_revision(instance, Revision.Action.VOID, actor, before, reason)
    return instance


def _holds_clinical_notes(visit: Visit) -> bool:
    if visit.status == Visit.Status.FINISHED or any(getattr(visit, name) for name in access.VISIT_CLINICAL_FIELDS):
        return True
    return visit.vital_signs.exists() or visit.diagnoses.exists() or visit.prescriptions.exists()


def chart_opened(*, patient: Patient, actor: Actor) -> None:
    """Reading a chart is logged (who, when, from which device)."""
    ChartAccess.objects.create(patient=patient, user=actor.user, device_id=actor.device_id)
