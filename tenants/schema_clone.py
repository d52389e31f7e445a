"""Copy the template schema into a new clinic's schema, in time that does not grow with the clinic count.

django-tenants ships a general `clone_schema()` PL/pgSQL function that handles every kind of object
(views, functions, partitions, policies...). It scans `information_schema` across *all* schemas for
every table and column it copies, so each signup gets slower as clinics accumulate (about 1.5 s per
clinic with 100 clinics on the benchmark machine; `make bench`). A Django-migrated schema holds only
tables, identity sequences, indexes and constraints, which this module copies with a few catalog queries
scoped to the template schema. Object names (indexes, constraints, sequences) stay exactly those the
migrations created, so later migrations that name them keep working; `tests/test_schema_clone.py`
checks that a clone is identical to a migrated schema.
"""

from django.db import connection
from psycopg2 import sql

from tenants.subdomains import SCHEMA_NAME_RE

_LIKE_OPTIONS = (
    "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING CONSTRAINTS "
    "INCLUDING COMMENTS INCLUDING STORAGE"
)


# Rows copied from the template: the migrations applied, and the content types and permissions that
# post_migrate created (so their ids match across clinics). Every other table must be empty.
COPIED_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission"})
_SEQUENCE_TYPES = frozenset({"smallint", "integer", "bigint"})


class UnsupportedTemplateObjectError(RuntimeError):
    """The template holds an object this copier does not handle (a view, a function...)."""


def _check(name: str) -> None:
    if not SCHEMA_NAME_RE.fullmatch(name):
        raise ValueError(f"invalid schema name {name!r}")


def _retarget(definition: str, source: str, target: str) -> str:
    """Point a definition printed by PostgreSQL (qualified with the template) at the new schema.

    The target is quoted: a valid subdomain can still be an SQL keyword (`order`, `user`).
    """
    return definition.replace(f" ON {source}.", f' ON "{target}".').replace(
        f" REFERENCES {source}.", f' REFERENCES "{target}".'
    )


def _fetch(query: str, params: list[object]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def _assert_only_tables(source: str) -> None:
    """Refuse a template holding anything but tables, indexes and sequences (views, functions, types,
    triggers, row security policies, rules): silently dropping one would make clinics differ."""
    others = _fetch(
        """
        SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s AND c.relkind NOT IN ('r', 'i', 'S')
        UNION ALL SELECT p.proname, 'function' FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %(s)s
        UNION ALL SELECT t.typname, 'type' FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = %(s)s AND t.typtype IN ('e', 'd', 'r', 'm')
        UNION ALL SELECT tg.tgname, 'trigger' FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s AND NOT tg.tgisinternal
        UNION ALL SELECT pol.polname, 'policy' FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s
        UNION ALL SELECT c.relname, 'row level security' FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s AND c.relrowsecurity
        UNION ALL SELECT r.rulename, 'rule' FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s AND c.relkind = 'r'
        """,
        {"s": source},
    )
    if others:
        raise UnsupportedTemplateObjectError(f"the template schema holds objects this copier cannot copy: {others}")


def _assert_no_rows_beyond_bookkeeping(source: str, tables: list[str]) -> None:
    """Only Django's bookkeeping rows are copied; a person or a record in the template is a mistake."""
    with connection.cursor() as cursor:
        for table in tables:
            if table in COPIED_TABLES:
                continue
            cursor.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(source, table)))
            if cursor.fetchone()[0]:
                raise UnsupportedTemplateObjectError(f"the template table {table} holds rows; it must be empty")


def clone_schema(*, source: str, target: str) -> None:
    """Create schema `target` as a copy of `source` (structure and rows), inside the current transaction."""
    _check(source)
    _check(target)
    # Definitions are printed schema-qualified only when the schema is not on the search_path.
    connection.set_schema_to_public()
    _assert_only_tables(source)
    tables = [
        row[0]
        for row in _fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname",
            [source],
        )
    ]
    # The sequence's own type too: a column altered from integer to bigint keeps an integer sequence.
    _assert_no_rows_beyond_bookkeeping(source, tables)
    # Generated columns are computed, never inserted.
    insertable = _fetch(
        "SELECT c.relname, array_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' "
        "GROUP BY c.relname",
        [source],
    )
    columns_of = dict(insertable)
    identity_columns = _fetch(
        "SELECT c.relname, a.attname, format_type(seq.seqtypid, NULL) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_depend d ON d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.deptype = 'i' "
        "JOIN pg_sequence seq ON seq.seqrelid = d.objid "
        "WHERE n.nspname = %s AND c.relkind = 'r' AND a.attidentity <> '' AND NOT a.attisdropped",
        [source],
    )
    constraints = _fetch(
        "SELECT c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid) "
        "FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
        "JOIN pg_namespace n ON n.oid = con.connamespace "
        "WHERE n.nspname = %s AND con.contype IN ('p', 'u', 'x', 'f') ORDER BY con.contype = 'f', con.conname",
        [source],
    )
    plain_indexes = _fetch(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = ic.relnamespace WHERE n.nspname = %s "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint con "
        "WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')) "
        "ORDER BY ic.relname",
        [source],
    )

    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(target)))
        for table in tables:
            cursor.execute(
                sql.SQL("CREATE TABLE {new} (LIKE {old} " + _LIKE_OPTIONS + ")").format(
                    new=sql.Identifier(target, table), old=sql.Identifier(source, table)
                )
            )
            if table in COPIED_TABLES:
                columns = sql.SQL(", ").join(sql.Identifier(column) for column in columns_of[table])
                cursor.execute(
                    sql.SQL("INSERT INTO {new} ({cols}) OVERRIDING SYSTEM VALUE SELECT {cols} FROM {old}").format(
                        new=sql.Identifier(target, table), old=sql.Identifier(source, table), cols=columns
                    )
                )
        for table, column, sequence_type in identity_columns:
            if sequence_type not in _SEQUENCE_TYPES:
                raise UnsupportedTemplateObjectError(f"identity sequence of type {sequence_type}")
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [f'"{target}"."{table}"', column])
            sequence = cursor.fetchone()[0]
            cursor.execute(sql.SQL("ALTER SEQUENCE {} AS " + sequence_type).format(sql.SQL(sequence)))
            cursor.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), "
                    "COALESCE((SELECT max({col}) FROM {tbl}), 0) + 1, false)"
                ).format(col=sql.Identifier(column), tbl=sql.Identifier(target, table)),
                [f'"{target}"."{table}"', column],
            )
        # Keys and unique constraints first (foreign keys need them), then the other indexes.
        for table, name, _kind, definition in constraints:
            cursor.execute(
                sql.SQL("ALTER TABLE {tbl} ADD CONSTRAINT {name} ").format(
                    tbl=sql.Identifier(target, table), name=sql.Identifier(name)
                )
                + sql.SQL(_retarget(definition, source, target))
            )
        for (definition,) in plain_indexes:
            cursor.execute(_retarget(definition, source, target))
