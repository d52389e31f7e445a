"""Records for the SATUSEHAT tests, made through the record's own services as staff would make them.

`make_finished_visit(alpha)` gives one finished outpatient visit of Siti Rahmawati (NIK
3174015708900003, born 17-08-1990, allergic to amoxicillin): a front-desk check-in with a doctor, the
doctor calling her in, a nurse's vital signs (every one measured), two diagnoses (A09 primary, J06.9
secondary, the second voided), two prescriptions, and the doctor finishing the visit. Every record is
written in the clinic's schema; the objects come back re-read, so their fields are what is stored.

Overrides (each optional):
    patient: dict        fields merged into the patient's (``{"nik": ""}`` for a patient without NIK)
    visit: dict          fields merged into the visit's create (``started_at``, ``chief_complaint``...)
    vitals: dict | None  fields merged into the vital signs; None for a visit with none
    diagnoses: list      dicts of diagnosis fields; a ``void_reason`` key voids it after writing
    prescriptions: list  dicts of prescription fields; ``void_reason`` voids it
    practitioner: bool   False: a visit with no practitioner (default True: the clinic's doctor)
    finished: bool       False: leave the visit in progress (default True)
    practitioner_nik: str, practitioner_sip: str   set on the doctor (this test's transaction only)
"""

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django_tenants.utils import schema_context

from records import services
from records.models import Diagnosis, Patient, Prescription, Visit, VitalSigns
from tenants.accounts.models import Role, User
from tests.conftest import ClinicFixture

PATIENT = {
    "full_name": "Siti Rahmawati",
    "nik": "3174015708900003",  # a woman born 17-08-1990: day 17 + 40
    "birth_date": "1990-08-17",
    "sex": "F",
    "phone": "081234567890",
    "address": "Jl. Kebon Sirih No. 12, Menteng, Jakarta Pusat",
    "allergies": "Amoksisilin (ruam kulit)",
}
VITALS = {
    "temperature_c": "37.8",
    "pulse": 92,
    "respiratory_rate": 20,
    "systolic": 128,
    "diastolic": 84,
    "spo2": 97,
    "height_cm": "156.5",
    "weight_kg": "60.2",
}
DIAGNOSES = [
    {"code": "A09", "kind": "primary"},
    {"code": "J06.9", "kind": "secondary", "void_reason": "Salah input, bukan ISPA"},
]
PRESCRIPTIONS = [
    {
        "drug": "Oralit 200 ml",
        "dose": "1 sachet",
        "route": "oral",
        "frequency": "setiap habis BAB cair",
        "duration": "3 hari",
        "quantity": 6,
    },
    {
        "drug": "Paracetamol 500 mg",
        "dose": "500 mg",
        "route": "oral",
        "frequency": "3x sehari",
        "duration": "3 hari",
        "quantity": 10,
        "instructions": "Diminum sesudah makan bila demam",
    },
]
PRACTITIONER_NIK = "3174011203800002"  # a man born 12-03-1980
PRACTITIONER_SIP = "SIP 503/1234/DINKES/2024"


@dataclass
class FinishedVisit:
    """What `make_finished_visit` wrote, re-read from the clinic's schema."""

    clinic: ClinicFixture
    patient: Patient
    visit: Visit
    vitals: VitalSigns | None
    diagnoses: list[Diagnosis] = field(default_factory=list)
    prescriptions: list[Prescription] = field(default_factory=list)
    doctor: User | None = None
    nurse: User | None = None


def staff(clinic: ClinicFixture, role: str) -> User:
    with schema_context(clinic.clinic.schema_name):
        return User.objects.get(email=clinic.email(role))


def actor_of(clinic: ClinicFixture, role: str) -> services.Actor:
    return services.Actor(user=staff(clinic, role), device_id="test-satusehat")


def make_patient(clinic: ClinicFixture, **overrides: Any) -> Patient:
    """A patient registered by the front desk (Siti Rahmawati unless overridden)."""
    with schema_context(clinic.clinic.schema_name):
        return services.record_create(
            entity="patient", actor=actor_of(clinic, Role.FRONT_DESK), data={**PATIENT, **overrides}
        )


def make_finished_visit(clinic: ClinicFixture, **overrides: Any) -> FinishedVisit:
    """A visit of a patient with NIK taken from check-in to finished; see the module's docstring."""
    unknown = set(overrides) - {
        "patient",
        "visit",
        "vitals",
        "diagnoses",
        "prescriptions",
        "practitioner",
        "finished",
        "practitioner_nik",
        "practitioner_sip",
    }
    if unknown:
        raise TypeError(f"make_finished_visit: unknown overrides {sorted(unknown)}")
    front_desk = actor_of(clinic, Role.FRONT_DESK)
    doctor = actor_of(clinic, Role.DOCTOR)
    nurse = actor_of(clinic, Role.NURSE)
    with_practitioner = overrides.get("practitioner", True)
    started = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=45)
    with schema_context(clinic.clinic.schema_name):
        User.objects.filter(pk=doctor.user.pk).update(
            nik=overrides.get("practitioner_nik", PRACTITIONER_NIK),
            sip_number=overrides.get("practitioner_sip", PRACTITIONER_SIP),
        )
        patient = services.record_create(
            entity="patient", actor=front_desk, data={**PATIENT, **overrides.get("patient", {})}
        )
        visit_data = {
            "patient": str(patient.pk),
            "started_at": started.isoformat(),
            "arrived_at": started.isoformat(),
            "chief_complaint": "Diare cair 4 kali sejak kemarin, demam",
            **({"practitioner": doctor.user.pk} if with_practitioner else {}),
            **overrides.get("visit", {}),
        }
        visit = services.record_create(entity="visit", actor=front_desk, data=visit_data)
        visit = services.record_update(
            instance=visit,
            actor=doctor,
            changes={
                "status": "in_progress",
                "called_at": (started + datetime.timedelta(minutes=10)).isoformat(),
                "subjective": "Diare cair 4x sejak kemarin, mual, demam",
                "objective": "Turgor baik, bising usus meningkat",
                "assessment": "Diare akut tanpa dehidrasi",
                "plan": "Oralit, paracetamol bila demam, kontrol 3 hari",
            },
        )
        vitals = None
        vitals_override = overrides.get("vitals", {})
        if vitals_override is not None:
            vitals = services.record_create(
                entity="vitals",
                actor=nurse,
                data={
                    "visit": str(visit.pk),
                    "measured_at": (started + datetime.timedelta(minutes=5)).isoformat(),
                    **VITALS,
                    **vitals_override,
                },
            )
        diagnoses = [_write_part(visit, "diagnosis", doctor, spec) for spec in overrides.get("diagnoses", DIAGNOSES)]
        prescriptions = [
            _write_part(visit, "prescription", doctor, spec) for spec in overrides.get("prescriptions", PRESCRIPTIONS)
        ]
        if overrides.get("finished", True):
            visit = services.record_update(instance=visit, actor=doctor, changes={"status": "finished"})
        return FinishedVisit(
            clinic=clinic,
            patient=Patient.objects.get(pk=patient.pk),
            visit=Visit.objects.select_related("patient", "practitioner").get(pk=visit.pk),
            vitals=VitalSigns.objects.get(pk=vitals.pk) if vitals else None,
            diagnoses=[Diagnosis.objects.get(pk=d.pk) for d in diagnoses],
            prescriptions=[Prescription.objects.get(pk=p.pk) for p in prescriptions],
            doctor=User.objects.get(pk=doctor.user.pk),
            nurse=nurse.user,
        )


def _write_part(visit: Visit, entity: str, actor: services.Actor, spec: dict[str, Any]):
    data = {key: value for key, value in spec.items() if key != "void_reason"}
    part = services.record_create(entity=entity, actor=actor, data={"visit": str(visit.pk), **data})
    if spec.get("void_reason"):
        part = services.record_void(instance=part, actor=actor, reason=spec["void_reason"])
    return part


def send(clinic: ClinicFixture, visit_id: uuid.UUID) -> str:
    """Send the visit now, in the clinic's schema, as its task does; what happened."""
    from satusehat.sender import send_visit

    with schema_context(clinic.clinic.schema_name):
        return send_visit(visit_id)


def send_state(clinic: ClinicFixture, visit_id: uuid.UUID):
    """The visit's `VisitSend` row as it stands."""
    from satusehat.models import VisitSend

    with schema_context(clinic.clinic.schema_name):
        return VisitSend.objects.get(visit_id=visit_id)
