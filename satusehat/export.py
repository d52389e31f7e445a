"""A whole-clinic export: every record as FHIR R4 NDJSON (the Bulk Data format: one resource per line,
one file per resource type) plus `clinic.json` with what FHIR does not carry (the history of every
change with its reasons, chart openings, staff, devices, the clinic's details, its KFA codes) and a
Bulk Data style `manifest.json`, in one zip. The zip is built on the worker's disk (EXPORT_DIR) and
then kept in the database in 1 MiB parts (`ExportPart`): the web process that serves the download may
run on another machine (Heroku's dynos share no disk).

Rows are read in chunks (`.iterator`), resources written as they are made, so memory stays flat
however large the clinic; progress goes to the Export row after each chunk, each in its own short
transaction, for the owner's page to show. References use our own ids (`fhir.LocalRefs`), so they
resolve inside the export. The download link's secret is shown once; only its SHA-256 is kept.
"""

import datetime
import hashlib
import io
import json
import secrets
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from records.models import ChartAccess, Patient, Revision, Visit
from records.services import snapshot
from records.specs import SPECS
from satusehat import fhir, selectors
from satusehat.models import Export, ExportPart, KfaCode
from sync.models import Device
from tenants.accounts.models import User

CHUNK = 500
PART_BYTES = 1024 * 1024
RESOURCE_TYPES = (
    "Patient",
    "Practitioner",
    "Encounter",
    "Condition",
    "Observation",
    "Medication",
    "MedicationRequest",
    "AllergyIntolerance",
)


class ExportBusyError(Exception):
    """An export of the clinic is already being made."""


# --- starting, linking, downloading ----------------------------------------------------------------


def export_start(*, by: User) -> Export:
    """A new export row and its task, in one transaction (the task runs only if the row exists)."""
    from satusehat.tasks import make_export

    with transaction.atomic():
        # One at a time: two exports of the same clinic would only compete for the same disk.
        if Export.objects.select_for_update().filter(state__in=[Export.State.QUEUED, Export.State.RUNNING]).exists():
            raise ExportBusyError
        export = Export.objects.create(requested_by=by, step=_("Waiting for its turn"))
        make_export.enqueue(str(export.id))
    return export


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def export_link_token(export: Export, *, replace: bool = False) -> str | None:
    """A new download secret for a finished export, its hash stored: returned once. None if the export
    is not ready, has expired, or (unless `replace`) already had its link shown."""
    now = timezone.now()
    ready = Q(pk=export.pk, state=Export.State.DONE, expires_at__gt=now)
    if not replace:
        ready &= Q(token_hash="")
    token = secrets.token_urlsafe(32)
    # One conditional UPDATE: two tabs loading the finished page do not both get a working link.
    if not Export.objects.filter(ready).update(token_hash=_hash(token)):
        return None
    export.token_hash = _hash(token)
    return token


@dataclass(frozen=True)
class Download:
    export: Export | None
    expired: bool


def export_download(export_id: uuid.UUID, token: str) -> Download:
    """The export if the token is its link's; `expired` when the link was right but is no longer valid
    (past expires_at, or its parts pruned)."""
    export = Export.objects.filter(pk=export_id, state=Export.State.DONE).first()
    if export is None or not export.token_hash or not secrets.compare_digest(export.token_hash, _hash(token)):
        return Download(None, expired=False)
    if export.expires_at is None or export.expires_at <= timezone.now() or not export.parts.exists():
        return Download(export, expired=True)
    return Download(export, expired=False)


def export_chunks(export: Export) -> Iterator[bytes]:
    """The export's zip, part by part (one part in memory at a time)."""
    seqs = list(ExportPart.objects.filter(export=export).order_by("seq").values_list("seq", flat=True))
    for seq in seqs:
        yield bytes(ExportPart.objects.filter(export=export, seq=seq).values_list("data", flat=True).get())


def export_write(export: Export, target: Path) -> Path:
    """Write the export's zip to a file (the management command's `--out`, the tests)."""
    with open(target, "wb") as out:
        for chunk in export_chunks(export):
            out.write(chunk)
    return target


def export_dir() -> Path:
    return Path(settings.EXPORT_DIR) / connection.schema_name


def _store_parts(export_id: uuid.UUID, path: Path) -> None:
    with open(path, "rb") as source:
        seq = 0
        while chunk := source.read(PART_BYTES):
            ExportPart.objects.create(export_id=export_id, seq=seq, data=chunk)  # each its own transaction
            seq += 1


def prune_exports() -> int:
    """Delete the zips of this clinic's expired exports (the rows stay, to say the link expired)."""
    pruned = 0
    for export in Export.objects.filter(expires_at__lte=timezone.now()).exclude(file_name=""):
        ExportPart.objects.filter(export=export).delete()
        Export.objects.filter(pk=export.pk).update(file_name="")
        pruned += 1
    return pruned


# --- building ----------------------------------------------------------------------------------------


class _Progress:
    """Counts the rows written against the rows there are, and says so on the Export row."""

    def __init__(self, export_id: uuid.UUID, total: int, report: Callable[[int, str], None] | None) -> None:
        self.export_id = export_id
        self.total = max(total, 1)
        self.done = 0
        self.report = report
        self.step = ""

    def begin(self, step: str) -> None:
        self.step = step
        self._save()

    def advance(self, rows: int) -> None:
        self.done += rows
        self._save()

    def percent(self) -> int:
        return min(99, self.done * 100 // self.total)  # 100 only once the file is in place

    def _save(self) -> None:
        Export.objects.filter(pk=self.export_id).update(progress=self.percent(), step=self.step[:200])
        if self.report:
            self.report(self.percent(), self.step)


@dataclass
class _Files:
    """One NDJSON file per resource type, in a temporary folder until they go into the zip."""

    folder: Path
    handles: dict[str, IO[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def write(self, resource: dict) -> None:
        kind = resource["resourceType"]
        if kind not in self.handles:
            self.handles[kind] = open(self.folder / f"{kind}.ndjson", "w", encoding="utf-8")  # noqa: SIM115
            self.counts[kind] = 0
        self.handles[kind].write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.counts[kind] += 1

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def _chunks(rows: Iterator[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _resource_id(built: fhir.Built) -> str:
    """A FHIR id (letters, digits, '-' and '.') matching the references LocalRefs makes: a Medication
    is its prescription's id; an Observation "<vitals id>-<LOINC>"."""
    if built.resource_type == "Medication":
        return built.local_key.split(":", 1)[0]
    return built.local_key.replace(":", "-")


def _visits() -> Iterator[Visit]:
    return (
        Visit.objects.select_related("patient", "practitioner")
        .prefetch_related(*fhir.visit_parts())
        .order_by("started_at", "id")
        .iterator(chunk_size=CHUNK)
    )


def _write_fhir(files: _Files, progress: _Progress) -> None:
    refs = fhir.LocalRefs()
    kfa = selectors.kfa_codes()
    progress.begin(_("Patients"))
    for chunk in _chunks(Patient.objects.order_by("medical_record_number", "id").iterator(chunk_size=CHUNK)):
        for patient in chunk:
            files.write(fhir.patient_resource(patient))
        progress.advance(len(chunk))
    progress.begin(_("Staff"))
    for chunk in _chunks(User.objects.order_by("pk").iterator(chunk_size=CHUNK)):
        for user in chunk:
            files.write(fhir.practitioner_resource(user))
        progress.advance(len(chunk))
    progress.begin(_("Visits, diagnoses, vital signs and prescriptions"))
    allergies_written: set[str] = set()  # one per patient, however many visits: a key each, not the rows
    for chunk in _chunks(_visits()):
        for visit in chunk:
            for built in fhir.visit_resources(visit, refs, kfa=kfa):
                if built.resource_type == "AllergyIntolerance":
                    if built.local_key in allergies_written:
                        continue
                    allergies_written.add(built.local_key)
                files.write({"resourceType": built.resource_type, "id": _resource_id(built), **built.resource})
        progress.advance(len(chunk))


def _json(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def _time(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _clinic_details() -> dict[str, Any]:
    from tenants.models import Clinic

    clinic = Clinic.objects.filter(schema_name=connection.schema_name).first()
    if clinic is None:
        return {"schema": connection.schema_name}
    return {
        "name": clinic.name,
        "subdomain": clinic.subdomain,
        "schema": clinic.schema_name,
        "address": clinic.address,
        "phone": clinic.phone,
        "licence_number": clinic.licence_number,
        "created_at": _time(clinic.created_at),
    }


def _staff(user: User) -> dict[str, Any]:
    # No password hash, no sessions, no two-factor secrets: who they are and what they may do.
    return {
        "id": user.pk,
        "full_name": user.full_name,
        "email": user.email,
        "role": user.role,
        "sip_number": user.sip_number,
        "nik": user.nik,
        "active": user.is_active,
    }


def _device(device: Device) -> dict[str, Any]:
    return {
        "id": device.pk,
        "user": device.user_id,
        "user_agent": device.user_agent,
        "first_seen": _time(device.first_seen),
        "last_seen": _time(device.last_seen),
        "revoked_at": _time(device.revoked_at),
    }


def _revision(revision: Revision) -> dict[str, Any]:
    return {
        "entity": revision.entity,
        "record_id": str(revision.record_id),
        "version": revision.version,
        "action": revision.action,
        "user": revision.user_id,
        "device_id": revision.device_id,
        "at": _time(revision.at),
        "reason": revision.reason,
        "before": revision.before,
        "after": revision.after,
    }


def _opening(access: ChartAccess) -> dict[str, Any]:
    return {
        "patient": str(access.patient_id),
        "user": access.user_id,
        "device_id": access.device_id,
        "at": _time(access.at),
        "received_at": _time(access.received_at),
    }


def _write_list(out: IO[str], name: str, rows: Iterable[Any], shape: Callable[[Any], dict], progress: _Progress) -> int:
    """`"name": [ ... ]` written row by row; returns how many."""
    out.write(f',\n"{name}": [')
    count = 0
    for chunk in _chunks(iter(rows)):
        for row in chunk:
            out.write(("\n" if count == 0 else ",\n") + _json(shape(row)))
            count += 1
        progress.advance(len(chunk))
    out.write("\n]")
    return count


def _record(instance: Any) -> dict[str, Any]:
    """A clinical record as it stands now: every field the record keeps (the SOAP notes among them, which
    FHIR does not carry), who wrote it and when, and its void."""
    return {
        "id": str(instance.pk),
        "version": instance.version,
        "created_at": instance.created_at.isoformat(),
        "created_by": instance.created_by_id,
        "updated_at": instance.updated_at.isoformat(),
        "updated_by": instance.updated_by_id,
        **snapshot(instance),
    }


def _write_records(out: IO[str], progress: _Progress) -> dict[str, int]:
    """`"records": {"patient": [...], "visit": [...], ...}`: every record as it stands now."""
    out.write(',\n"records": {')
    counts: dict[str, int] = {}
    for index, (entity, spec) in enumerate(SPECS.items()):
        out.write(("\n" if index == 0 else ",\n") + _json(entity) + ": [")
        count = 0
        for chunk in _chunks(spec.model.objects.order_by("created_at", "pk").iterator(chunk_size=CHUNK)):
            for row in chunk:
                out.write(("\n" if count == 0 else ",\n") + _json(_record(row)))
                count += 1
            progress.advance(len(chunk))
        out.write("\n]")
        counts[f"records.{entity}"] = count
    out.write("\n}")
    return counts


def _write_clinic_json(out: IO[str], progress: _Progress, now: datetime.datetime) -> dict[str, int]:
    progress.begin(_("History of changes, chart openings, staff and devices"))
    out.write("{\n" + '"exported_at": ' + _json(now.isoformat()))
    out.write(',\n"clinic": ' + _json(_clinic_details()))
    kfa = [{"drug": row.drug, "code": row.code, "display": row.display} for row in KfaCode.objects.order_by("drug")]
    out.write(',\n"kfa_codes": ' + _json(kfa))
    counts = {
        "staff": _write_list(out, "staff", User.objects.order_by("pk").iterator(chunk_size=CHUNK), _staff, progress),
        "devices": _write_list(
            out, "devices", Device.objects.order_by("first_seen", "pk").iterator(chunk_size=CHUNK), _device, progress
        ),
        "revisions": _write_list(
            out, "revisions", Revision.objects.order_by("at", "id").iterator(chunk_size=CHUNK), _revision, progress
        ),
        "chart_openings": _write_list(
            out,
            "chart_openings",
            ChartAccess.objects.order_by("at", "id").iterator(chunk_size=CHUNK),
            _opening,
            progress,
        ),
    }
    counts.update(_write_records(out, progress))
    out.write("\n}\n")
    return counts


def _total_rows() -> int:
    users = User.objects.count()
    return (
        Patient.objects.count()
        + users * 2  # as Practitioners, then as staff in clinic.json
        + Visit.objects.count()
        + Device.objects.count()
        + Revision.objects.count()
        + ChartAccess.objects.count()
        + sum(spec.model.objects.count() for spec in SPECS.values())
    )


def _manifest(now: datetime.datetime, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "transactionTime": now.isoformat(),
        "request": "clinic export",
        "requiresAccessToken": False,
        "output": [
            {"type": kind, "url": f"{kind}.ndjson", "count": counts[kind]} for kind in RESOURCE_TYPES if kind in counts
        ],
        "error": [],
        "extension": {"clinic": "clinic.json"},
    }


BUSY_RECHECK_SECONDS = 60


def _export_lock_key(export_id: uuid.UUID) -> int:
    digest = hashlib.blake2b(f"export:{connection.schema_name}:{export_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def build_export_once(export_id: uuid.UUID) -> str:
    """The task's entry: build the export unless another worker is building it (a task taken back
    after its lease while its first worker still runs: a PostgreSQL session lock, so a killed worker's
    ends with it) or it is already built; what happened."""
    key = _export_lock_key(export_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if not cursor.fetchone()[0]:
            # Another worker builds it (this task was taken back after its lease). Look again later, in
            # case that worker dies before it finishes.
            from satusehat.tasks import make_export

            later = timezone.now() + datetime.timedelta(seconds=BUSY_RECHECK_SECONDS)
            make_export.using(run_after=later).enqueue(str(export_id))
            return "busy"
    try:
        if Export.objects.filter(pk=export_id, state=Export.State.DONE).exists():
            return "built already"
        build_export(export_id)
        return "built"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def build_export(export_id: uuid.UUID, report: Callable[[int, str], None] | None = None) -> Export:
    """Make the export's zip in the current clinic's schema and keep it in the database; `report(percent,
    step)` is told as it goes (the management command prints it). On failure the row says so and the
    partial file and parts are removed; run again (a worker restarted), it starts over."""
    export = Export.objects.get(pk=export_id)
    prune_exports()
    Export.objects.filter(pk=export_id).update(state=Export.State.RUNNING, progress=0, error="")
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    ExportPart.objects.filter(export_id=export_id).delete()
    final = folder / f"{export.id}.zip"
    partial = final.with_suffix(".zip.part")
    work = Path(tempfile.mkdtemp(prefix="export-", dir=folder))
    now = timezone.now()
    try:
        progress = _Progress(export_id, _total_rows(), report)
        files = _Files(work)
        try:
            _write_fhir(files, progress)
        finally:
            files.close()
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            for kind in RESOURCE_TYPES:
                path = work / f"{kind}.ndjson"
                if not path.exists():
                    path.touch()  # every type listed, an empty file when the clinic has none
                    files.counts[kind] = 0
                archive.write(path, f"{kind}.ndjson")
                path.unlink()
            with archive.open("clinic.json", "w") as raw, _text(raw) as out:
                _write_clinic_json(out, progress, now)
            archive.writestr("manifest.json", json.dumps(_manifest(now, files.counts), indent=2))
        partial.replace(final)
        size = final.stat().st_size
        _store_parts(export_id, final)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        ExportPart.objects.filter(export_id=export_id).delete()
        Export.objects.filter(pk=export_id).update(
            state=Export.State.FAILED,
            error=_("The export stopped: %(error)s. Start a new one; if it fails again, tell the platform's support.")
            % {"error": type(exc).__name__},
            finished_at=timezone.now(),
        )
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
        final.unlink(missing_ok=True)
    finished = timezone.now()
    Export.objects.filter(pk=export_id).update(
        state=Export.State.DONE,
        progress=100,
        step=_("Ready"),
        file_name=f"{connection.schema_name}-{now:%Y%m%d-%H%M}.zip",
        size_bytes=size,
        finished_at=finished,
        expires_at=finished + datetime.timedelta(hours=settings.EXPORT_LINK_HOURS),
    )
    if report:
        report(100, str(_("Ready")))
    return Export.objects.get(pk=export_id)


def _text(raw: IO[bytes]) -> IO[str]:
    return io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
