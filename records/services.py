"""Writes to the clinical record: create, change (or amend) and void, each with its Revision.

These functions take plain JSON-like values, so the API and the sync protocol share one path: every
value is parsed and checked here, and a refusal is a ValidationError with field messages (or
PermissionDenied with a reason). Nothing is ever deleted.
"""

import datetime
import functools
import math
import uuid
from collections.abc import Callable
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
from records.signals import record_written
from records.specs import EntitySpec, entity_of, spec_for
from tenants.accounts.models import User

MRN_PREFIX = "RM"


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and from which device (empty for the web API without a device)."""

    user: User
    device_id: str = ""


class DuplicateRecordError(ConflictError):
    """A record with this client-made id already exists (a retried or concurrent create)."""

    def __init__(self) -> None:
        super().__init__(_("A record with this id already exists."))


class StaleVersionError(ConflictError):
    """The change was made against an older version of the record than the server holds."""

    def __init__(self, current_version: int) -> None:
        super().__init__(_("The record changed since you loaded it."), version=current_version)
        self.current_version = current_version


# --- values ------------------------------------------------------------------------------------------


def json_value(value: Any, field: models.Field | None = None) -> Any:
    """A field value as JSON, in one canonical form (UTC times, decimals at the field's places), so
    equal values always compare equal in revisions and in sync."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        places = getattr(field, "decimal_places", None)
        return str(value.quantize(Decimal(1).scaleb(-places)) if places is not None else value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return json_value(value.pk)
    return value


_JSON_AS_IS = frozenset({str, int, float, bool, type(None)})  # `json_value` returns these unchanged


def snapshot(instance: ClinicalRecord) -> dict[str, Any]:
    values = {}
    for name, field in _fields_of(entity_of(instance)):
        value = field.value_from_object(instance)
        values[name] = value if type(value) in _JSON_AS_IS else json_value(value, field)
    if isinstance(instance, Diagnosis):
        values["title"] = instance.title
    values["voided"] = instance.is_voided
    if instance.is_voided:
        values["void_reason"] = instance.void_reason
    return values


@functools.cache
def _fields_of(entity: str) -> tuple[tuple[str, models.Field], ...]:
    spec = spec_for(entity)
    return tuple((name, _field(spec, name)) for name in spec.fields)


def _field(spec: EntitySpec, name: str) -> models.Field:
    try:
        return spec.model._meta.get_field(name)
    except FieldDoesNotExist as exc:
        raise ValidationError({name: [_("Unknown field.")]}) from exc


_TEXT_FIELDS = (models.CharField, models.TextField)
_NUMBER_FIELDS = (models.IntegerField, models.DecimalField, models.FloatField)


def _check_shape(field: models.Field, value: Any) -> None:
    """Refuse values of the wrong JSON type before Django coerces them (a list, `true` for a number,
    `1e400`, a number for a text, a NUL character), each with a message a person understands."""
    if isinstance(value, list | dict | tuple):
        raise ValidationError(_("Send a single value, not a list or an object."))
    if isinstance(value, bool):
        raise ValidationError(_("Send a value of the right kind, not true or false."))
    if isinstance(field, _TEXT_FIELDS) and not isinstance(value, str):
        raise ValidationError(_("Send text."))
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(_("The text holds a NUL character."))
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(_("Send a finite number."))
    whole_number_field = isinstance(field, models.IntegerField | models.ForeignKey)
    if whole_number_field and isinstance(value, float) and not value.is_integer():
        raise ValidationError(_("Send a whole number."))
    if isinstance(field, models.DateField | models.DateTimeField) and not isinstance(value, str):
        raise ValidationError(_("Send a date as text, for example 2026-03-02 or 2026-03-02T09:30:00+07:00."))
    if isinstance(field, _NUMBER_FIELDS) and not isinstance(value, int | float | str):
        raise ValidationError(_("Send a number."))


RelatedLookup = Callable[[str, models.ForeignKey, Any], models.Model | None]


def _parse(spec: EntitySpec, name: str, value: Any, related: RelatedLookup | None = None) -> Any:
    """One incoming value as the model's Python value; related records are looked up with checks
    (by `related` when given: the bulk path answers from records it fetched at once)."""
    if name not in spec.fields:
        raise ValidationError({name: [_("Unknown field.")]})
    field = _field(spec, name)
    if value is None:
        if field.null:
            return None
        if isinstance(field, _TEXT_FIELDS):
            return ""
        raise ValidationError({name: [_("This field cannot be empty.")]})
    try:
        _check_shape(field, value)
        if isinstance(field, models.ForeignKey):
            return (related or _related)(name, field, value)
        parsed = field.to_python(value)
    except ValidationError as exc:
        raise ValidationError({name: exc.messages}) from exc
    except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
        raise ValidationError({name: [_("This value cannot be read.")]}) from exc
    if isinstance(parsed, datetime.datetime) and timezone.is_naive(parsed):
        raise ValidationError({name: [_("Give the time with its time zone, for example 2026-03-02T09:30:00+07:00.")]})
    return parsed


def _related(name: str, field: models.ForeignKey, value: Any) -> models.Model | None:
    if value in (None, ""):
        return None
    model = field.related_model
    try:
        instance = model.objects.filter(pk=field.target_field.to_python(value)).first()
    except (ValidationError, ValueError, TypeError):
        instance = None
    return check_related(name, instance)


def check_related(name: str, instance: models.Model | None) -> models.Model:
    """The record a field points to, refused if missing, voided, or a user who cannot hold it."""
    if instance is None:
        raise ValidationError({name: [_("No such record in this clinic.")]})
    if isinstance(instance, ClinicalRecord) and instance.is_voided:
        raise ValidationError({name: [_("This record is voided.")]})
    if isinstance(instance, User) and (not instance.is_active or instance.role not in access.CLINICAL_READERS):
        raise ValidationError({name: [_("Choose an active doctor, nurse or owner of this clinic.")]})
    return instance


def parse_all(spec: EntitySpec, data: dict[str, Any], related: RelatedLookup | None = None) -> dict[str, Any]:
    """Every incoming value parsed; one ValidationError naming every field that cannot be read."""
    errors: dict[str, list[str]] = {}
    parsed: dict[str, Any] = {}
    for name, value in data.items():
        try:
            parsed[name] = _parse(spec, name, value, related)
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                errors.setdefault(field_name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return parsed


def _apply(instance: ClinicalRecord, spec: EntitySpec, data: dict[str, Any]) -> None:
    for name, value in parse_all(spec, data).items():
        setattr(instance, name, value)


# --- rules ---------------------------------------------------------------------------------------------

REASON_MAX_LENGTH = 300


def _locked_visit(instance: ClinicalRecord) -> Visit | None:
    """The visit a record belongs to, re-read under a row lock so its status cannot change meanwhile."""
    visit_id = instance.pk if isinstance(instance, Visit) else getattr(instance, "visit_id", None)
    if visit_id is None:
        return None
    return Visit.objects.select_for_update().filter(pk=visit_id).first()


def _check_visit_status(instance: Visit, previous_status: str | None, user: User) -> None:
    if previous_status == Visit.Status.FINISHED and instance.status != Visit.Status.FINISHED:
        raise ValidationError({"status": [_("A finished visit stays finished; amend its notes instead.")]})
    if instance.status == Visit.Status.FINISHED and previous_status != Visit.Status.FINISHED:
        access.check_can_finish_visit(user)


def _check_amendment(instance: ClinicalRecord, user: User, reason: str, message: str) -> None:
    """Changing a finished visit, or adding to or changing its parts: an amendment with a reason, by
    a clinician (nurses amend the vital signs they own)."""
    _require_reason(reason, message)
    if isinstance(instance, Visit) and user.role not in access.CLINICIANS:
        raise PermissionDenied(_("Only doctors amend a finished visit."))


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
        if kwargs.get("force_insert") and type(instance).objects.filter(pk=instance.pk).exists():
            raise DuplicateRecordError from exc  # the same client id, created by a concurrent request
        if isinstance(instance, Patient):
            raise ValidationError(
                {"medical_record_number": [_("This medical record number is already used.")]}
            ) from exc
        raise


def revision_of(instance: ClinicalRecord, action: str, actor: Actor, before: dict | None, reason: str = "") -> Revision:
    """The (unsaved) revision of a write: who, which device, the values before and after, why."""
    return Revision(user=actor.user, **revision_values(instance, action, actor, before, reason))


def revision_values(
    instance: ClinicalRecord, action: str, actor: Actor, before: dict | None, reason: str = ""
) -> dict[str, Any]:
    """A revision's values but its user (`revision_of`; the bulk path copies them in as they are)."""
    return {
        "entity": entity_of(instance),
        "record_id": instance.pk,
        "version": instance.version,
        "action": action,
        "device_id": actor.device_id,
        "before": before,
        "after": snapshot(instance),
        "reason": reason.strip(),
    }


def _write_revision(
    instance: ClinicalRecord, action: str, actor: Actor, before: dict | None, reason: str = ""
) -> Revision:
    revision = revision_of(instance, action, actor, before, reason)
    revision.save(force_insert=True)
    record_written.send(
        sender=type(instance),
        entity=revision.entity,
        record_id=instance.pk,
        version=instance.version,
        voided=instance.is_voided,
    )
    return revision


def _require_reason(reason: str, message: str) -> None:
    if not reason.strip():
        raise ValidationError({"reason": [message]})


def _check_reason_length(reason: str) -> None:
    if len(reason.strip()) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": [_("Keep the reason under 300 characters.")]})
    if "\x00" in reason:
        raise ValidationError({"reason": [_("The text holds a NUL character.")]})


# --- the three writes ----------------------------------------------------------------------------------


def check_create_allowed(actor: Actor, entity: str, data: dict[str, Any], reason: str) -> None:
    """What a create checks before reading the record's values: the role may write these fields, and
    the reason is not too long."""
    access.check_can_write(actor.user, entity, set(data))
    _check_reason_length(reason)


def record_taken(entity: str, record_id: uuid.UUID) -> bool:
    return spec_for(entity).model.objects.filter(pk=record_id).exists()


@transaction.atomic
def record_create(
    *, entity: str, actor: Actor, data: dict[str, Any], record_id: uuid.UUID | None = None, reason: str = ""
) -> ClinicalRecord:
    """Create a record (with a device's UUID when it has one). Adding to a finished visit is an
    amendment: it needs a reason and is recorded as one."""
    spec = spec_for(entity)
    check_create_allowed(actor, entity, data, reason)
    if record_id is not None and record_taken(entity, record_id):
        raise DuplicateRecordError
    instance = spec.model(id=record_id or uuid.uuid4(), created_by=actor.user, updated_by=actor.user)
    _apply(instance, spec, data)
    amending = False
    if isinstance(instance, Visit):
        _check_visit_status(instance, None, actor.user)
    else:
        visit = _locked_visit(instance)
        if visit is not None and visit.status == Visit.Status.FINISHED:
            _check_amendment(
                instance,
                actor.user,
                reason,
                _("This visit is finished: adding to it is an amendment and needs a reason."),
            )
            amending = True
    if isinstance(instance, Patient) and not instance.medical_record_number:
        _assign_medical_record_number(instance)
    _validate(instance)
    _save(instance, force_insert=True)
    _write_revision(instance, Revision.Action.AMEND if amending else Revision.Action.CREATE, actor, None, reason)
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
    _check_reason_length(reason)
    visit = _locked_visit(instance)
    if instance.is_voided or (visit is not None and visit.is_voided):
        raise ValidationError(_("This record is voided and cannot be changed."))
    if base_version is not None and base_version != instance.version:
        raise StaleVersionError(instance.version)
    moved = [name for name in spec.immutable if name in changes]
    if moved:
        raise ValidationError(
            {name: [_("This cannot be changed; void the record and create it again.")] for name in moved}
        )
    locked = visit is not None and visit.status == Visit.Status.FINISHED
    before = snapshot(instance)
    previous_status = instance.status if isinstance(instance, Visit) else None
    _apply(instance, spec, changes)
    if isinstance(instance, Visit):
        _check_visit_status(instance, previous_status, actor.user)
    _validate(instance)
    if snapshot(instance) == before:
        return instance  # nothing changed: no new version, no revision
    if locked:
        _check_amendment(
            instance, actor.user, reason, _("This visit is finished: a change is an amendment and needs a reason.")
        )
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
    if actor.user.role not in access.CLINICIANS and _holds_clinical_history(instance):
        raise PermissionDenied(_("Only doctors void this record."))
    _require_reason(reason, _("Say why this record is voided."))
    _check_reason_length(reason)
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


def _holds_clinical_history(instance: ClinicalRecord) -> bool:
    """A patient with visits, or a visit that is finished or holds notes or parts."""
    if isinstance(instance, Patient):
        return Visit.objects.filter(patient=instance, voided_at__isnull=True).exists()
    if not isinstance(instance, Visit):
        return False
    if instance.status == Visit.Status.FINISHED or any(getattr(instance, n) for n in access.VISIT_CLINICAL_FIELDS):
        return True
    return instance.vital_signs.exists() or instance.diagnoses.exists() or instance.prescriptions.exists()


def chart_opened(*, patient: Patient, actor: Actor) -> None:
    """Reading a chart is logged (who, when, from which device)."""
    ChartAccess.objects.create(patient=patient, user=actor.user, device_id=actor.device_id)


def canonical_fields(entity: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Incoming values in the form snapshots hold, so a device's value compares equal to the server's
    (raises ValidationError for values that cannot be read, like a write would)."""
    spec = spec_for(entity)
    values: dict[str, Any] = {}
    for name, parsed in parse_all(spec, fields).items():
        if entity == "diagnosis" and name == "code":
            entry = icd10.lookup(parsed or "")
            parsed = entry.code if entry else parsed
        values[name] = json_value(parsed, _field(spec, name))
    return values
