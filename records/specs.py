"""The kinds of clinical record, by the name the API and sync use for them, with their editable fields."""

from dataclasses import dataclass

from django.db import models

from records.models import Diagnosis, Patient, Prescription, Visit, VitalSigns


@dataclass(frozen=True)
class EntitySpec:
    name: str
    model: type[models.Model]
    fields: tuple[str, ...]  # what a person (or a device) may set
    parent: str | None = None  # the field naming the record this one belongs to
    immutable: tuple[str, ...] = ()  # set on create, never changed (a record does not move)


SPECS: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec(
            "patient",
            Patient,
            ("medical_record_number", "full_name", "nik", "birth_date", "sex", "phone", "address", "allergies"),
        ),
        EntitySpec(
            "visit",
            Visit,
            (
                "patient",
                "started_at",
                "practitioner",
                "status",
                "chief_complaint",
                "subjective",
                "objective",
                "assessment",
                "plan",
                "arrived_at",
                "called_at",
                "left_at",
            ),
            parent="patient",
            immutable=("patient",),
        ),
        EntitySpec(
            "vitals",
            VitalSigns,
            (
                "visit",
                "measured_at",
                "temperature_c",
                "pulse",
                "respiratory_rate",
                "systolic",
                "diastolic",
                "spo2",
                "height_cm",
                "weight_kg",
            ),
            parent="visit",
            immutable=("visit",),
        ),
        EntitySpec("diagnosis", Diagnosis, ("visit", "code", "kind"), parent="visit", immutable=("visit",)),
        EntitySpec(
            "prescription",
            Prescription,
            ("visit", "drug", "dose", "route", "frequency", "duration", "quantity", "instructions"),
            parent="visit",
            immutable=("visit",),
        ),
    )
}


def spec_for(entity: str) -> EntitySpec:
    return SPECS[entity]


_ENTITY_OF_MODEL = {spec.model: spec.name for spec in SPECS.values()}


def entity_of(instance: models.Model) -> str:
    entity = _ENTITY_OF_MODEL.get(type(instance))
    if entity is not None:
        return entity
    for spec in SPECS.values():  # a subclass or proxy of a record model
        if isinstance(instance, spec.model):
            return spec.name
    raise KeyError(type(instance).__name__)
