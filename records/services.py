"""Writes to the clinical record: create, change (or amend) and void, each with its Revision.

These functions take plain JSON-like values, so the API and the sync protocol share one path: every
value is parsed and checked here, and a refusal is a ValidationError with field messages (or
PermissionDenied with a reason). Nothing is ever deleted.
"""

import datetime
import functools
import math
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.api_errors import ConflictError
from records import access, icd10, queue
from records.models import ChartAccess, ClinicalRecord, Diagnosis, MedicalRecordCounter, Patient, Revision, Visit
from records.signals import record_written
from records.specs import EntitySpec, entity_of, spec_for
from tenants.accounts.models import User

MRN_PREFIX = "RM"


# A device's id, wherever it arrives (a sync body, the REST API's X-Device-Id header).
DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
FIELD_NAME_MAX_LENGTH = 64


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and from which device (empty for the web API without a device)."""

    user: User
    device_id: str = ""


def check_device_id(value: Any, field: str = "device_id") -> str:
    """A device id as every path takes it: 8 to 64 letters, digits, '-' or '_'."""
    if not isinstance(value, str) or not DEVICE_ID.fullmatch(value):
        raise ValidationError({field: [_("Use 8 to 64 letters, digits, '-' or '_'.")]})
    return value


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


def check_storable(text: str) -> None:
    """Refuse text PostgreSQL cannot store: a NUL, or half of a character (a lone UTF-16 surrogate,
    what `JSON.stringify` writes for an emoji cut in two). Checked before anything is written."""
    if "\x00" in text:
        raise ValidationError(_("The text holds a NUL character."))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(_("The text holds half of a character (often an emoji cut in two). Retype it.")) from exc


def is_storable_name(name: Any) -> bool:
    """A field name that can be named back in an answer and stored in a receipt."""
    if not isinstance(name, str) or len(name) > FIELD_NAME_MAX_LENGTH:
        return False
    try:
        check_storable(name)
    except ValidationError:
        return False
    return True


def _check_shape(field: models.Field, value: Any) -> None:
    """Refuse values of the wrong JSON type before Django coerces them (a list, `true` for a number,
    `1e400`, a number for a text, a NUL character), each with a message a person understands."""
    if isinstance(value, list | dict | tuple):
        raise ValidationError(_("Send a single value, not a list or an object."))
    if isinstance(value, bool):
        raise ValidationError(_("Send a value of the right kind, not true or false."))
    if isinstance(field, _TEXT_FIELDS) and not isinstance(value, str):
        raise ValidationError(_("Send text."))
    if isinstance(value, str):
        check_storable(value)
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
        raise _unknown_field(name)
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
        if isinstance(field, models.DecimalField) and isinstance(value, float):
            # A JSON number is read as the decimal a person typed: 38.2, not the float nearest to it
            # (38.2000000000000028...), which has more places than the field and was refused.
            value = repr(value)
        parsed = field.to_python(value)
        if isinstance(parsed, Decimal):
            field.run_validators(parsed)  # the range's message, before 1e30 breaks the canonical form
        # The canonical form, made here so what cannot have one (1e30 at one decimal place; year 1 at
        # +05:00, before the first time UTC holds) is refused with the field's name, not a 500 later.
        json_value(parsed, field)
    except ValidationError as exc:
        raise ValidationError({name: exc.messages}) from exc
    except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
        raise ValidationError({name: [_("This value cannot be read.")]}) from exc
    if isinstance(parsed, datetime.datetime) and timezone.is_naive(parsed):
        raise ValidationError({name: [_needs_zone()]})
    return parsed


def _unknown_field(name: Any) -> ValidationError:
    """Keyed by the name when it can be said back; a name that cannot is not repeated."""
    if is_storable_name(name):
        return ValidationError({name: [_("Unknown field.")]})
    return ValidationError({"fields": [_("A field name is not one of this record's fields.")]})


def _needs_zone() -> str:
    return _("Give the time with its time zone, for example 2026-03-02T09:30:00+07:00.")


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
    # Non-clinicians void a visit only while it is arrived: one that started never goes back to it.
    if previous_status not in (None, Visit.Status.ARRIVED) and instance.status == Visit.Status.ARRIVED:
        raise ValidationError({"status": [_("A visit that has started does not go back to arrived.")]})
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
        raise ValidationError({"code": [_("This is not an ICD-10 diagnosis code (WHO 2019 or the 2010 edition).")]})
    diagnosis.code, diagnosis.title = entry.code, entry.title


# Who wrote the record: set from the signed-in actor, never from input, so `full_clean` need not query
# that each user exists (two queries per write); the foreign keys still hold in the database.
AUDIT_FIELDS = ["created_by", "updated_by", "voided_by"]


def _validate(instance: ClinicalRecord, unchanged: Iterable[str] = ()) -> None:
    """Every field of a new record; a change checks the fields it sets (and the record's own rules), so
    a value stored before a rule existed (a longer note, an older birth date) never blocks a change of
    another field."""
    if isinstance(instance, Diagnosis):
        _prepare_diagnosis(instance)
    instance.full_clean(exclude=[*AUDIT_FIELDS, *unchanged])


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
    changed = {} if before is None else {k: v for k, v in revision.after.items() if before.get(k, v) != v}
    record_written.send(
        sender=type(instance),
        entity=revision.entity,
        record_id=instance.pk,
        version=instance.version,
        voided=instance.is_voided,
        changed=changed,
    )
    return revision


def _require_reason(reason: str, message: str) -> None:
    if not reason.strip():
        raise ValidationError({"reason": [message]})


def _check_reason_length(reason: str) -> None:
    if len(reason.strip()) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": [_("Keep the reason under 300 characters.")]})
    try:
        check_storable(reason)
    except ValidationError as exc:
        raise ValidationError({"reason": exc.messages}) from exc


# --- the checked entries ----------------------------------------------------------------------------
# One per kind of write (`check_create_allowed`, `update_checked`, `check_void_allowed`), called by the
# REST API and by sync before anything is decided (a merge included). Each decides from the role, the
# fields named, the reason and what the role can already see of the record (voided, finished, started,
# who recorded it), never from the values the record holds: the same fields from the same role get the
# same answer whatever the record says.


class AlreadyVoidedError(ValidationError):
    """The record is voided already: a second void changes nothing (sync answers it with the version)."""

    def __init__(self, version: int) -> None:
        super().__init__(_("This record is already voided."))
        self.version = version


def _sets_finished(entity: str, data: dict[str, Any]) -> bool:
    return entity == "visit" and data.get("status") == Visit.Status.FINISHED


def check_create_allowed(actor: Actor, entity: str, data: dict[str, Any], reason: str) -> None:
    """What a create checks before reading the record's values: the role may write these fields (and
    finish a visit, if it says so), and the reason is not too long."""
    access.check_can_write(actor.user, entity, set(data))
    if _sets_finished(entity, data):
        access.check_can_finish_visit(actor.user)
    _check_reason_length(reason)


def _record_locked(instance: ClinicalRecord) -> ClinicalRecord:
    """The record re-read under a row lock, so what is decided from it holds until the write commits."""
    return type(instance).objects.select_for_update().get(pk=instance.pk)


@dataclass(frozen=True)
class CheckedUpdate:
    """A record locked for a change of `fields` that passed every rule: what `record_update_checked`
    writes, within the same transaction."""

    instance: ClinicalRecord
    actor: Actor
    fields: frozenset[str]
    reason: str
    amending: bool  # a change of a finished visit or its part


def update_checked(*, actor: Actor, instance: ClinicalRecord, changes: dict[str, Any], reason: str) -> CheckedUpdate:
    """The record locked (and its visit), and every rule a change of these fields must pass, before any
    value is read or compared with the record's: role and fields, finishing, who recorded it, voided,
    fields that never change, and a reason for changing a finished visit (even to the value it has)."""
    instance = _record_locked(instance)
    entity = entity_of(instance)
    user = actor.user
    access.check_can_write(user, entity, set(changes))
    if _sets_finished(entity, changes):
        access.check_can_finish_visit(user)
    access.check_can_change_recorded(user, entity, instance.created_by_id)
    _check_reason_length(reason)
    visit = _locked_visit(instance)
    if instance.is_voided or (visit is not None and visit.is_voided):
        raise ValidationError(_("This record is voided and cannot be changed."))
    moved = [name for name in spec_for(entity).immutable if name in changes]
    if moved:
        raise ValidationError(
            {name: [_("This cannot be changed; void the record and create it again.")] for name in moved}
        )
    amending = visit is not None and visit.status == Visit.Status.FINISHED
    if amending:
        _check_amendment(
            instance, user, reason, _("This visit is finished: a change is an amendment and needs a reason.")
        )
    return CheckedUpdate(instance, actor, frozenset(changes), reason, amending)


def check_void_allowed(*, actor: Actor, instance: ClinicalRecord, reason: str) -> None:
    """Every rule a void must pass, before whether it is voided already is looked at: role, who
    recorded it, and a reason. A patient with visits, or a visit once started, is voided by a doctor or
    owner only: whether a patient has visits, or a visit has started, is what every role sees."""
    entity = entity_of(instance)
    user = actor.user
    access.check_can_write(user, entity, set())
    access.check_can_change_recorded(user, entity, instance.created_by_id)
    if user.role not in access.CLINICIANS:
        if isinstance(instance, Patient) and Visit.objects.filter(patient=instance, voided_at__isnull=True).exists():
            raise PermissionDenied(_("Only doctors void a patient who has visits."))
        if isinstance(instance, Visit) and instance.status != Visit.Status.ARRIVED:
            raise PermissionDenied(_("Only doctors void a visit once it has started."))
    _require_reason(reason, _("Say why this record is voided."))
    _check_reason_length(reason)


def record_taken(entity: str, record_id: uuid.UUID) -> bool:
    return spec_for(entity).model.objects.filter(pk=record_id).exists()


# --- the three writes ----------------------------------------------------------------------------------


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
    if isinstance(instance, Visit):
        queue.number_visit(instance)
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
    checked = update_checked(actor=actor, instance=instance, changes=changes, reason=reason)
    if base_version is not None and base_version != checked.instance.version:
        raise StaleVersionError(checked.instance.version)
    return record_update_checked(checked=checked, changes=changes)


@transaction.atomic
def record_update_checked(*, checked: CheckedUpdate, changes: dict[str, Any]) -> ClinicalRecord:
    """Write a change `update_checked` passed, in its transaction: a merge writes those of the checked
    fields it decided to apply."""
    if not set(changes) <= checked.fields:
        raise ValueError(f"Fields not checked: {sorted(set(changes) - checked.fields)}")
    instance, actor = checked.instance, checked.actor
    spec = spec_for(entity_of(instance))
    before = snapshot(instance)
    previous_status = instance.status if isinstance(instance, Visit) else None
    _apply(instance, spec, changes)
    if isinstance(instance, Visit):
        _check_visit_status(instance, previous_status, actor.user)
    _validate(instance, unchanged=[name for name in spec.fields if name not in changes])
    if snapshot(instance) == before:
        return instance  # nothing changed: no new version, no revision
    if isinstance(instance, Visit):
        queue.number_visit(instance, moved=instance.practitioner_id != before["practitioner"])
    instance.version += 1
    instance.updated_by = actor.user
    _save(instance)
    action = Revision.Action.AMEND if checked.amending else Revision.Action.UPDATE
    _write_revision(instance, action, actor, before, checked.reason)
    return instance


@transaction.atomic
def record_void(*, instance: ClinicalRecord, actor: Actor, reason: str) -> ClinicalRecord:
    """Mark a record as entered in error, with a reason; it stays readable in the history."""
    instance = _record_locked(instance)
    check_void_allowed(actor=actor, instance=instance, reason=reason)
    if instance.is_voided:
        raise AlreadyVoidedError(instance.version)
    before = snapshot(instance)
    instance.voided_at = timezone.now()
    instance.voided_by = actor.user
    instance.void_reason = reason.strip()
    instance.version += 1
    instance.updated_by = actor.user
    instance.save(update_fields=["voided_at", "voided_by", "void_reason", "version", "updated_by", "updated_at"])
    _write_revision(instance, Revision.Action.VOID, actor, before, reason)
    return instance


CHART_OPENING_FIELDS = frozenset({"opened_at"})
# A device reports what it opened when it next syncs; a year offline is beyond any clinic's, and a time
# before it is a wrong clock (it would also sort an opening out of the owner's view of recent ones).
CHART_OPENING_MAX_AGE = datetime.timedelta(days=365)


def chart_opened(*, patient: Patient, actor: Actor, fields: dict[str, Any] | None = None) -> ChartAccess:
    """Reading a chart is logged: who, from which device, and when. A device reports a chart it opened
    (offline too) with `fields = {"opened_at": ...}`, the time on its clock; without it, now. When it
    reached the server is kept beside it."""
    fields = fields or {}
    if set(fields) - CHART_OPENING_FIELDS:
        raise ValidationError({"fields": [_("A chart opening holds only opened_at.")]})
    sent = fields.get("opened_at")
    opened_at = timezone.now() if sent is None else _parse_opened_at(sent)
    return ChartAccess.objects.create(patient=patient, user=actor.user, device_id=actor.device_id, at=opened_at)


def _parse_opened_at(value: Any) -> datetime.datetime:
    """An ISO 8601 time with its zone, within the last year and not more than a day ahead."""
    if not isinstance(value, str):  # (fromisoformat refuses a NUL or half a character itself)
        raise ValidationError({"opened_at": [_needs_zone()]})
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError({"opened_at": [_needs_zone()]}) from exc
    if timezone.is_naive(parsed):
        raise ValidationError({"opened_at": [_needs_zone()]})
    if parsed > timezone.now() + datetime.timedelta(days=1):
        raise ValidationError({"opened_at": [_("A chart cannot be opened more than a day from now.")]})
    if parsed < timezone.now() - CHART_OPENING_MAX_AGE:
        raise ValidationError({"opened_at": [_("This time is more than a year ago; check the device's clock.")]})
    return parsed


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
