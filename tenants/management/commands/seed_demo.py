"""Load the demo: clinics `demo` and `sehat` (owner, doctor, nurse, front desk, 200 patients with 600
visits each) and an operator."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import schema_context

from records import queue, services
from records.demo_data import generate
from records.models import Patient, Visit
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
DEMO_DETAILS = {
    "address": "Jl. Merdeka No. 17, Bandung 40111",
    "phone": "022-4201234",
    "licence_number": "503/0456/DPMPTSP/2025",
}
DEMO_SIP = {"owner": "446/SIP-DU/0123/DINKES/2025", "doctor": "446/SIP-DU/0456/DINKES/2025"}
DEMO_QUEUE = 5  # patients checked in today, the first called


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
        displays = {}
        for subdomain, name, mail_domain in DEMO_CLINICS:
            displays[subdomain] = self._ensure_clinic(subdomain, name, mail_domain)
        self._print_summary(str(options["port"]), displays)

    def _ensure_clinic(self, subdomain: str, name: str, mail_domain: str) -> str:
        """The clinic with its staff, records and today's queue: the token of a new display link."""
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
        Clinic.objects.filter(pk=clinic.pk, address="").update(**DEMO_DETAILS)
        with schema_context(clinic.schema_name):
            for role, local, full_name in DEMO_STAFF:
                email = f"{local}@{mail_domain}"
                if not User.objects.filter(email=email).exists():
                    user_create(email=email, full_name=full_name, role=role, password=DEMO_PASSWORD)
            if not Patient.objects.exists():
                generate(patients=DEMO_PATIENTS, visits=DEMO_VISITS, seed=sum(map(ord, subdomain)))
            for local, sip in DEMO_SIP.items():
                User.objects.filter(email=f"{local}@{mail_domain}", sip_number="").update(sip_number=sip)
            self._queue_today(mail_domain)
            return self._display_link(mail_domain)

    def _queue_today(self, mail_domain: str) -> None:
        """Today's queue, so the queue screen and the waiting-room display have something to show."""
        if Visit.objects.filter(queue_day=timezone.localdate()).exists():
            return
        desk = services.Actor(user=User.objects.get(email=f"frontdesk@{mail_domain}"), device_id="demo")
        doctor = services.Actor(user=User.objects.get(email=f"doctor@{mail_domain}"), device_id="demo")
        now = timezone.now()
        for minutes, patient in enumerate(Patient.objects.order_by("full_name")[:DEMO_QUEUE]):
            arrived = (now - datetime.timedelta(minutes=5 * (DEMO_QUEUE - minutes))).isoformat()
            data = {"patient": str(patient.pk), "started_at": arrived, "arrived_at": arrived}
            visit = services.record_create(entity="visit", actor=desk, data={**data, "practitioner": doctor.user.pk})
            if minutes == 0:
                services.record_update(instance=visit, actor=doctor, changes={"called_at": now.isoformat()})

    def _display_link(self, mail_domain: str) -> str:
        """A fresh display link for the demo's TV (a link's secret is shown only when it is made)."""
        owner = User.objects.get(email=f"owner@{mail_domain}")
        for old in queue.display_links():
            if old.label == "TV demo":
                queue.display_link_revoke(link=old, user=owner)
        _link, token = queue.display_link_create(label="TV demo", user=owner)
        return token

    def _print_summary(self, port: str, displays: dict[str, str]) -> None:
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
            write(
                f"    waiting-room display (no sign-in): http://{subdomain}.{domain}{suffix}/display/{displays[subdomain]}/"
            )
        write("")
