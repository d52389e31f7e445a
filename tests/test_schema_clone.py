"""A clinic cloned from the template is identical to one built by running every migration."""

import pytest
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tenants.models import Clinic
from tenants.schema_clone import UnsupportedTemplateObjectError, clone_schema
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

CATALOG_QUERIES = {
    # Column order is compared by rank: a migrated schema keeps gaps where columns were dropped.
    "columns": """
        SELECT table_name, column_name,
               row_number() OVER (PARTITION BY table_name ORDER BY ordinal_position), data_type,
               character_maximum_length, is_nullable,
               is_identity, identity_generation, replace(coalesce(column_default, ''), %(schema)s, 'S')
        FROM information_schema.columns WHERE table_schema = %(schema)s ORDER BY 1, 3""",
    "constraints": """
        SELECT c.relname, con.conname, con.contype, replace(pg_get_constraintdef(con.oid), %(schema)s || '.', 'S.'),
               con.condeferrable, con.condeferred
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = con.connamespace
        WHERE n.nspname = %(schema)s ORDER BY 1, 2""",
    # A partial index's predicate is re-parsed on copy and may print with other (equivalent) casts,
    # so the predicate is compared by presence; the rest of the definition must match exactly.
    "indexes": """
        SELECT tablename, indexname, replace(split_part(indexdef, ' WHERE ', 1), %(schema)s || '.', 'S.'),
               indexdef LIKE '%% WHERE %%'
        FROM pg_indexes WHERE schemaname = %(schema)s ORDER BY 1, 2""",
    "sequences": """
        SELECT sequencename, data_type, increment_by FROM pg_sequences WHERE schemaname = %(schema)s ORDER BY 1""",
    "migrations": "SELECT app, name FROM {schema}.django_migrations ORDER BY 1, 2",
}


def _catalog(schema: str) -> dict[str, list[tuple]]:
    result = {}
    with connection.cursor() as cursor:
        for key, query in CATALOG_QUERIES.items():
            cursor.execute(query.replace("{schema}", f'"{schema}"'), {"schema": schema})
            result[key] = cursor.fetchall()
    return result


def _new_clinic(subdomain: str) -> Clinic:
    clinic = Clinic(schema_name=subdomain, name=subdomain, subdomain=subdomain)
    clinic.save(verbosity=0)
    return clinic


def test_clone_equals_a_migrated_schema(platform_world):
    _new_clinic("cloned")
    with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
        _new_clinic("migrated")
    cloned, migrated = _catalog("cloned"), _catalog("migrated")
    assert len(cloned["columns"]) > 50
    assert len(cloned["constraints"]) > 20
    for key in CATALOG_QUERIES:
        assert cloned[key] == migrated[key], key


def test_identity_sequences_continue_after_the_copied_rows(platform_world):
    _new_clinic("urutan")
    with schema_context("urutan"):
        from django.contrib.contenttypes.models import ContentType

        copied = ContentType.objects.count()
        assert copied > 0  # the template's content types came along
        created = ContentType.objects.create(app_label="x", model="y")
        assert created.pk > max(ContentType.objects.exclude(pk=created.pk).values_list("pk", flat=True))
        user = User.objects.create_user("first@urutan.test", PASSWORD, full_name="First")
        assert user.pk == 1


def test_clone_refuses_objects_it_cannot_copy(platform_world):
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA odd; CREATE VIEW odd.v AS SELECT 1 AS one")
    with pytest.raises(UnsupportedTemplateObjectError):
        clone_schema(source="odd", target="odd_copy")


@pytest.mark.parametrize("name", ['bad"name', "Upper", "a;drop"])
def test_clone_refuses_invalid_schema_names(name):
    with pytest.raises(ValueError, match="invalid schema name"):
        clone_schema(source="clinic_template", target=name)


def test_only_bookkeeping_rows_are_copied(platform_world):
    _new_clinic("kosong")
    with schema_context("kosong"):
        assert not User.objects.exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM django_migrations")
            assert cursor.fetchone()[0] > 20


def test_a_template_holding_rows_is_refused(platform_world):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE SCHEMA dirty; CREATE TABLE dirty.people (name text); INSERT INTO dirty.people VALUES ('x')"
        )
    with pytest.raises(UnsupportedTemplateObjectError, match="holds rows"):
        clone_schema(source="dirty", target="dirty_copy")


@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE FUNCTION odd2.f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'",
        "CREATE TYPE odd2.mood AS ENUM ('ok')",
        "ALTER TABLE odd2.t ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY p ON odd2.t USING (true)",
    ],
)
def test_a_template_with_objects_the_copier_cannot_copy_is_refused(platform_world, ddl):
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA odd2; CREATE TABLE odd2.t (id int)")
        cursor.execute(ddl)
    with pytest.raises(UnsupportedTemplateObjectError):
        clone_schema(source="odd2", target="odd2_copy")


def test_generated_columns_are_computed_not_copied(platform_world):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE SCHEMA gen; CREATE TABLE gen.django_migrations (id bigint GENERATED BY DEFAULT AS IDENTITY "
            "PRIMARY KEY, app text, doubled bigint GENERATED ALWAYS AS (id * 2) STORED); "
            "INSERT INTO gen.django_migrations (app) VALUES ('a'), ('b')"
        )
    clone_schema(source="gen", target="gen_copy")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO gen_copy.django_migrations (app) VALUES ('c')")
        cursor.execute("SELECT id, app, doubled FROM gen_copy.django_migrations ORDER BY id")
        assert cursor.fetchall() == [(1, "a", 2), (2, "b", 4), (3, "c", 6)]
