"""Create, if missing, the public tenant (apex domain) and the template schema new clinics clone."""

from django.core.management.base import BaseCommand

from tenants.services import platform_ensure


class Command(BaseCommand):
    help = "Create the public tenant with PLATFORM_DOMAIN and the clinic template schema (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        public = platform_ensure()
        domains = ", ".join(public.domains.values_list("domain", flat=True))
        self.stdout.write(self.style.SUCCESS(f"Platform ready at {domains}; template schema ready."))
