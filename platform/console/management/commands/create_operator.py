"""Create a platform operator (a user of the public schema who can use the console and the admin)."""

import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.accounts.services import operator_create


class Command(BaseCommand):
    help = "Create an operator account for the superadmin console on the apex domain."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="Platform Operator")
        parser.add_argument("--password", help="If omitted, read from OPERATOR_PASSWORD or asked for interactively.")

    def handle(self, *args: object, **options: object) -> None:
        import os

        password = options["password"] or os.environ.get("OPERATOR_PASSWORD") or getpass.getpass("Password: ")
        try:
            user = operator_create(email=str(options["email"]), full_name=str(options["name"]), password=password)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Operator {user.email} created."))
