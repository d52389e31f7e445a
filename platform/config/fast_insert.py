"""Inserting many rows of one model in one statement, without the ORM's per-object SQL compilation.

`bulk_create` compiles a placeholder and runs several hooks per value; at a device's batch of 500 that
was most of a push's time. This converts each value exactly as the ORM would (`pre_save`, then
`get_db_prep_save`) and sends the rows with psycopg2's `execute_values`. No signals, no returned ids:
for rows whose primary key is made in Python, or not needed back.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models
from psycopg2.extras import execute_values


def insert_rows(model: type[models.Model], instances: Sequence[models.Model], *, page_size: int = 1000) -> None:
    if not instances:
        return
    fields = [field for field in model._meta.concrete_fields if not _made_by_database(field)]
    quote = connection.ops.quote_name
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES %s"  # noqa: S608 (names from the model, quoted)
    with connection.cursor() as cursor:
        execute_values(cursor.cursor, sql, list(_rows(fields, instances)), page_size=page_size)


def _made_by_database(field: models.Field) -> bool:
    return bool(getattr(field, "db_returning", False)) or bool(getattr(field, "generated", False))


def _rows(fields: list[models.Field], instances: Iterable[models.Model]) -> Iterable[tuple[Any, ...]]:
    for instance in instances:
        yield tuple(field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields)
