"""A realistic clinical record set for demos and benchmarks: Indonesian names, NIKs, plausible visits
with SOAP notes, vital signs, ICD-10 diagnoses and prescriptions, each with its creation Revision.

Written with bulk inserts (in batches) so 10,000 patients and 30,000 visits load in well under a minute.
"""

import datetime
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from records import icd10
from records.models import Diagnosis, MedicalRecordCounter, Patient, Prescription, Revision, Visit, VitalSigns
from records.services import MRN_PREFIX, snapshot
from records.signals import records_created_in_bulk
from records.specs import entity_of
from tenants.accounts.models import Role, User

FEMALE = [
    "Siti",
    "Dewi",
    "Sri",
    "Ratna",
    "Wulan",
    "Ayu",
    "Putri",
    "Nur",
    "Indah",
    "Fitri",
    "Rina",
    "Lestari",
    "Maya",
    "Intan",
    "Kartika",
    "Yuni",
    "Anisa",
    "Dian",
    "Eka",
    "Nadia",
]
MALE = [
    "Budi",
    "Agus",
    "Bambang",
    "Joko",
    "Andi",
    "Rudi",
    "Hendra",
    "Dedi",
    "Eko",
    "Ahmad",
    "Rizky",
    "Fajar",
    "Dimas",
    "Yusuf",
    "Hadi",
    "Wahyu",
    "Teguh",
    "Arif",
    "Imam",
    "Bayu",
]
FAMILY = [
    "Santoso",
    "Wijaya",
    "Pratama",
    "Saputra",
    "Hidayat",
    "Nugroho",
    "Siregar",
    "Nasution",
    "Lubis",
    "Simanjuntak",
    "Kusuma",
    "Setiawan",
    "Gunawan",
    "Halim",
    "Rahman",
    "Aminah",
    "Wulandari",
    "Hasibuan",
    "Sitorus",
    "Purnomo",
    "Susanto",
    "Harahap",
    "Tanjung",
    "Putra",
    "Ramadhan",
]
STREETS = [
    "Merdeka",
    "Sudirman",
    "Diponegoro",
    "Gatot Subroto",
    "Ahmad Yani",
    "Pemuda",
    "Veteran",
    "Kartini",
    "Pahlawan",
    "Mawar",
    "Melati",
    "Kenanga",
]
CITIES = [
    "Jakarta Selatan",
    "Bandung",
    "Bogor",
    "Depok",
    "Bekasi",
    "Tangerang",
    "Semarang",
    "Yogyakarta",
    "Surabaya",
    "Medan",
    "Makassar",
    "Denpasar",
]
PROVINCES = ["31", "32", "33", "34", "35", "36", "12", "73", "51"]
ALLERGIES = ["", "", "", "", "Amoksisilin", "Seafood", "Debu", "Sulfa"]


@dataclass(frozen=True)
class Case:
    complaint: str
    subjective: str
    objective: str
    assessment: str
    plan: str
    code: str
    drug: str
    dose: str
    frequency: str
    duration: str
    quantity: int
    temperature: tuple[float, float] = (36.2, 37.2)


CASES = [
    Case(
        "Demam dan batuk pilek",
        "Demam 3 hari, batuk, pilek, nyeri menelan.",
        "Faring hiperemis, T 38.1.",
        "ISPA",
        "Paracetamol, istirahat, banyak minum. Kontrol 3 hari.",
        "J06.9",
        "Paracetamol 500 mg",
        "500 mg",
        "3x sehari",
        "3 hari",
        10,
        (37.8, 39.0),
    ),
    Case(
        "Nyeri ulu hati",
        "Nyeri ulu hati setelah makan, mual.",
        "Nyeri tekan epigastrium.",
        "Dispepsia",
        "Antasida, makan teratur.",
        "K30",
        "Antasida DOEN",
        "1 tablet",
        "3x sehari",
        "5 hari",
        15,
    ),
    Case(
        "Sakit kepala, tensi tinggi",
        "Pusing, tengkuk tegang.",
        "TD 160/100.",
        "Hipertensi esensial",
        "Amlodipine 5 mg, diet rendah garam. Kontrol 2 minggu.",
        "I10",
        "Amlodipine 5 mg",
        "5 mg",
        "1x sehari",
        "30 hari",
        30,
    ),
    Case(
        "Diare sejak kemarin",
        "BAB cair 5x sehari, tanpa darah.",
        "Turgor baik, bising usus meningkat.",
        "Diare akut",
        "Oralit, zinc, makan lunak.",
        "A09",
        "Oralit",
        "1 sachet",
        "setiap BAB cair",
        "3 hari",
        6,
    ),
    Case(
        "Gatal di kulit",
        "Gatal kemerahan di lengan 1 minggu.",
        "Eritema dan papul di lengan.",
        "Dermatitis",
        "Cetirizine, hindari pencetus.",
        "L30.9",
        "Cetirizine 10 mg",
        "10 mg",
        "1x sehari",
        "7 hari",
        7,
    ),
    Case(
        "Kontrol gula darah",
        "Sering haus dan buang air kecil.",
        "GDS 245 mg/dL.",
        "DM tipe 2",
        "Metformin, diet dan olahraga. Kontrol 1 bulan.",
        "E11.9",
        "Metformin 500 mg",
        "500 mg",
        "2x sehari",
        "30 hari",
        60,
    ),
    Case(
        "Demam tinggi, lemas",
        "Demam naik turun 6 hari, lemas, mual.",
        "Lidah kotor, T 38.6.",
        "Demam tifoid",
        "Antibiotik, tirah baring.",
        "A01.0",
        "Cefixime 100 mg",
        "100 mg",
        "2x sehari",
        "7 hari",
        14,
        (38.0, 39.2),
    ),
    Case(
        "Batuk berdahak",
        "Batuk berdahak 10 hari.",
        "Ronki basah minimal.",
        "Bronkitis akut",
        "Ambroxol, banyak minum.",
        "J20.9",
        "Ambroxol 30 mg",
        "30 mg",
        "3x sehari",
        "5 hari",
        15,
    ),
    Case(
        "Nyeri lutut",
        "Nyeri lutut kanan saat berjalan.",
        "Krepitasi lutut kanan.",
        "Osteoartritis lutut",
        "Natrium diklofenak, kompres hangat.",
        "M17.9",
        "Natrium diklofenak 50 mg",
        "50 mg",
        "2x sehari",
        "5 hari",
        10,
    ),
    Case(
        "Sakit gigi",
        "Gigi geraham berlubang, nyeri.",
        "Karies profunda.",
        "Karies gigi",
        "Analgetik, rujuk ke poli gigi.",
        "K02.9",
        "Asam mefenamat 500 mg",
        "500 mg",
        "3x sehari",
        "3 hari",
        9,
    ),
]


def _check_cases() -> None:
    for case in CASES:
        if icd10.lookup(case.code) is None:
            raise ValueError(f"demo case uses an unknown ICD-10 code {case.code}")


def _nik(rng: random.Random, birth: datetime.date, female: bool) -> str:
    day = birth.day + (40 if female else 0)
    return (
        f"{rng.choice(PROVINCES)}{rng.randint(1, 79):02d}{rng.randint(1, 40):02d}"
        f"{day:02d}{birth.month:02d}{birth.year % 100:02d}{rng.randint(1, 9999):04d}"
    )


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Staff:
    front_desk: User
    doctors: list[User]
    nurse: User


def _staff() -> Staff:
    users = list(User.objects.filter(is_active=True).exclude(role=""))
    if not users:
        raise ValueError("the clinic has no staff to attribute records to")

    def first(*roles: str) -> User:
        return next((user for user in users if user.role in roles), users[0])

    doctors = [user for user in users if user.role in (Role.DOCTOR, Role.OWNER)] or users[:1]
    return Staff(front_desk=first(Role.FRONT_DESK, Role.OWNER), doctors=doctors, nurse=first(Role.NURSE, Role.DOCTOR))


def _revision(instance: object, user: User) -> Revision:
    return Revision(
        entity=entity_of(instance),
        record_id=instance.pk,
        version=1,
        action=Revision.Action.CREATE,
        user=user,
        device_id="demo-generator",
        before=None,
        after=snapshot(instance),
    )


def generate(
    *, patients: int, visits: int, seed: int = 2026, batch_size: int = 2000, parts: bool = True
) -> dict[str, int]:
    """Add `patients` patients and `visits` visits (with vital signs, a diagnosis and a prescription each,
    unless `parts` is false) to the current clinic schema."""
    _check_cases()
    rng = random.Random(seed)
    staff = _staff()
    now = timezone.now()
    today = timezone.localdate()
    counter, _created = MedicalRecordCounter.objects.get_or_create(pk=1)
    first_number = counter.next_value

    patient_rows = []
    for index in range(patients):
        female = rng.random() < 0.55
        birth = today - datetime.timedelta(days=rng.randint(1 * 365, 85 * 365))
        given = rng.choice(FEMALE if female else MALE)
        patient_rows.append(
            Patient(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                medical_record_number=f"{MRN_PREFIX}{first_number + index:06d}",
                full_name=f"{given} {rng.choice(FAMILY)}",
                nik=_nik(rng, birth, female) if rng.random() < 0.85 else "",
                birth_date=birth,
                sex=Patient.Sex.FEMALE if female else Patient.Sex.MALE,
                phone=f"08{rng.randint(11, 99)}{rng.randint(10000000, 99999999)}",
                address=f"Jl. {rng.choice(STREETS)} No. {rng.randint(1, 200)}, {rng.choice(CITIES)}",
                allergies=rng.choice(ALLERGIES),
                created_by=staff.front_desk,
                updated_by=staff.front_desk,
            )
        )

    visit_rows, vitals_rows, diagnosis_rows, prescription_rows = [], [], [], []
    for _index in range(visits if patient_rows else 0):
        patient = rng.choice(patient_rows)
        case = rng.choice(CASES)
        doctor = rng.choice(staff.doctors)
        started = now - datetime.timedelta(minutes=rng.randint(30, 2 * 365 * 24 * 60))
        visit = Visit(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            patient=patient,
            started_at=started,
            practitioner=doctor,
            status=Visit.Status.FINISHED,
            chief_complaint=case.complaint,
            subjective=case.subjective,
            objective=case.objective,
            assessment=case.assessment,
            plan=case.plan,
            created_by=staff.front_desk,
            updated_by=doctor,
        )
        visit_rows.append(visit)
        adult = (today - patient.birth_date).days > 18 * 365
        height = Decimal(rng.randint(150, 180) if adult else rng.randint(80, 150))
        vitals_rows.append(
            VitalSigns(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                visit=visit,
                measured_at=started + datetime.timedelta(minutes=5),
                temperature_c=Decimal(str(round(rng.uniform(*case.temperature), 1))),
                pulse=rng.randint(64, 104),
                respiratory_rate=rng.randint(14, 22),
                systolic=rng.randint(150, 175) if case.code == "I10" else rng.randint(105, 135),
                diastolic=rng.randint(92, 105) if case.code == "I10" else rng.randint(65, 85),
                spo2=rng.randint(95, 100),
                height_cm=height,
                weight_kg=Decimal(str(round(rng.uniform(18.5, 31.0) * (float(height) / 100) ** 2, 1))),
                created_by=staff.nurse,
                updated_by=staff.nurse,
            )
        )
        entry = icd10.lookup(case.code)
        diagnosis_rows.append(
            Diagnosis(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                visit=visit,
                code=entry.code,
                title=entry.title,
                kind=Diagnosis.Kind.PRIMARY,
                created_by=doctor,
                updated_by=doctor,
            )
        )
        prescription_rows.append(
            Prescription(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                visit=visit,
                drug=case.drug,
                dose=case.dose,
                route="oral",
                frequency=case.frequency,
                duration=case.duration,
                quantity=case.quantity,
                instructions="Sesudah makan",
                created_by=doctor,
                updated_by=doctor,
            )
        )

    with transaction.atomic():
        if not parts:
            vitals_rows, diagnosis_rows, prescription_rows = [], [], []
        for rows in (patient_rows, visit_rows, vitals_rows, diagnosis_rows, prescription_rows):
            for chunk in _batches(rows, batch_size):
                type(chunk[0]).objects.bulk_create(chunk)
                Revision.objects.bulk_create([_revision(row, row.created_by) for row in chunk])
                entity = entity_of(chunk[0])
                records_created_in_bulk.send(sender=type(chunk[0]), records=[(entity, row.pk) for row in chunk])
        counter.next_value = first_number + patients
        counter.save(update_fields=["next_value"])
    return {
        "patients": len(patient_rows),
        "visits": len(visit_rows),
        "vital_signs": len(vitals_rows),
        "diagnoses": len(diagnosis_rows),
        "prescriptions": len(prescription_rows),
    }
