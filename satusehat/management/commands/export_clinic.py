"""`manage.py export_clinic --clinic <subdomain> [--out PATH]`: an operator's whole-clinic export (the
same zip the owner's export page makes: FHIR NDJSON, clinic.json, manifest.json), built here and now
in the clinic's schema, printing its progress and the file's path."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from satusehat.export import build_export, export_write
from satusehat.models import Export
from tenants.models import Clinic


class Command(BaseCommand):
    help = "Export every record of one clinic (FHIR NDJSON + clinic.json) into a zip file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--clinic", required=True, help="The clinic's subdomain.")
        parser.add_argument("--out", help="Copy the zip here (a file, or a folder to put it in).")

    def handle(self, *args: object, clinic: str, out: str | None = None, **options: object) -> None:
        found = Clinic.objects.filter(subdomain=clinic).first()
        if found is None:
            raise CommandError(f"No clinic has the subdomain “{clinic}”.")
        last = [-1]

        def report(percent: int, step: str) -> None:
            if percent != last[0]:
                last[0] = percent
                self.stdout.write(f"{percent:3d}% {step}")

        with schema_context(found.schema_name):
            export = Export.objects.create(step="manage.py export_clinic")
            export = build_export(export.id, report=report)
            target = Path(out or ".")
            if target.is_dir():
                target = target / export.file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            export_write(export, target)
        self.stdout.write(self.style.SUCCESS(f"{target}"))
