"""What a clinic keeps about SATUSEHAT: its connection, the send state of each finished visit (the
outbox, written in the transaction that finished or amended the visit), the ids SATUSEHAT gave back,
IHS numbers found by NIK, the clinic's drug → KFA codes, and the clinic's exports."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Connection(models.Model):
    """The clinic's SATUSEHAT credentials (one row). The client secret and the cached token are stored
    encrypted (`satusehat.secrets`) and never shown back."""

    class Environment(models.TextChoices):
        SANDBOX = "sandbox", _("Sandbox (testing)")
        PRODUCTION = "production", _("Production")

    environment = models.CharField(_("environment"), max_length=12, choices=Environment.choices)
    organization_id = models.CharField(_("organization id"), max_length=64)
    client_id = models.CharField(_("client id"), max_length=200)
    client_secret_encrypted = models.TextField(editable=False)
    location_id = models.CharField(_("location id"), max_length=64)
    location_name = models.CharField(_("location name"), max_length=200, blank=True)
    token_encrypted = models.TextField(blank=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True)
    last_test_message = models.CharField(max_length=500, blank=True)
    last_test_texts = models.JSONField(default=dict, blank=True)  # the message in each language
    # The clinic's hold: no visit is sent while SATUSEHAT is down (until `hold_until`) or refuses the
    # clinic's credentials (until the owner saves or tests them again). One try at a time finds out.
    hold_code = models.CharField(max_length=32, blank=True)  # Reason.UNAVAILABLE, Reason.CREDENTIALS
    hold_since = models.DateTimeField(null=True, blank=True)
    hold_until = models.DateTimeField(null=True, blank=True)
    hold_tries = models.PositiveIntegerField(default=0)  # tries in a row that found SATUSEHAT down
    hold_texts = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("SATUSEHAT connection")

    def __str__(self) -> str:
        return f"SATUSEHAT {self.environment} {self.organization_id}"


class Reason:
    """The codes kept in `VisitSend.reason_code` (the failures screen groups by them)."""

    NOT_CONNECTED = "not_connected"
    NO_NIK = "no_nik"
    PATIENT_UNKNOWN = "patient_unknown"
    NO_PRACTITIONER = "no_practitioner"
    PRACTITIONER_NO_NIK = "practitioner_no_nik"
    PRACTITIONER_UNKNOWN = "practitioner_unknown"
    INVALID = "invalid"
    REFUSED = "refused"
    UNAVAILABLE = "unavailable"  # SATUSEHAT unreachable: queued while it lasts, failed after MAX_ATTEMPTS
    CREDENTIALS = "credentials"  # SATUSEHAT refused the clinic's client id or secret
    NO_KFA = "no_kfa"  # sent, but a drug without its KFA code waits (its Medication and MedicationRequest)
    # Not sent, by design, and no failure: SATUSEHAT takes coded allergies only, ours are free text.
    ALLERGY_UNCODED = "allergy_uncoded"

    # A queued visit with one of these waits for something outside the visit (not a failure of its own).
    WAITING = (NOT_CONNECTED, UNAVAILABLE, CREDENTIALS)

    # Mended by the patient's NIK, by a practitioner's NIK (a change there queues the visits again).
    PATIENT = (NO_NIK, PATIENT_UNKNOWN)
    PRACTITIONER = (PRACTITIONER_NO_NIK, PRACTITIONER_UNKNOWN)


class VisitSend(models.Model):
    """One per finished visit: what is to be sent, and how the last try went. `wanted` counts the
    visit's finishes and amendments; the worker sends while `sent` is behind it."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    visit_id = models.UUIDField(primary_key=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    wanted = models.PositiveIntegerField(default=1)
    sent = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    # Why it failed or waits: a code (`satusehat.sender.Reason`) and the message shown to people.
    reason_code = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    reason_texts = models.JSONField(default=dict, blank=True)  # the reason in each language
    # A create was asked of SATUSEHAT: its answer may have been lost (a timeout, a killed worker), so a
    # void asks SATUSEHAT what it holds before deciding there is nothing to retract.
    create_tried = models.BooleanField(default=False)
    queued_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "failed_at"], name="visitsend_state_failed")]

    def __str__(self) -> str:
        return f"send of visit {self.visit_id}: {self.state}"


class SendEvent(models.Model):
    """Each try of a visit: the failures screen counts them per day."""

    visit_id = models.UUIDField(db_index=True)
    at = models.DateTimeField()
    outcome = models.CharField(max_length=12)  # sent, retry, failed
    reason_code = models.CharField(max_length=32, blank=True)
    message = models.TextField(blank=True)
    message_texts = models.JSONField(default=dict, blank=True)  # the message in each language

    def __str__(self) -> str:
        return f"{self.outcome} {self.visit_id} at {self.at:%Y-%m-%d %H:%M}"


class RemoteResource(models.Model):
    """A resource SATUSEHAT created for us: a resend updates it, never makes a second one."""

    resource_type = models.CharField(max_length=40)
    local_key = models.CharField(max_length=100)  # the record's id, or "<vital signs id>:<LOINC code>"
    visit_id = models.UUIDField(db_index=True)
    remote_id = models.CharField(max_length=64)
    sent_at = models.DateTimeField()
    retracted = models.BooleanField(default=False)  # sent as entered-in-error after a void

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resource_type", "local_key"], name="remote_resource_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.remote_id}"


class IhsNumber(models.Model):
    """SATUSEHAT's number for a patient or practitioner, found by NIK. A blank number: SATUSEHAT
    answered that it does not know this NIK (looked up again after a day)."""

    class Kind(models.TextChoices):
        PATIENT = "Patient"
        PRACTITIONER = "Practitioner"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    nik = models.CharField(max_length=16)
    ihs_number = models.CharField(max_length=64, blank=True)
    looked_up_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "nik"], name="ihs_number_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.ihs_number or 'unknown'}"


class KfaCode(models.Model):
    """The clinic's code for a drug it prescribes, in the Kamus Farmasi dan Alat Kesehatan. `drug` is
    the prescription's drug as written, folded (`satusehat.fhir.drug_key`)."""

    drug = models.CharField(_("drug"), max_length=200, unique=True)
    code = models.CharField(_("KFA code"), max_length=20)
    display = models.CharField(_("KFA name"), max_length=300)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.drug} -> {self.code}"


class Export(models.Model):
    """A whole-clinic export: made by a background task, downloaded by a secret link until it expires."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    step = models.CharField(max_length=200, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    token_hash = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"export {self.id} ({self.state})"


class ExportPart(models.Model):
    """A piece of an export's zip, kept in the database: the worker that builds it and the web process
    that serves its download need not share a disk (Heroku's dynos do not)."""

    export = models.ForeignKey(Export, on_delete=models.CASCADE, related_name="parts")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["export", "seq"], name="export_part_unique")]

    def __str__(self) -> str:
        return f"part {self.seq} of export {self.export_id}"
