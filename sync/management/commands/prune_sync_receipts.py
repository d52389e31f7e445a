"""Delete push receipts that no device can ask about again, older than a retention period, in every
clinic. Run it daily (Heroku Scheduler: `python manage.py prune_sync_receipts`); see
`sync.services.receipts_prune` for why what it deletes is safe to delete."""

import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django_tenants.utils import schema_context

from sync.services import receipts_prune
from tenants.models import Clinic


class Command(BaseCommand):
    help = "Delete push receipts no device can resend a mutation of, older than --days (90 by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=90, help="Keep every receipt younger than this.")

    def handle(self, *args: object, days: int, **options: object) -> None:
        if days < 1:
            raise CommandError("--days must be 1 or more.", returncode=2)
        clinics = Clinic.objects.exclude(status__in=[Clinic.Status.TEMPLATE, Clinic.Status.PLATFORM])
        total, failed = 0, []
        for clinic in clinics.order_by("schema_name"):
            try:
                with schema_context(clinic.schema_name):
                    deleted = receipts_prune(older_than=datetime.timedelta(days=days))
            except DatabaseError as error:  # one clinic's trouble does not stop the others
                failed.append(clinic.schema_name)
                self.stderr.write(f"{clinic.schema_name}: not pruned ({error})")
                continue
            total += deleted
            if deleted:
                self.stdout.write(f"{clinic.schema_name}: {deleted} receipts deleted")
        self.stdout.write(
            f"Done: {total} receipts older than {days} days deleted (receipts a device may still resend are kept)."
        )
        if failed:
            raise CommandError(f"Not pruned: {', '.join(failed)}")
