"""The whole-clinic export: the round trip (every NDJSON line loads as a FHIR R4B resource, and every
patient, visit, diagnosis, vital sign and prescription is found with the values the database holds,
voided ones as entered-in-error), clinic.json's history with the amendment's and the void's reasons,
the manifest, the operator's command, and the owner's page: starting one (row and task together),
progress, a download link shown once that works until it expires (wrong token 404, expired 410)."""

import datetime
import io
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context
from fhir.resources.R4B import get_fhir_model_class

from records import services
from records.models import Diagnosis, Patient, Prescription, Visit, VitalSigns
from satusehat.export import build_export, export_write
from satusehat.fhir import SYSTEM_NIK, VITALS
from satusehat.models import Export
from tenants.accounts.models import Role, User
from tests.conftest import login
from tests.satusehat.factories import FinishedVisit, actor_of, make_finished_visit

pytestmark = pytest.mark.django_db

AMEND_REASON = "Salah baca termometer, suhu sebenarnya 38,1"
VOID_REASON = "Salah input, bukan ISPA"  # the factory's voided J06.9


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"


@pytest.fixture
def clinic_records(alpha) -> FinishedVisit:
    """Siti Rahmawati's finished visit, then amended (the temperature corrected, I10 added), and a
    second finished visit of hers."""
    made = make_finished_visit(alpha)
    doctor = actor_of(alpha, Role.DOCTOR)
    with schema_context(alpha.clinic.schema_name):
        services.record_update(
            instance=made.vitals, actor=doctor, changes={"temperature_c": "38.1"}, reason=AMEND_REASON
        )
        services.record_create(
            entity="diagnosis",
            actor=doctor,
            data={"visit": str(made.visit.pk), "code": "I10", "kind": "secondary"},
            reason="Hipertensi baru tercatat",
        )
        User.objects.filter(email=alpha.email(Role.NURSE)).update(nik="3273015503920001", sip_number="SIPP 1/2025")
        # A control visit three days later: the same patient, so her allergies are exported once.
        services.record_create(
            entity="visit",
            actor=doctor,
            data={
                "patient": str(made.patient.pk),
                "started_at": (timezone.now() - datetime.timedelta(minutes=5)).isoformat(),
                "practitioner": made.doctor.pk,
                "status": "finished",
            },
        )
    return made


def _build(alpha, report=None, folder: Path | None = None) -> Path:
    """Build an export and write its zip (kept in the database) to a file."""
    with schema_context(alpha.clinic.schema_name):
        export = build_export(Export.objects.create().id, report=report)
        folder = folder or Path(settings.EXPORT_DIR).parent / "downloads"
        folder.mkdir(parents=True, exist_ok=True)
        return export_write(export, folder / f"{export.pk}.zip")


def _read(path: Path) -> tuple[dict[str, list[dict]], dict, dict]:
    """Every resource by type (each validated by its R4B model), clinic.json and manifest.json."""
    resources: dict[str, list[dict]] = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if not name.endswith(".ndjson"):
                continue
            kind = name.removesuffix(".ndjson")
            resources[kind] = []
            for line in archive.read(name).decode().splitlines():
                resource = json.loads(line)
                assert resource["resourceType"] == kind
                get_fhir_model_class(kind).model_validate(resource)  # raises if not valid FHIR R4B
                resources[kind].append(resource)
        clinic = json.loads(archive.read("clinic.json"))
        manifest = json.loads(archive.read("manifest.json"))
    return resources, clinic, manifest


def _by_id(resources: list[dict]) -> dict[str, dict]:
    return {resource["id"]: resource for resource in resources}


def test_the_export_holds_every_record_with_the_databases_values(alpha, clinic_records):
    resources, _, manifest = _read(_build(alpha))
    schema = alpha.clinic.schema_name
    with schema_context(schema):
        patients = list(Patient.objects.all())
        visits = list(Visit.objects.select_related("patient"))
        diagnoses = list(Diagnosis.objects.all())
        vitals = list(VitalSigns.objects.all())
        prescriptions = list(Prescription.objects.all())
        staff = list(User.objects.all())

    exported = _by_id(resources["Patient"])
    assert len(exported) == len(patients) >= 1
    for patient in patients:
        resource = exported[str(patient.pk)]
        assert resource["name"][0]["text"] == patient.full_name
        assert resource["birthDate"] == patient.birth_date.isoformat()
        assert resource["gender"] == {"F": "female", "M": "male"}[patient.sex]
        niks = [i["value"] for i in resource.get("identifier", []) if i["system"] == SYSTEM_NIK]
        assert niks == ([patient.nik] if patient.nik else [])

    practitioners = _by_id(resources["Practitioner"])
    assert set(practitioners) == {str(user.pk) for user in staff}
    nurse = next(user for user in staff if user.role == Role.NURSE)
    assert practitioners[str(nurse.pk)]["identifier"][0]["value"] == "3273015503920001"
    assert "@" not in json.dumps(resources["Practitioner"])  # never an email

    encounters = _by_id(resources["Encounter"])
    assert set(encounters) == {str(visit.pk) for visit in visits}
    for visit in visits:
        encounter = encounters[str(visit.pk)]
        assert encounter["status"] == ("finished" if visit.status == "finished" else encounter["status"])
        assert encounter["subject"]["reference"] == f"Patient/{visit.patient_id}"

    conditions = _by_id(resources["Condition"])
    assert set(conditions) == {str(diagnosis.pk) for diagnosis in diagnoses}
    for diagnosis in diagnoses:
        condition = conditions[str(diagnosis.pk)]
        assert condition["code"]["coding"][0]["code"] == diagnosis.code
        assert condition["encounter"]["reference"] == f"Encounter/{diagnosis.visit_id}"
        status = condition.get("verificationStatus", {}).get("coding", [{}])[0].get("code")
        assert (status == "entered-in-error") == diagnosis.is_voided, diagnosis.code
    assert {d.code for d in diagnoses} >= {"A09", "J06.9", "I10"}

    observations = _by_id(resources["Observation"])
    expected = 0
    for row in vitals:
        for code in VITALS:
            value = getattr(row, code.field)
            if value is None:
                continue
            expected += 1
            observation = observations[f"{row.pk}-{code.loinc}"]
            assert observation["code"]["coding"][0]["code"] == code.loinc
            assert Decimal(str(observation["valueQuantity"]["value"])) == Decimal(str(value)), code.field
            assert observation["valueQuantity"]["code"] == code.ucum
    assert len(observations) == expected == 8
    assert observations[f"{clinic_records.vitals.pk}-8310-5"]["valueQuantity"]["value"] == 38.1  # the amendment
    assert observations[f"{clinic_records.vitals.pk}-29463-7"]["valueQuantity"]["value"] == 60.2

    medications = _by_id(resources["Medication"])
    requests = _by_id(resources["MedicationRequest"])
    assert set(medications) == set(requests) == {str(p.pk) for p in prescriptions}
    for prescription in prescriptions:
        assert medications[str(prescription.pk)]["code"]["text"] == prescription.drug
        request = requests[str(prescription.pk)]
        assert request["medicationReference"]["reference"] == f"Medication/{prescription.pk}"
        assert prescription.dose in request["dosageInstruction"][0]["text"]
        if prescription.quantity:
            assert request["dispenseRequest"]["quantity"]["value"] == prescription.quantity

    allergies = resources["AllergyIntolerance"]
    assert len(visits) == 2
    assert [a["code"]["text"] for a in allergies] == ["Amoksisilin (ruam kulit)"]  # once, not per visit

    # Every reference to a patient, practitioner, visit or medication resolves inside the export.
    ids = {kind: set(_by_id(items)) for kind, items in resources.items()}
    text = json.dumps(resources)
    for kind, ref_id in re.findall(r'"reference": "(Patient|Practitioner|Encounter|Medication)/([^"]+)"', text):
        assert ref_id in ids[kind], f"{kind}/{ref_id}"

    counts = {entry["type"]: entry["count"] for entry in manifest["output"]}
    assert counts == {kind: len(items) for kind, items in resources.items()}
    assert {entry["url"] for entry in manifest["output"]} == {f"{kind}.ndjson" for kind in resources}
    assert datetime.datetime.fromisoformat(manifest["transactionTime"])


def test_clinic_json_keeps_the_history_with_its_reasons_and_what_fhir_does_not_carry(alpha, clinic_records):
    with schema_context(alpha.clinic.schema_name):
        services.chart_opened(patient=clinic_records.patient, actor=actor_of(alpha, Role.DOCTOR))
    _, clinic, _ = _read(_build(alpha))
    assert clinic["clinic"]["name"] == "Klinik Alpha"
    revisions = clinic["revisions"]
    amended = [r for r in revisions if r["action"] == "amend" and r["reason"] == AMEND_REASON]
    assert len(amended) == 1
    assert amended[0]["entity"] == "vitals"
    assert amended[0]["before"]["temperature_c"] in ("37.8", 37.8)
    assert amended[0]["after"]["temperature_c"] in ("38.1", 38.1)
    voided = [r for r in revisions if r["action"] == "void"]
    assert [r["reason"] for r in voided] == [VOID_REASON]
    assert voided[0]["record_id"] == str(next(d.pk for d in clinic_records.diagnoses if d.is_voided))
    staff = {member["email"]: member for member in clinic["staff"]}
    assert staff[alpha.email(Role.NURSE)]["nik"] == "3273015503920001"
    assert staff[alpha.email(Role.NURSE)]["sip_number"] == "SIPP 1/2025"
    assert "password" not in json.dumps(clinic["staff"])
    doctor = staff[alpha.email(Role.DOCTOR)]["id"]
    assert [(o["patient"], o["user"]) for o in clinic["chart_openings"]] == [(str(clinic_records.patient.pk), doctor)]
    assert {"devices", "kfa_codes", "exported_at"} <= set(clinic)
    # Every record as it stands now, with what FHIR does not carry (the visit's SOAP notes).
    with schema_context(alpha.clinic.schema_name):
        visit = Visit.objects.get(pk=clinic_records.visit.pk)
    [kept] = [v for v in clinic["records"]["visit"] if v["id"] == str(visit.pk)]
    assert (kept["subjective"], kept["plan"], kept["version"]) == (visit.subjective, visit.plan, visit.version)
    assert kept["created_by"] == visit.created_by_id
    voided = [d for d in clinic["records"]["diagnosis"] if d["voided"]]
    assert [d["void_reason"] for d in voided] == [VOID_REASON]


def test_the_export_reports_its_progress_and_finishes_ready(alpha, clinic_records):
    told: list[tuple[int, str]] = []
    path = _build(alpha, report=lambda percent, step: told.append((percent, step)))
    percents = [percent for percent, _ in told]
    assert percents == sorted(percents)
    assert percents[-1] == 100
    assert len({step for _, step in told}) >= 4
    with schema_context(alpha.clinic.schema_name):
        export = Export.objects.get()
        assert (export.state, export.progress) == ("done", 100)
        assert export.size_bytes == path.stat().st_size
        assert export.expires_at > timezone.now() + datetime.timedelta(hours=23)
        assert sum(len(part.data) for part in export.parts.all()) == export.size_bytes


def test_the_operators_command_exports_a_clinic(alpha, clinic_records, tmp_path):
    out = io.StringIO()
    call_command("export_clinic", clinic=alpha.subdomain, out=str(tmp_path), stdout=out)
    lines = out.getvalue().splitlines()
    assert any(line.strip().startswith("100%") for line in lines)
    path = Path(lines[-1].strip())
    assert path.parent == tmp_path
    assert path.exists()
    resources, _, _ = _read(path)
    assert str(clinic_records.visit.pk) in _by_id(resources["Encounter"])


def test_the_operators_command_refuses_an_unknown_clinic(alpha):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No clinic"):
        call_command("export_clinic", clinic="tidak-ada")


# --- the owner's page and the download link ------------------------------------------------------


def _link(page: str) -> str:
    match = re.search(r'href="http://alpha\.localhost(/satusehat/export/[0-9a-f-]+/download/[^"/]+/)"', page)
    assert match, page[-3000:]
    assert 'id="export-download"' in page
    return match[1]


def test_starting_an_export_writes_its_row_and_task_together(alpha):
    owner = login(alpha.host, alpha.email(Role.OWNER))
    assert owner.post("/satusehat/export/").status_code == 302
    with schema_context(alpha.clinic.schema_name):
        export = Export.objects.get()
        assert export.state == "queued"
        task = DBTaskResult.objects.get(task_path="satusehat.tasks.make_export")
        assert task.args_kwargs["args"] == [str(export.id)]
    page = owner.get("/satusehat/export/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'http-equiv="refresh" content="2"' in page
    # A second export waits for the first.
    second = owner.post("/satusehat/export/", HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert "An export is already being made" in second
    with schema_context(alpha.clinic.schema_name):
        assert Export.objects.count() == 1


def test_the_page_shows_progress_while_it_runs(alpha):
    with schema_context(alpha.clinic.schema_name):
        Export.objects.create(state="running", progress=42, step="Pasien")
    page = login(alpha.host, alpha.email(Role.OWNER)).get("/satusehat/export/").content.decode()
    assert "42% · Pasien" in page
    assert 'value="42"' in page


def test_the_download_link_is_shown_once_and_works_until_it_expires(alpha, clinic_records, tmp_path):
    owner = login(alpha.host, alpha.email(Role.OWNER))
    owner.post("/satusehat/export/")
    with schema_context(alpha.clinic.schema_name):
        export = Export.objects.get()
        build_export(export.id)
    page = owner.get("/satusehat/export/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    link = _link(page)
    with schema_context(alpha.clinic.schema_name):
        stored = Export.objects.get().token_hash
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in stored
    assert len(stored) == 64

    response = owner.get(link)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    body = b"".join(response.streaming_content)
    resources, _, _ = _read_bytes(body, tmp_path)
    assert str(clinic_records.visit.pk) in _by_id(resources["Encounter"])
    assert owner.get(link).status_code == 200  # works again until it expires

    # Shown once: the page now offers a new link instead, which replaces the old one.
    again = owner.get("/satusehat/export/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert token not in again
    assert 'id="export-new-link"' in again
    fresh = owner.post(f"/satusehat/export/{export.id}/link/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    new_link = _link(fresh)
    assert new_link != link
    assert owner.get(link).status_code == 404
    assert owner.get(new_link).status_code == 200

    wrong = new_link.rstrip("/").rsplit("/", 1)[0] + "/salah-token-123/"
    assert owner.get(wrong).status_code == 404
    for role in (Role.DOCTOR, Role.FRONT_DESK):
        assert login(alpha.host, alpha.email(role)).get(new_link).status_code == 403

    with schema_context(alpha.clinic.schema_name):
        Export.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    expired = owner.get(new_link, HTTP_ACCEPT_LANGUAGE="en")
    assert expired.status_code == 410
    assert "This download link has expired" in expired.content.decode()


def test_the_next_export_deletes_the_zips_of_expired_ones(alpha, clinic_records):
    _build(alpha)
    with schema_context(alpha.clinic.schema_name):
        first = Export.objects.get()
        assert first.parts.exists()
        Export.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    _build(alpha)
    with schema_context(alpha.clinic.schema_name):
        assert not first.parts.exists()
        assert Export.objects.exclude(pk=first.pk).get().parts.exists()
        assert list(Path(settings.EXPORT_DIR).rglob("*.zip")) == []  # nothing left on the worker's disk


def _read_bytes(body: bytes, folder: Path):
    path = folder / "downloaded.zip"
    path.write_bytes(body)
    return _read(path)
