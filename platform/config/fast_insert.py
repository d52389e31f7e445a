"""Inserting many rows of one model with PostgreSQL's COPY, without the ORM's per-object SQL compilation.

`bulk_create` compiles a placeholder and runs several hooks per value; at a device's batch of 500 that
was most of a push's time, and a VALUES list of 500 rows costs PostgreSQL more to parse than COPY costs
to read. Each field gets one converter, chosen once per model, that writes its value in COPY's text
format: text, integers, booleans, UUIDs, dates and aware datetimes directly (on PostgreSQL the ORM hands
these through unchanged), JSON with the field's encoder, every other field through `get_db_prep_save`
as in `Model.save`. Fields stamped on save (`auto_now`, `auto_now_add`) get one aware time per call,
set on the instances as `pre_save` would. No signals, no returned ids: for rows whose primary key is
made in Python, or not needed back.
"""

import datetime
import decimal
import functools
import io
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone
from psycopg2.extras import Json

NULL = "\\N"

Stamp = tuple[datetime.datetime, str]  # the time of this insert, and as COPY text
Converter = Callable[[models.Model, Stamp], str]


def insert_rows(model: type[models.Model], instances: Sequence[Any]) -> None:
    """`instances`: the model's instances, or plain objects with its attribute names (a foreign key as
    `<name>_id`), which skip the cost of building model instances only to be written."""
    if not instances:
        return
    sql, converters = _plan(model)
    now = timezone.now()
    stamp = (now, now.isoformat())
    lines = ["\t".join([convert(instance, stamp) for convert in converters]) for instance in instances]
    connection.validate_no_broken_transaction()  # as the ORM's cursor does before any statement
    with connection.cursor() as cursor, connection.wrap_database_errors:  # Django's IntegrityError, as the ORM
        cursor.cursor.copy_expert(sql, io.StringIO("\n".join(lines) + "\n"))


@functools.cache
def _plan(model: type[models.Model]) -> tuple[str, tuple[Converter, ...]]:
    fields = [field for field in model._meta.concrete_fields if not _made_by_database(field)]
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
    return sql, tuple(_converter(field) for field in fields)


def _made_by_database(field: models.Field) -> bool:
    return bool(getattr(field, "db_returning", False)) or bool(getattr(field, "generated", False))


_TEXT: frozenset[type[models.Field]] = frozenset({models.CharField, models.TextField})
_NUMBER: frozenset[type[models.Field]] = frozenset(
    {
        models.AutoField,
        models.BigAutoField,
        models.BigIntegerField,
        models.IntegerField,
        models.PositiveBigIntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.SmallIntegerField,
        models.UUIDField,
    }
)


def _converter(field: models.Field) -> Converter:
    """The field's value on an instance as COPY text. Exact classes only: a subclass may convert its
    values differently, so it takes the ORM's path."""
    attname = field.attname
    kind = type(field.target_field if isinstance(field, models.ForeignKey) else field)
    stamped_on_save = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    if stamped_on_save and kind is not models.DateTimeField:
        # A date stamped on save (today's date): Django's own `pre_save` sets it, as `Model.save` does.
        return lambda instance, _now: _text(field.get_db_prep_save(field.pre_save(instance, True), connection))
    if stamped_on_save:

        def stamped(instance: models.Model, stamp: Stamp) -> str:
            setattr(instance, attname, stamp[0])
            return stamp[1]

        return stamped
    if kind in _TEXT:
        return lambda instance, _now: _escaped(getattr(instance, attname))  # the ORM makes a non-str value str
    if kind in _NUMBER:
        return lambda instance, _now: _number(getattr(instance, attname))
    if kind is models.BooleanField:
        return lambda instance, _now: _text(getattr(instance, attname))
    if kind is models.DateField:
        return lambda instance, _now: _date(field, getattr(instance, attname))
    if kind is models.DateTimeField:
        return lambda instance, _now: _datetime(field, getattr(instance, attname))
    if kind is models.JSONField:
        # As the ORM's `adapt_json_value`: the field's encoder; None is SQL NULL.
        encoder = field.encoder
        return lambda instance, _now: _json(getattr(instance, attname), encoder)
    return lambda instance, _now: _text(field.get_db_prep_save(getattr(instance, attname), connection))


def _escaped(value: Any) -> str:
    if value is None:
        return NULL
    if type(value) is not str:
        return _text(str(value))
    return _text(value) if _NEEDS_ESCAPE.intersection(value) else value


def _number(value: Any) -> str:
    if value is None:
        return NULL
    return str(value) if type(value) in _PLAIN_NUMBERS else _text(value)


def _date(field: models.Field, value: Any) -> str:
    if type(value) is datetime.date:
        return value.isoformat()
    return _text(field.get_db_prep_save(value, connection))  # e.g. an aware datetime: its local date


def _json(value: Any, encoder: type[json.JSONEncoder] | None) -> str:
    if value is None:
        return NULL
    text = json.dumps(value, cls=encoder)
    if "\n" not in text and "\t" not in text and "\r" not in text:
        # JSON escapes control characters inside its strings, so only its backslashes need COPY's escape.
        return text.replace("\\", "\\\\")
    return _text(text)  # an encoder that writes raw newlines or tabs (an indent)


def _datetime(field: models.Field, value: Any) -> str:
    if isinstance(value, datetime.datetime) and value.utcoffset() is not None:
        return value.isoformat()
    return _text(field.get_db_prep_save(value, connection))  # the ORM makes a naive time aware


_NEEDS_ESCAPE = frozenset("\\\n\r\t\x00")
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_AS_STR = (int, decimal.Decimal, uuid.UUID)
_PLAIN_NUMBERS = frozenset({int, uuid.UUID})  # exactly these types (a bool is an int, and is not one)
_ISO = (datetime.date, datetime.time)


def _text(value: Any) -> str:
    """Any value the ORM hands psycopg2, in COPY's text format (PostgreSQL's COPY, "Text Format")."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, _AS_STR):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # PostgreSQL reads Python's repr, including inf and nan
    if isinstance(value, Json):
        value = value.dumps(value.adapted)
    elif isinstance(value, _ISO):
        value = value.isoformat()
    elif not isinstance(value, str):
        raise TypeError(f"No COPY text for a {type(value).__name__}")
    if "\x00" in value:
        raise ValueError("PostgreSQL text cannot hold a NUL character")
    return value.translate(_ESCAPES)
