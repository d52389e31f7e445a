"""`migrate_schemas` for every schema, holding the lock that makes signups wait (see tenants.services)."""

import psycopg2
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from tenants.services import MIGRATION_LOCK_KEY


class Command(BaseCommand):
    help = "Migrate the public schema, the template and every clinic, with signups paused meanwhile."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--executor", default="standard", choices=["standard", "multiprocessing"])

    def handle(self, *args: object, **options: object) -> None:
        # A connection of its own: django-tenants closes the default one between schemas.
        lock = psycopg2.connect(**connection.get_connection_params())
        lock.autocommit = True
        try:
            with lock.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
            call_command(
                "migrate_schemas", interactive=False, executor=options["executor"], verbosity=options["verbosity"]
            )
        finally:
            lock.close()  # ends the session, which releases the lock
