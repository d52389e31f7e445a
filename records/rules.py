"""The rules each field a person edits must meet, as data the app checks before saving: one source.

Derived from the models (type, required, length, choices, decimal places), their validators (ranges with
units, the NIK's form, dates not in the future, birth dates from 1900) and SPECS (which fields are
editable); the rules the models' `clean()` hold across fields (a NIK's birth-date digits, diastolic
below systolic, a visit not days ahead) are written out here as data, and tests/test_rules_export.py
checks the models refuse exactly what they say. `python records/rules.py > pwa/build/rules.json` at
build time (see the Makefile's pwa rule); the app bundles it and checks with pwa/src/rules.js.
"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":  # `python records/rules.py`: the project's import path and settings first
    _ROOT = Path(__file__).resolve().parent.parent
    sys.path[0] = str(_ROOT)  # not records/, whose selectors.py would stand in for the standard library's
    sys.path.insert(0, str(_ROOT / "platform"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DATABASE_URL", "postgres://localhost/unused")  # nothing is read from a database
    import django

    django.setup()

import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import validators
from django.db import models
from django.utils import translation

from records.models import Patient
from records.specs import SPECS
from records.validators import (
    NIK_FEMALE_DAY_OFFSET,
    NIK_PROVINCES,
    NIK_RE,
    OLDEST_BIRTH_DATE,
    PhysiologicalRange,
    validate_birth_date,
    validate_nik,
    validate_not_future,
)

# Left empty on a new patient, the server gives the next record number (records.services).
SERVER_ASSIGNED = {("patient", "medical_record_number")}

# What the models' clean() checks of one field: a time at most this many days from now (a device's
# clock may run a little ahead; a visit days ahead is a typing mistake).
DAYS_AHEAD = {("visit", "started_at"): 1, ("vitals", "measured_at"): 1}

# What the models' clean() checks across fields, keyed on the field the message is shown beside;
# `fields`: the values it relates (checked when a change sets any of them).
CHECKS: dict[str, list[dict[str, Any]]] = {
    "patient": [
        {
            "rule": "nik_matches_person",
            "field": "nik",
            "fields": list(Patient.NIK_RULE_FIELDS),
            "female": Patient.Sex.FEMALE.value,
            "male": Patient.Sex.MALE.value,
        }
    ],
    "vitals": [{"rule": "lower_than", "field": "diastolic", "than": "systolic", "fields": ["diastolic", "systolic"]}],
}


def _number(value: Decimal | int) -> float | int:
    return float(value) if isinstance(value, Decimal) else value


def _in_each_language(text: str) -> dict[str, str]:
    words = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            words[code] = str(text)
    return words


def _kind(field: models.Field) -> str:
    if isinstance(field, models.ForeignKey):
        return "reference"
    if field.choices:
        return "choice"
    if isinstance(field, models.DateTimeField):  # before DateField: it is one
        return "datetime"
    if isinstance(field, models.DateField):
        return "date"
    if isinstance(field, models.DecimalField):
        return "decimal"
    if isinstance(field, models.IntegerField):
        return "integer"
    if isinstance(field, models.CharField | models.TextField):
        return "text"
    raise TypeError(f"no rule for a {type(field).__name__}")


def _tighten(rules: dict[str, Any], key: str, value: Any, *, lower: bool) -> None:
    """Keep the tighter of two bounds: the highest minimum, the lowest maximum."""
    if key not in rules:
        rules[key] = value
    else:
        rules[key] = max(rules[key], value) if lower else min(rules[key], value)


def _validator_rules(rules: dict[str, Any], validator: Any) -> None:
    """What one validator adds; one this does not know stops the export (the app would miss it)."""
    if isinstance(validator, PhysiologicalRange):
        _tighten(rules, "min", _number(validator.low), lower=True)
        _tighten(rules, "max", _number(validator.high), lower=False)
        rules["unit"] = _in_each_language(validator.unit)
    elif isinstance(validator, validators.MinValueValidator):
        _tighten(rules, "min", _number(validator.limit_value), lower=True)
    elif isinstance(validator, validators.MaxValueValidator):
        _tighten(rules, "max", _number(validator.limit_value), lower=False)
    elif isinstance(validator, validators.MaxLengthValidator):
        _tighten(rules, "max_length", validator.limit_value, lower=False)
    elif validator is validate_nik:
        rules["nik"] = True
    elif validator is validate_not_future:
        rules["not_future"] = True
    elif validator is validate_birth_date:
        rules["min"] = OLDEST_BIRTH_DATE.isoformat()
    elif isinstance(validator, validators.DecimalValidator):
        pass  # its digits and places are the field's (`decimal_places`, `max_digits`)
    elif isinstance(validator, validators.ProhibitNullCharactersValidator):
        pass  # text that cannot be stored is refused as it arrives (records.services.check_storable)
    else:
        raise TypeError(f"no rule for the validator {validator!r}")


def field_rules(entity: str, field: models.Field) -> dict[str, Any]:
    """One field's rules: type, required, and the limits its kind and validators set."""
    rules: dict[str, Any] = {"type": _kind(field), "required": not field.blank}
    if (entity, field.name) in SERVER_ASSIGNED:
        rules["server_assigns"] = True
    if rules["type"] == "choice":
        rules["choices"] = [value for value, _label in field.choices]
    if rules["type"] == "decimal":
        rules["decimal_places"], rules["max_digits"] = field.decimal_places, field.max_digits
    if rules["type"] != "reference":
        for validator in field.validators:
            _validator_rules(rules, validator)
    if (entity, field.name) in DAYS_AHEAD:
        rules["max_days_ahead"] = DAYS_AHEAD[(entity, field.name)]
    return rules


def export_rules() -> dict[str, Any]:
    """Every kind of record's editable fields with their rules and its cross-field checks, and what a
    NIK is made of."""
    return {
        "entities": {
            name: {
                "fields": {field: field_rules(name, spec.model._meta.get_field(field)) for field in spec.fields},
                "checks": CHECKS.get(name, []),
            }
            for name, spec in SPECS.items()
        },
        "nik": {
            "pattern": NIK_RE.pattern,
            "provinces": list(NIK_PROVINCES),
            "birth_digits": [6, 12],  # DDMMYY, as string offsets
            "female_day_offset": NIK_FEMALE_DAY_OFFSET,
        },
    }


if __name__ == "__main__":
    json.dump(export_rules(), sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    sys.stdout.write("\n")
