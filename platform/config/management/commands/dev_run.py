"""`make run`: migrate every schema, set up the platform, load the demo, and serve on port 8000 with the
background worker (SATUSEHAT sends, exports) running beside the server."""

import atexit
import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import OperationalError, connection

from config.database_admin import create_database


class Command(BaseCommand):
    help = "Prepare the database (migrations, template, demo data) and start the development server."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addrport", default="0.0.0.0:8000")
        parser.add_argument("--no-serve", action="store_true", help="Prepare everything, then exit.")

    def handle(self, *args: object, **options: object) -> None:
        addrport = str(options["addrport"])
        # runserver's autoreloader runs this command again in a child process (RUN_MAIN=true); the
        # database is prepared once, by the parent.
        if os.environ.get("RUN_MAIN") != "true":
            if create_database_if_missing():
                self.stdout.write(f"Created the database {connection.settings_dict['NAME']}.")
            self.stdout.write("Migrating the public schema, the template and every clinic...")
            call_command("migrate_clinics", verbosity=0)
            call_command("createcachetable", verbosity=0)
            call_command("seed_demo", port=addrport.rsplit(":", 1)[-1])
        if options["no_serve"]:
            return
        if os.environ.get("RUN_MAIN") != "true":
            start_worker()
            self.stdout.write("Background worker started (manage.py run_worker).")
        call_command("runserver", addrport, use_reloader=True)


def start_worker() -> subprocess.Popen:
    """The clinics' task worker, as its own process (as on Heroku), stopped when `make run` stops."""
    worker = subprocess.Popen([sys.executable, "manage.py", "run_worker"], cwd=settings.ROOT_DIR)
    atexit.register(worker.terminate)
    return worker


def create_database_if_missing() -> bool:
    """`make run` with a DATABASE_URL naming a database that does not exist yet creates it (the
    embedded server's database is created by config.embedded_db)."""
    try:
        connection.ensure_connection()
        return False
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    create_database(connection.settings_dict, connection.settings_dict["NAME"])
    return True
