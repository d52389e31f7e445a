"""Fill a clinic with a realistic record set (demo data, or the benchmark's 10,000/30,000)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from records.demo_data import generate
from tenants.models import Clinic


class Command(BaseCommand):
    help = "Add generated patients and visits (with vitals, ICD-10 diagnoses, prescriptions) to a clinic."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--clinic", required=True, help="The clinic's subdomain, e.g. demo")
        parser.add_argument("--patients", type=int, default=200)
        parser.add_argument("--visits", type=int, default=600)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: object, **options: object) -> None:
        clinic = Clinic.objects.filter(subdomain=options["clinic"]).first()
        if clinic is None or clinic.status not in (Clinic.Status.ACTIVE, Clinic.Status.SUSPENDED):
            raise CommandError(f"No clinic at the subdomain {options['clinic']!r}.")
        if options["patients"] < 0 or options["visits"] < 0:
            raise CommandError("--patients and --visits must not be negative.")
        start = time.perf_counter()
        with schema_context(clinic.schema_name):
            counts = generate(patients=options["patients"], visits=options["visits"], seed=options["seed"])
        elapsed = time.perf_counter() - start
        summary = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"{clinic.subdomain}: added {summary} in {elapsed:.1f} s"))
