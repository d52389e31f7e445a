"""The clinical record of one clinic (its own schema): patients, visits and their parts, history, access log.

Every record has a client-made UUID (devices create records offline), a `version` (1 on create, +1 on
every applied change) and is voided with a reason instead of deleted. Every create, change and void
writes a Revision with the values before and after.
"""

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.validators import (
    PhysiologicalRange,
    validate_birth_date,
    validate_nik,
    validate_nik_matches_person,
    validate_not_future,
)

# The longest text each free-text field takes (the app's inputs stop there too): a clinical note of
# 10,000 characters is some 1,500 words; together they keep any one mutation far under a push's limit.
SHORT_TEXT = 500
MEDIUM_TEXT = 1_000
NOTE_TEXT = 10_000


def _text(verbose_name: str, limit: int) -> models.TextField:
    """Free text up to `limit` characters, checked on every write (a TextField alone has no limit)."""
    return models.TextField(verbose_name, blank=True, max_length=limit, validators=[MaxLengthValidator(limit)])


def _range(low: float | int, high: float | int, unit: str) -> list[PhysiologicalRange]:
    as_number = (lambda v: Decimal(str(v))) if isinstance(low, float) else (lambda v: v)
    return [PhysiologicalRange(as_number(low), as_number(high), unit)]


class ClinicalRecord(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who wrote a record is asked of its revisions (indexed by user), never of these columns: an index
    # on each would cost every insert of a device's batch and serve only the rare deletion of a user.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True, db_index=False
    )
    void_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class Patient(ClinicalRecord):
    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")

    medical_record_number = models.CharField(_("medical record number"), max_length=32, unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    nik = models.CharField(_("NIK"), max_length=16, blank=True, validators=[validate_nik])
    birth_date = models.DateField(_("birth date"), validators=[validate_not_future, validate_birth_date])
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    address = _text(_("address"), SHORT_TEXT)
    allergies = _text(_("known allergies"), MEDIUM_TEXT)

    class Meta:
        verbose_name = _("patient")
        ordering = ["full_name", "id"]
        indexes = [
            models.Index(fields=["full_name", "birth_date"], name="patient_name_birth"),
            # One index serves both the NIK prefix search (LIKE) and equality, where `db_index` made two.
            models.Index(fields=["nik"], name="patient_nik", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.medical_record_number} {self.full_name}"

    # The fields the NIK's birth-date rule relates (`clean`).
    NIK_RULE_FIELDS = ("nik", "birth_date", "sex")

    @classmethod
    def from_db(cls, db: str | None, field_names: list[str], values: list) -> "Patient":
        instance = super().from_db(db, field_names, values)
        loaded = dict(zip(field_names, values, strict=True))
        instance._stored_nik_facts = tuple(loaded.get(name, ...) for name in cls.NIK_RULE_FIELDS)
        return instance

    def clean(self) -> None:
        # Checked on a new patient and on a change of the NIK, birth date or sex: a patient stored with a
        # NIK that does not match (before this rule) can still have their phone changed.
        stored = getattr(self, "_stored_nik_facts", None)
        if not self._state.adding and stored == tuple(getattr(self, name) for name in self.NIK_RULE_FIELDS):
            return
        female = {self.Sex.FEMALE: True, self.Sex.MALE: False}.get(self.sex)
        try:
            validate_nik_matches_person(self.nik, self.birth_date, female)
        except ValidationError as exc:
            raise ValidationError({"nik": exc.error_list}) from exc


class Visit(ClinicalRecord):
    class Status(models.TextChoices):
        ARRIVED = "arrived", _("Arrived")
        IN_PROGRESS = "in_progress", _("In progress")
        FINISHED = "finished", _("Finished")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    started_at = models.DateTimeField(_("date and time"))
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ARRIVED)
    chief_complaint = _text(_("chief complaint"), MEDIUM_TEXT)
    subjective = _text(_("subjective"), NOTE_TEXT)
    objective = _text(_("objective"), NOTE_TEXT)
    assessment = _text(_("assessment"), NOTE_TEXT)
    plan = _text(_("plan"), NOTE_TEXT)
    # The day's queue (records.queue): checked in at `arrived_at`, numbered by the server (a device
    # offline shows "number pending" until it syncs), called by a clinician, or gone before being seen.
    arrived_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    queue_number = models.PositiveIntegerField(_("queue number"), null=True, blank=True, editable=False)
    queue_day = models.DateField(_("queue day"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("visit")
        ordering = ["-started_at", "id"]
        indexes = [
            # The waiting-room display reads today's calls; the day's queue is read by the devices.
            models.Index(
                fields=["queue_day", "called_at"], name="visit_queue_calls", condition=models.Q(queue_day__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"visit {self.id} of {self.patient_id}"

    def clean(self) -> None:
        # A device's clock may run a little ahead; a visit days ahead is a typing mistake.
        if self.started_at and self.started_at > timezone.now() + datetime.timedelta(days=1):
            raise ValidationError({"started_at": [_("A visit cannot start more than a day from now.")]})
        soon = timezone.now() + datetime.timedelta(days=1)
        for name in ("arrived_at", "called_at", "left_at"):
            if getattr(self, name) and getattr(self, name) > soon:
                raise ValidationError({name: [_("This time is more than a day from now.")]})
        if self.arrived_at is None and (self.called_at or self.left_at):
            field = "called_at" if self.called_at else "left_at"
            raise ValidationError({field: [_("Check the patient in first: only a visit in the queue is called.")]})


class VitalSigns(ClinicalRecord):
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="vital_signs")
    measured_at = models.DateTimeField(_("measured at"))
    temperature_c = models.DecimalField(
        _("temperature (°C)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=_range(30.0, 45.0, "°C"),
    )
    pulse = models.PositiveSmallIntegerField(
        _("pulse (/min)"), null=True, blank=True, validators=_range(20, 250, "/min")
    )
    respiratory_rate = models.PositiveSmallIntegerField(
        _("respiratory rate (/min)"), null=True, blank=True, validators=_range(4, 80, "/min")
    )
    systolic = models.PositiveSmallIntegerField(
        _("systolic (mmHg)"), null=True, blank=True, validators=_range(50, 300, "mmHg")
    )
    diastolic = models.PositiveSmallIntegerField(
        _("diastolic (mmHg)"), null=True, blank=True, validators=_range(20, 200, "mmHg")
    )
    spo2 = models.PositiveSmallIntegerField(_("SpO2 (%)"), null=True, blank=True, validators=_range(50, 100, "%"))
    height_cm = models.DecimalField(
        _("height (cm)"), max_digits=4, decimal_places=1, null=True, blank=True, validators=_range(30.0, 250.0, "cm")
    )
    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=4, decimal_places=1, null=True, blank=True, validators=_range(0.5, 350.0, "kg")
    )

    class Meta:
        verbose_name = _("vital signs")
        ordering = ["measured_at", "id"]

    def __str__(self) -> str:
        return f"vital signs {self.id}"

    def clean(self) -> None:
        if self.measured_at and self.measured_at > timezone.now() + datetime.timedelta(days=1):
            raise ValidationError({"measured_at": [_("A measurement cannot be more than a day from now.")]})
        if self.systolic is not None and self.diastolic is not None and self.diastolic >= self.systolic:
            raise ValidationError({"diastolic": [_("The diastolic pressure must be lower than the systolic.")]})

    @property
    def bmi(self) -> Decimal | None:
        if not self.height_cm or not self.weight_kg:
            return None
        meters = Decimal(self.height_cm) / 100
        return (Decimal(self.weight_kg) / (meters * meters)).quantize(Decimal("0.1"))


class Diagnosis(ClinicalRecord):
    class Kind(models.TextChoices):
        PRIMARY = "primary", _("Primary")
        SECONDARY = "secondary", _("Secondary")

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="diagnoses")
    code = models.CharField(_("ICD-10 code"), max_length=8)
    title = models.CharField(_("title"), max_length=300, editable=False)
    kind = models.CharField(_("primary or secondary"), max_length=10, choices=Kind.choices, default=Kind.PRIMARY)

    class Meta:
        verbose_name = _("diagnosis")
        verbose_name_plural = _("diagnoses")
        ordering = ["kind", "code", "id"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Prescription(ClinicalRecord):
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="prescriptions")
    drug = models.CharField(_("drug"), max_length=200)
    dose = models.CharField(_("dose"), max_length=100)
    route = models.CharField(_("route"), max_length=50, blank=True)
    frequency = models.CharField(_("frequency"), max_length=100)
    duration = models.CharField(_("duration"), max_length=100, blank=True)
    quantity = models.PositiveIntegerField(
        _("quantity"), null=True, blank=True, validators=_range(1, 10000, _("units"))
    )
    instructions = _text(_("instructions"), MEDIUM_TEXT)

    class Meta:
        verbose_name = _("prescription")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.drug} {self.dose}"


class Revision(models.Model):
    """One create, change, amendment or void of a record: who, which device, when, before and after."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        AMEND = "amend", _("Amended")
        VOID = "void", _("Voided")

    entity = models.CharField(max_length=20)
    record_id = models.UUIDField()
    version = models.PositiveIntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    device_id = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField()
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["entity", "record_id", "version"], name="revision_version")]
        # A record's history is read by (entity, record_id), which `revision_version` serves.
        indexes = [
            models.Index(fields=["-at", "-id"], name="revision_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.record_id} v{self.version} {self.action}"


class ChartAccess(models.Model):
    """Someone opened a patient's chart (read access is logged, as the law asks)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    device_id = models.CharField(max_length=64, blank=True)
    # When the chart was opened: on the device's clock for a device (it may open a chart offline and
    # report it later), the server's otherwise. `received_at` is when the server learned of it.
    at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["-at", "-id"], name="chart_access_recent")]

    def __str__(self) -> str:
        return f"chart of {self.patient_id} by {self.user_id}"


class QueueCounter(models.Model):
    """The last queue number given on one day, for the clinic (practitioner 0) or one practitioner."""

    day = models.DateField()
    practitioner_key = models.IntegerField(default=0)
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "practitioner_key"], name="queue_counter_day")]

    def __str__(self) -> str:
        return f"queue {self.day} {self.practitioner_key}: {self.last_value}"


class DisplayLink(models.Model):
    """A waiting-room screen's address (a TV or tablet with no sign-in): the secret is only in the link,
    kept here as a hash, and the owner can revoke it."""

    label = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.label


class MedicalRecordCounter(models.Model):
    """The clinic's next medical record number, when the clinic lets the server assign one."""

    next_value = models.PositiveBigIntegerField(default=1)

    def __str__(self) -> str:
        return f"next MRN {self.next_value}"
