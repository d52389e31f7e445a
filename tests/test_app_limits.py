"""The app's inputs stop where the server's limits are: every text field of every kind of record has a
length limit, and the app's form for it carries the same one (so a person is stopped while typing,
not refused after syncing)."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from records.specs import SPECS

MAIN_JS = (Path(__file__).resolve().parent.parent / "pwa" / "src" / "fields.js").read_text()


def _app_limits() -> dict[str, int]:
    limits = {name: int(limit) for name, limit in re.findall(r"name: '(\w+)'[^}]*?\bmax: (\d+)", MAIN_JS)}
    for names, limit in re.findall(r"\[([^\]]+)\]\.map\(\(name\) => \(\{\s*name,[^}]*?\bmax: (\d+)", MAIN_JS):
        limits.update({name: int(limit) for name in re.findall(r"'(\w+)'", names)})
    return limits


def _server_text_fields() -> dict[str, int | None]:
    found = {}
    for spec in SPECS.values():
        for name in spec.fields:
            field = spec.model._meta.get_field(name)
            if isinstance(field, models.CharField | models.TextField) and not field.choices and name != "code":
                found[name] = field.max_length
    return found


def test_every_text_field_has_a_limit_and_the_app_knows_it():
    server = _server_text_fields()
    assert server, "no text fields found"
    assert all(limit for limit in server.values()), server
    app = _app_limits()
    # The record number is given by the server (or typed on the staff page), never in the app's forms.
    expected = {name: limit for name, limit in server.items() if name != "medical_record_number"}
    assert {name: app.get(name) for name in expected} == expected


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
