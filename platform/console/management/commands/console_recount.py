"""Recount the console's figures of every clinic (or one), each from its own schema: for repair."""

from django.core.management.base import BaseCommand, CommandError

from console.usage import usage_recount
from tenants.selectors import clinics_for_console


class Command(BaseCommand):
    help = "Recount each clinic's staff, devices, patients, visits this month and last activity for the console."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--clinic", metavar="SUBDOMAIN", help="Only this clinic (its subdomain).")

    def handle(self, *args: object, **options: object) -> None:
        clinics = clinics_for_console().order_by("pk")
        if options["clinic"]:
            clinics = clinics.filter(subdomain=str(options["clinic"]).lower())
            if not clinics.exists():
                raise CommandError(f"No clinic with the subdomain {options['clinic']!r}.")
        for clinic in clinics.iterator():
            usage = usage_recount(clinic)
            self.stdout.write(
                f"{clinic.subdomain}: {usage.staff_count} staff, {usage.devices_active} devices, "
                f"{usage.patient_count} patients, {usage.visits_this_month} visits this month"
            )
