"""Creating many records at once (a device's batch of new records): the checks of `record_create`, one
query per kind instead of several per record.

Each record is checked as `record_create` checks it, in order, so a record may point to one created
earlier in the same batch. What passes is inserted with one statement per kind, its revisions with one
more and its change-log rows with one more, numbered in batch order; what fails writes nothing and
comes back as the exception `record_create` would have raised. An id already in the database (rare:
devices make a new UUID per record, so it is not looked up beforehand) or a concurrent writer taking an
id or a medical record number first surfaces as IntegrityError: the caller rolls back and creates the
run one record at a time, which reports each clash as `record_create` does.
"""

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from config.fast_insert import insert_rows
from records import queue
from records.models import ClinicalRecord, MedicalRecordCounter, Patient, Revision, Visit
from records.services import (
    MRN_PREFIX,
    Actor,
    DuplicateRecordError,
    _check_amendment,
    _check_visit_status,
    _prepare_diagnosis,
    check_create_allowed,
    check_related,
    parse_all,
    record_taken,
    revision_values,
)
from records.signals import records_created_in_bulk
from records.specs import SPECS, EntitySpec, entity_of, spec_for

MRN_WINDOW = 1000


@dataclass(frozen=True)
class NewRecord:
    entity: str
    record_id: uuid.UUID
    data: dict[str, Any]
    reason: str = ""


Outcome = ClinicalRecord | ValidationError | PermissionDenied | DuplicateRecordError


@transaction.atomic(savepoint=False)  # all or nothing; the caller's savepoint, if any, is enough
def records_create_many(*, actor: Actor, items: list[NewRecord]) -> list[Outcome]:
    """One outcome per item, in order: the created record (version 1), or why it was refused."""
    known = _Known.fetch(items)
    outcomes: list[Outcome] = []
    accepted: list[tuple[ClinicalRecord, str, str]] = []  # record, revision action, reason
    for item in items:
        try:
            _precheck(item, actor, known)
        except (ValidationError, PermissionDenied, DuplicateRecordError) as exc:
            outcomes.append(exc)
            continue
        try:
            instance, action = _prepare(item, actor, known)
        except (ValidationError, PermissionDenied) as exc:
            outcomes.append(DuplicateRecordError() if _taken(item) else exc)
            continue
        known.add(instance)
        accepted.append((instance, action, item.reason))
        outcomes.append(instance)
    known.save_numbering()
    _insert(accepted, actor)
    return outcomes


def _precheck(item: NewRecord, actor: Actor, known: "_Known") -> None:
    """What `record_create` checks before the record's values: role, reason, and the id (here only
    against this batch; see `_Known.created_in_batch`)."""
    check_create_allowed(actor, item.entity, item.data, item.reason)
    if known.created_in_batch(item.entity, item.record_id):
        raise DuplicateRecordError


def _taken(item: NewRecord) -> bool:
    """A record refused for its values whose id is already in the database: `record_create` would have
    answered "duplicate" before reading the values. One query per refusal; refusals are rare."""
    return record_taken(item.entity, item.record_id)


def _prepare(item: NewRecord, actor: Actor, known: "_Known") -> tuple[ClinicalRecord, str]:
    """The record built and checked (after `_precheck`) as `record_create` would, without writing it."""
    spec = spec_for(item.entity)
    user_id = actor.user.pk
    instance = _blank(spec.model, id=item.record_id, created_by_id=user_id, updated_by_id=user_id, version=1)
    for name, value in parse_all(spec, item.data, known.related).items():
        setattr(instance, name, value)
    action = Revision.Action.CREATE
    if isinstance(instance, Visit):
        _check_visit_status(instance, None, actor.user)
    else:
        visit = known.visit_of(instance)
        if visit is not None and visit.status == Visit.Status.FINISHED:
            _check_amendment(
                instance,
                actor.user,
                item.reason,
                _("This visit is finished: adding to it is an amendment and needs a reason."),
            )
            action = Revision.Action.AMEND
    if not isinstance(instance, Patient):
        _validate(instance, spec)
        if isinstance(instance, Visit):
            queue.number_visit(instance)
        return instance, action
    mark = known.numbering_mark()
    try:
        _number_patient(instance, known)
        _validate(instance, spec)
    except ValidationError:
        known.numbering_restore(mark)  # a refused patient uses up no number, as in `record_create`
        raise
    known.take_mrn(instance.medical_record_number)
    return instance, action


def _blank(model: type[ClinicalRecord], **values: Any) -> ClinicalRecord:
    """`model(**values)` (by attribute name; the rest their defaults), built positionally as the ORM
    builds a row it read: the keyword path's per-field work was a tenth of a batch's time."""
    return model(*[values[name] if name in values else field.get_default() for name, field in _attnames(model)])


@functools.cache
def _attnames(model: type[ClinicalRecord]) -> tuple[tuple[str, models.Field], ...]:
    return tuple((field.attname, field) for field in model._meta.concrete_fields)


def _number_patient(patient: Patient, known: "_Known") -> None:
    if not patient.medical_record_number:
        patient.medical_record_number = known.next_mrn()
    elif known.mrn_taken(patient.medical_record_number):
        # The message `full_clean` gives for a taken unique value, as `record_create` reports it.
        raise ValidationError(
            {"medical_record_number": [patient.unique_error_message(Patient, ["medical_record_number"])]}
        )


def _validate(instance: ClinicalRecord, spec: EntitySpec) -> None:
    """`full_clean` without its per-row queries: related records were checked when parsed (so only
    their presence is checked here), record numbers against what was fetched, and ids are left to the
    insert. The bookkeeping fields this module sets itself (id, version, times, void) are not checked
    again."""
    if spec.name == "diagnosis":
        _prepare_diagnosis(instance)
    relations, unchecked = _not_cleaned(spec.model)
    errors: dict[str, list[str]] = {}
    try:
        instance.full_clean(exclude=unchecked, validate_unique=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    for field in relations:
        if not field.null and getattr(instance, field.attname) is None and field.name not in errors:
            errors[field.name] = [str(field.error_messages["null"])]
    if errors:
        raise ValidationError(errors)


@functools.cache
def _not_cleaned(model: type[ClinicalRecord]) -> tuple[tuple[models.ForeignKey, ...], tuple[str, ...]]:
    relations = tuple(field for field in model._meta.concrete_fields if field.is_relation)
    bookkeeping = {field.name for field in ClinicalRecord._meta.concrete_fields if not field.is_relation}
    return relations, (*(field.name for field in relations), *sorted(bookkeeping))


def _insert(accepted: list[tuple[ClinicalRecord, str, str]], actor: Actor) -> None:
    by_entity: dict[str, list[ClinicalRecord]] = {}
    for instance, _action, _reason in accepted:
        by_entity.setdefault(entity_of(instance), []).append(instance)
    for entity in SPECS:  # parents before their parts
        if by_entity.get(entity):
            insert_rows(SPECS[entity].model, by_entity[entity])
    insert_rows(
        Revision,
        [
            SimpleNamespace(user_id=actor.user.pk, **revision_values(instance, action, actor, None, reason))
            for instance, action, reason in accepted
        ],
    )
    records_created_in_bulk.send(
        sender=ClinicalRecord, records=[(entity_of(instance), instance.pk) for instance, _action, _reason in accepted]
    )


class _Known:
    """What the batch needs from the database, fetched up front, plus what the batch has built so far."""

    def __init__(self) -> None:
        self.ids: dict[str, set[uuid.UUID]] = {entity: set() for entity in SPECS}  # made by this batch
        self.records: dict[type[models.Model], dict[Any, models.Model]] = {}
        self.unread: set[tuple[type[models.Model], Any]] = set()  # pointed to and created in the batch
        self.mrns: set[str] = set()
        self.mrn_next: int | None = None  # the counter's value as this batch numbers (None: not read yet)
        self.mrn_checked_up_to = 0

    @classmethod
    def fetch(cls, items: list[NewRecord]) -> "_Known":
        """Records the batch points to, but not those it creates itself (a device sends a patient and
        its visit together): those are read only if their create is refused (see `related`)."""
        known = cls()
        made_here = {(SPECS[item.entity].model, item.record_id) for item in items if item.entity in SPECS}
        wanted: dict[type[models.Model], set[Any]] = {}
        for item in items:
            for field, value in _references(item):
                if (field.related_model, value) in made_here:
                    known.unread.add((field.related_model, value))
                else:
                    wanted.setdefault(field.related_model, set()).add(value)
        for model, pks in wanted.items():
            known.records[model] = {instance.pk: instance for instance in _read(model, pks)}
        given = [item.data["medical_record_number"] for item in items if _gives_mrn(item)]
        if given:
            known.mrns.update(
                Patient.objects.filter(medical_record_number__in=given).values_list("medical_record_number", flat=True)
            )
        return known

    def created_in_batch(self, entity: str, record_id: uuid.UUID) -> bool:
        """Ids already in the database are not looked up: a device makes a new UUID per record, so that
        is rare, and the insert's IntegrityError sends the run the one-at-a-time way, which reports it."""
        return record_id in self.ids[entity]

    def add(self, instance: ClinicalRecord) -> None:
        self.ids[entity_of(instance)].add(instance.pk)
        self.records.setdefault(type(instance), {})[instance.pk] = instance

    def related(self, name: str, field: models.ForeignKey, value: Any) -> models.Model | None:
        if value in (None, ""):
            return None
        try:
            pk = field.target_field.to_python(value)
        except (ValidationError, ValueError, TypeError):
            pk = None
        model = field.related_model
        record = self.records.get(model, {}).get(pk)
        if record is None and (model, pk) in self.unread:
            # Its create in this batch was refused (or comes later): is it in the database?
            self.unread.discard((model, pk))
            record = next(iter(_read(model, {pk})), None)
            if record is not None:
                self.records.setdefault(model, {})[pk] = record
        return check_related(name, record)

    def visit_of(self, instance: ClinicalRecord) -> Visit | None:
        visit_id = getattr(instance, "visit_id", None)
        return self.records.get(Visit, {}).get(visit_id) if visit_id is not None else None

    def mrn_taken(self, mrn: str) -> bool:
        return mrn in self.mrns

    def take_mrn(self, mrn: str) -> None:
        self.mrns.add(mrn)

    def next_mrn(self) -> str:
        """The clinic's next free record number, as `_assign_medical_record_number` gives it (the
        counter row is locked on first use, until the batch commits)."""
        if self.mrn_next is None:
            counter, _created = MedicalRecordCounter.objects.select_for_update().get_or_create(pk=1)
            self.mrn_next = counter.next_value
        while True:
            if self.mrn_next > self.mrn_checked_up_to:
                self._fetch_taken_mrns(self.mrn_next)
            candidate = f"{MRN_PREFIX}{self.mrn_next:06d}"
            self.mrn_next += 1
            if candidate not in self.mrns:
                return candidate

    def numbering_mark(self) -> int | None:
        return self.mrn_next

    def numbering_restore(self, mark: int | None) -> None:
        self.mrn_next = mark  # None: the counter is read again (it is still locked, and unchanged)

    def save_numbering(self) -> None:
        if self.mrn_next is not None:
            MedicalRecordCounter.objects.filter(pk=1).update(next_value=self.mrn_next)

    def _fetch_taken_mrns(self, start: int) -> None:
        """Which numbers of the next window are taken (given by hand), read as index ranges: within one
        width, "RM000500".."RM001499" sort as their numbers do."""
        window = [f"{MRN_PREFIX}{n:06d}" for n in range(start, start + MRN_WINDOW)]
        by_width: dict[int, list[str]] = {}
        for number in window:
            by_width.setdefault(len(number), []).append(number)
        ranges = models.Q()
        for numbers in by_width.values():
            ranges |= models.Q(medical_record_number__range=(numbers[0], numbers[-1]))
        found = Patient.objects.filter(ranges).values_list("medical_record_number", flat=True)
        self.mrns.update(set(found) & set(window))
        self.mrn_checked_up_to = start + MRN_WINDOW - 1


def _read(model: type[models.Model], pks: set[Any]) -> models.QuerySet:
    queryset = model.objects.filter(pk__in=pks)
    if model is Visit:
        queryset = queryset.select_for_update()  # its status decides whether a part is an amendment
    return queryset


def _references(item: NewRecord) -> Iterable[tuple[models.ForeignKey, Any]]:
    """The (field, primary key) pairs an item points to, for fetching them at once."""
    if item.entity not in SPECS:
        return
    relations = _relations(item.entity)
    for name, value in item.data.items():
        field = relations.get(name)
        if field is None or value in (None, "") or isinstance(value, list | dict | bool):
            continue
        try:
            yield field, field.target_field.to_python(value)
        except (ValidationError, ValueError, TypeError):
            continue


@functools.cache
def _relations(entity: str) -> dict[str, models.ForeignKey]:
    """The fields of an entity a device may set that point to another record, by name."""
    spec = SPECS[entity]
    fields = (spec.model._meta.get_field(name) for name in spec.fields)
    return {field.name: field for field in fields if isinstance(field, models.ForeignKey)}


def _gives_mrn(item: NewRecord) -> bool:
    return item.entity == "patient" and isinstance(item.data.get("medical_record_number"), str)
