"""Load the demo: clinics `demo` and `sehat` (owner, doctor, nurse, front desk, 200 patients with 600
visits each) and an operator."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from records.demo_data import generate
from records.models import Patient
from tenants.accounts.models import Role, User
from tenants.accounts.services import operator_create, user_create
from tenants.models import Clinic
from tenants.services import clinic_signup, platform_ensure

DEMO_PASSWORD = "demo-pass-2026"
DEMO_CLINICS = [("demo", "Klinik Demo", "demo.test"), ("sehat", "Klinik Sehat Sentosa", "sehat.test")]
DEMO_STAFF = [
    (Role.OWNER, "owner", "dr. Ratna Wijaya"),
    (Role.DOCTOR, "doctor", "dr. Budi Santoso"),
    (Role.NURSE, "nurse", "Ns. Sri Lestari"),
    (Role.FRONT_DESK, "frontdesk", "Dewi Anggraini"),
]
OPERATOR_EMAIL = "operator@platform.test"
DEMO_PATIENTS, DEMO_VISITS = 200, 600


class Command(BaseCommand):
    help = "Create the demo clinics, staff and operator if missing (safe to run again)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", default="8000", help="Port shown in the printed URLs.")

    def handle(self, *args: object, **options: object) -> None:
        platform_ensure()
        with schema_context("public"):
            operator_exists = User.objects.filter(email=OPERATOR_EMAIL).exists()
        if not operator_exists:
            operator_create(email=OPERATOR_EMAIL, full_name="Platform Operator", password=DEMO_PASSWORD)
        for subdomain, name, mail_domain in DEMO_CLINICS:
            self._ensure_clinic(subdomain, name, mail_domain)
        self._print_summary(str(options["port"]))

    def _ensure_clinic(self, subdomain: str, name: str, mail_domain: str) -> None:
        _owner_role, owner_local, owner_name = DEMO_STAFF[0]
        clinic = Clinic.objects.filter(subdomain=subdomain).first()
        if clinic is None:
            clinic = clinic_signup(
                name=name,
                subdomain=subdomain,
                owner_name=owner_name,
                owner_email=f"{owner_local}@{mail_domain}",
                password=DEMO_PASSWORD,
            ).clinic
        with schema_context(clinic.schema_name):
            for role, local, full_name in DEMO_STAFF:
                email = f"{local}@{mail_domain}"
                if not User.objects.filter(email=email).exists():
                    user_create(email=email, full_name=full_name, role=role, password=DEMO_PASSWORD)
            if not Patient.objects.exists():
                generate(patients=DEMO_PATIENTS, visits=DEMO_VISITS, seed=sum(map(ord, subdomain)))

    def _print_summary(self, port: str) -> None:
        domain = settings.PLATFORM_DOMAIN
        suffix = f":{port}" if port not in ("80", "443") else ""
        write = self.stdout.write
        write("")
        write(self.style.SUCCESS("Demo ready."))
        write(f"  Platform (signup, operator console): http://{domain}{suffix}/")
        write(f"    operator: {OPERATOR_EMAIL} / {DEMO_PASSWORD}  -> http://{domain}{suffix}/console/")
        for subdomain, name, mail_domain in DEMO_CLINICS:
            write(f"  {name}: http://{subdomain}.{domain}{suffix}/")
            logins = ", ".join(f"{local}@{mail_domain}" for _role, local, _name in DEMO_STAFF)
            write(f"    {logins} / {DEMO_PASSWORD}")
        write("")
