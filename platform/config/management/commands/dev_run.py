"""`make run`: migrate every schema, set up the platform, load the demo and serve on port 8000."""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand


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
            self.stdout.write("Migrating the public schema, the template and every clinic...")
            call_command("migrate_clinics", verbosity=0)
            call_command("createcachetable", verbosity=0)
            call_command("seed_demo", port=addrport.rsplit(":", 1)[-1])
        if options["no_serve"]:
            return
        call_command("runserver", addrport, use_reloader=True)
