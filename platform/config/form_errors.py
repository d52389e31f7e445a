"""Showing a service's ValidationError on a form: field messages on their fields, the rest on top."""

from django import forms
from django.core.exceptions import ValidationError


def add_validation_error(form: forms.Form, exc: ValidationError, *, field_map: dict[str, str] | None = None) -> None:
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        name = field_map.get(field, field)
        form.add_error(name if name in form.fields else None, messages)
