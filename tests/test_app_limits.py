"""The app checks each field with the server's own rules, from one source: records/rules.py exports them
from the models (the build bundles them into the app), pwa/src/fields.js copies none of them, and the app's
checks (pwa/src/rules.js, run in node) refuse exactly what the server refuses at every limit."""

import datetime
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone, translation

from records import services
from records.models import Patient, Visit, VitalSigns
from records.rules import CHECKS, DAYS_AHEAD, export_rules
from records.specs import SPECS
from records.validators import OLDEST_BIRTH_DATE, PhysiologicalRange
from tests.app_rules import run_rules_in_node

ROOT = Path(__file__).resolve().parent.parent
PWA_SRC = ROOT / "pwa" / "src"


def _model_field(entity: str, name: str) -> models.Field:
    return SPECS[entity].model._meta.get_field(name)


# --- the export is the models' ------------------------------------------------------------------------------


def test_every_editable_field_is_exported_with_the_models_limits():
    exported = export_rules()["entities"]
    assert set(exported) == set(SPECS)
    for entity, spec in SPECS.items():
        fields = exported[entity]["fields"]
        assert list(fields) == list(spec.fields), entity
        for name, rule in fields.items():
            field = _model_field(entity, name)
            assert rule["required"] is (not field.blank), (entity, name)
            if isinstance(field, models.CharField | models.TextField):
                assert rule["max_length"] == field.max_length, (entity, name)
            if field.choices:
                assert rule["choices"] == [value for value, _label in field.choices], (entity, name)
            if isinstance(field, models.DecimalField):
                assert (rule["decimal_places"], rule["max_digits"]) == (field.decimal_places, field.max_digits)
            for validator in field.validators:
                if isinstance(validator, PhysiologicalRange):
                    assert (Decimal(str(rule["min"])), Decimal(str(rule["max"]))) == (validator.low, validator.high)
                    with translation.override("en"):
                        assert rule["unit"]["en"] == str(validator.unit), (entity, name)
    patient = exported["patient"]["fields"]
    assert patient["birth_date"]["min"] == OLDEST_BIRTH_DATE.isoformat()
    assert patient["birth_date"]["not_future"] is True
    assert patient["nik"]["nik"] is True
    assert exported["prescription"]["fields"]["quantity"]["unit"] == {"id": "unit", "en": "units"}


def test_the_build_command_prints_the_export():
    """`python records/rules.py > pwa/build/rules.json`, as the Makefile runs it (no database needed)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "records" / "rules.py")], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout) == json.loads(json.dumps(export_rules()))


def test_the_cross_field_rules_are_what_the_models_clean_holds():
    """rules.py writes out what clean() checks across fields and of times ahead; the models refuse
    exactly that, keyed on the same field."""
    now = timezone.now()
    assert CHECKS["vitals"] == [
        {"rule": "lower_than", "field": "diastolic", "than": "systolic", "fields": ["diastolic", "systolic"]}
    ]
    VitalSigns(systolic=120, diastolic=119, measured_at=now).clean()
    with pytest.raises(ValidationError) as refused:
        VitalSigns(systolic=120, diastolic=120, measured_at=now).clean()
    assert set(refused.value.message_dict) == {"diastolic"}
    for (entity, name), days in DAYS_AHEAD.items():
        model = {"visit": Visit, "vitals": VitalSigns}[entity]
        model(**{name: now + datetime.timedelta(days=days) - datetime.timedelta(minutes=1)}).clean()
        with pytest.raises(ValidationError) as refused:
            model(**{name: now + datetime.timedelta(days=days, minutes=1)}).clean()
        assert set(refused.value.message_dict) == {name}
    [nik_rule] = CHECKS["patient"]
    with pytest.raises(ValidationError) as refused:
        Patient(nik="3174010203870001", birth_date=datetime.date(1987, 3, 3), sex="M").clean()
    assert set(refused.value.message_dict) == {nik_rule["field"]}
    assert set(nik_rule["fields"]) == {"nik", "birth_date", "sex"}


def test_a_text_field_refuses_one_character_over_its_limit():
    checked = []
    for spec in SPECS.values():
        for name in spec.fields:
            field = spec.model._meta.get_field(name)
            if isinstance(field, models.TextField):
                field.clean("x" * field.max_length, None)  # at the limit: taken
                with pytest.raises(ValidationError):
                    field.clean("x" * (field.max_length + 1), None)
                checked.append(name)
    assert len(checked) == 8, checked  # address, allergies, chief complaint, SOAP, instructions


# --- the app copies none of it ---------------------------------------------------------------------------------


def test_the_apps_fields_copy_no_limit_and_name_only_fields_the_server_has():
    source = (PWA_SRC / "fields.js").read_text()
    fields_block = source[source.index("export const FIELDS") : source.index("export function canWrite")]
    copied = re.findall(r"\b(max|min|maxlength|required|step|pattern|options|choices)\s*:", fields_block)
    assert copied == [], copied
    shown = 0
    for chunk in fields_block.split("of(")[1:]:
        entity = re.match(r"\s*'(\w+)'", chunk)[1]
        names = set(re.findall(r"name: '(\w+)'", chunk))
        for listed in re.findall(r"\[((?:\s*'\w+',?)+)\s*\]", chunk):
            names |= set(re.findall(r"'(\w+)'", listed))
        assert names, entity
        assert names <= set(SPECS[entity].fields), (entity, names)
        shown += len(names)
    assert shown >= 25


def test_every_message_the_apps_checks_give_is_in_both_languages():
    source = (PWA_SRC / "rules.js").read_text()
    keyed = {"required", "nik_sex", "lower_than"}  # worded by a key of their own (below)
    keys = {f"rule_{code}" for code in re.findall(r"code: '(\w+)'", source) if code not in keyed}
    keys |= set(re.findall(r"'(rule_\w+)'", source))
    checks = [check for kind in CHECKS.values() for check in kind]
    keys |= {f"rule_lower_than_{check['field']}" for check in checks if check["rule"] == "lower_than"}
    keys |= {"required", "check_marked"}
    strings = (PWA_SRC / "i18n.js").read_text()
    tables = re.search(r"\n  id: \{(.*?)\n  \},\n  en: \{(.*?)\n  \},\n\};", strings, re.DOTALL)
    for table in tables.groups():
        assert keys - set(re.findall(r"(\w+):\s+'", table)) == set()


# --- the app refuses what the server refuses --------------------------------------------------------------------

IN_NODE = """
const refused = input.cells.map(([entity, name, value]) => Boolean(problems(entity, { [name]: value }, {})[name]));
process.stdout.write(JSON.stringify(refused));
"""


def _at_the_limits(entity: str, name: str, rule: dict[str, Any]) -> list[Any]:
    """Values at and just past each of a field's limits (and one of the wrong kind)."""
    today = timezone.localdate()
    if rule["type"] == "text":
        limit = rule["max_length"]
        return ["x" * limit, "x" * (limit + 1), "🤒" * limit, "🤒" * (limit + 1), ""]
    if rule["type"] == "choice":
        return [*rule["choices"], "x", ""]
    if rule["type"] == "integer":
        low, high = rule["min"], rule["max"]
        return [low, high, low - 1, high + 1, low + 0.5, None]
    if rule["type"] == "decimal":
        step = 10 ** -rule["decimal_places"]
        low, high = rule["min"], rule["max"]
        inside = round((low + high) / 2, rule["decimal_places"])
        return [low, high, round(low - step, 3), round(high + step, 3), inside, inside + step / 2, None]
    if rule["type"] == "date":
        return [rule["min"], "1899-12-31", today.isoformat(), (today + datetime.timedelta(days=1)).isoformat(), ""]
    return []


def _server_refuses(entity: str, name: str, value: Any) -> bool:
    spec = SPECS[entity]
    try:
        parsed = services.parse_all(spec, {name: value})[name]
        spec.model._meta.get_field(name).clean(parsed, None)
    except ValidationError:
        return True
    return False


def test_the_app_refuses_exactly_what_the_server_refuses_at_every_limit():
    rules = export_rules()
    cells = [
        (entity, name, value)
        for entity, kind in rules["entities"].items()
        for name, rule in kind["fields"].items()
        for value in _at_the_limits(entity, name, rule)
    ]
    assert len(cells) > 150
    app = run_rules_in_node(IN_NODE, {"cells": cells})
    disagree = [
        (cell, "app refuses" if in_app else "server refuses")
        for cell, in_app in zip(cells, app, strict=True)
        if in_app != _server_refuses(*cell)
    ]
    assert disagree == []
    assert sum(app) > 50  # the limits were reached, not only values within them
