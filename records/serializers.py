"""JSON shapes of the clinical record: output per role (front desk never gets clinical content) and the
documented input of each kind (parsing and checks themselves are in records.services)."""

import functools
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from records import access
from records.models import Diagnosis, Patient, Prescription, Visit, VitalSigns
from records.services import DEVICE_ID, REASON_MAX_LENGTH
from records.specs import SPECS
from records.validators import OLDEST_BIRTH_DATE
from tenants.accounts.models import User

RECORD_META = ("id", "version", "created_at", "updated_at", "voided_at", "void_reason")

# A device's id, as records.services.DEVICE_ID checks it (the push body, pull's query, X-Device-Id).
DEVICE_ID_SCHEMA = {"type": "string", "pattern": DEVICE_ID.pattern, "minLength": 8, "maxLength": 64}
DEVICE_ID_HELP = "The device's own id: 8 to 64 letters, digits, '-' or '_'."


class ClinicDateTimeField(serializers.DateTimeField):
    """Times in the platform's zone (settings.TIME_ZONE; no per-request zone is ever activated), looked
    up once instead of for every value: a full download renders tens of thousands of them."""

    def default_timezone(self) -> zoneinfo.ZoneInfo:
        return timezone.get_default_timezone()  # cached by Django, and reset when settings change


class RecordOutput(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: ClinicDateTimeField,
    }


class PatientOutput(RecordOutput):
    class Meta:
        model = Patient
        fields = (*RECORD_META, *SPECS["patient"].fields)


class VitalSignsOutput(RecordOutput):
    bmi = serializers.DecimalField(max_digits=5, decimal_places=1, read_only=True, allow_null=True)
    created_by = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="Who recorded them: a nurse changes only the vital signs she recorded."
    )

    class Meta:
        model = VitalSigns
        fields = (*RECORD_META, *SPECS["vitals"].fields, "bmi", "created_by")


class DiagnosisOutput(RecordOutput):
    class Meta:
        model = Diagnosis
        fields = (*RECORD_META, *SPECS["diagnosis"].fields, "title")


class PrescriptionOutput(RecordOutput):
    created_by = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="Who wrote it: the prescriber printed on the resep when the visit names none."
    )

    class Meta:
        model = Prescription
        fields = (*RECORD_META, *SPECS["prescription"].fields, "created_by")


class VisitOutput(RecordOutput):
    """The whole visit; `VisitAdminOutput` is what front desk receives."""

    practitioner_name = serializers.CharField(source="practitioner.full_name", default="", read_only=True)

    class Meta:
        model = Visit
        fields = (*RECORD_META, *SPECS["visit"].fields, "practitioner_name", "queue_number", "queue_day")


class VisitAdminOutput(VisitOutput):
    """What front desk receives of a visit: no SOAP text, and not the reason a clinician voided it."""

    class Meta(VisitOutput.Meta):
        fields = tuple(
            name for name in VisitOutput.Meta.fields if name not in (*access.VISIT_CLINICAL_FIELDS, "void_reason")
        )


class ChartVisitOutput(VisitOutput):
    """A visit in a chart with its parts; front desk receives it as `VisitAdminOutput`, without them (so
    the parts are not required: output only, never read_only, which the schema would mark required)."""

    vital_signs = VitalSignsOutput(many=True, required=False)
    diagnoses = DiagnosisOutput(many=True, required=False)
    prescriptions = PrescriptionOutput(many=True, required=False)

    class Meta(VisitOutput.Meta):
        fields = (*VisitOutput.Meta.fields, "vital_signs", "diagnoses", "prescriptions")


class ChartOutput(serializers.Serializer):
    """A patient's chart (front desk receives visits without SOAP text and without parts)."""

    patient = PatientOutput()
    visits = ChartVisitOutput(many=True)


OUTPUTS: dict[str, type[serializers.ModelSerializer]] = {
    "patient": PatientOutput,
    "visit": VisitOutput,
    "vitals": VitalSignsOutput,
    "diagnosis": DiagnosisOutput,
    "prescription": PrescriptionOutput,
}


def output_for(entity: str, user: User) -> type[serializers.ModelSerializer]:
    if entity == "visit" and not access.can_read_clinical(user):
        return VisitAdminOutput
    return OUTPUTS[entity]


def rows_of(output: type[serializers.ModelSerializer], instances: list[Any]) -> list[dict[str, Any]]:
    """What `output(instances, many=True).data` gives, without DRF's per-record field walk: how each
    field is read is settled once per output. A plain model field is read straight off the record and a
    related record's id off its `_id` column, then each field's own `to_representation` renders it; any
    other field (a dotted source with a default, say) goes through DRF's own `get_attribute`. A test
    holds the rows equal to the serializer's for every output."""
    readers = _readers(output)
    rows = []
    for instance in instances:
        row = {}
        for name, read in readers:
            value = read(instance)
            if value is not _SKIP:
                row[name] = value
        rows.append(row)
    return rows


_SKIP = object()
Reader = Callable[[Any], Any]  # a record -> its field's rendered value (or _SKIP)


@functools.cache
def _readers(output: type[serializers.ModelSerializer]) -> tuple[tuple[str, Reader], ...]:
    model_fields = {field.name: field for field in output.Meta.model._meta.concrete_fields}
    return tuple(
        (name, _reader(field, model_fields)) for name, field in output().fields.items() if not field.write_only
    )


def _reader(field: serializers.Field, model_fields: dict[str, models.Field]) -> Reader:
    source = field.source_attrs[0] if len(field.source_attrs) == 1 else None
    model_field = model_fields.get(source)
    if model_field is not None and isinstance(field, serializers.PrimaryKeyRelatedField) and field.pk_field is None:
        attname = model_field.attname  # the related record's id, as DRF's pk-only optimisation gives it
        return lambda instance: getattr(instance, attname)
    if model_field is not None and not model_field.is_relation:
        represent = field.to_representation
        return lambda instance: None if (value := getattr(instance, source)) is None else represent(value)
    return lambda instance: _through_drf(field, instance)


def _through_drf(field: serializers.Field, instance: Any) -> Any:
    """The body of DRF's `Serializer.to_representation` for one field."""
    try:
        attribute = field.get_attribute(instance)
    except SkipField:
        return _SKIP
    check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
    return None if check_for_none is None else field.to_representation(attribute)


def serialize_record(entity: str, instance: Any, user: User) -> dict[str, Any]:
    return output_for(entity, user)(instance).data


def serialize_chart(patient: Patient, visits: list[Visit], user: User) -> dict[str, Any]:
    visit_serializer = ChartVisitOutput if access.can_read_clinical(user) else VisitAdminOutput
    return {"patient": PatientOutput(patient).data, "visits": visit_serializer(visits, many=True).data}


class DuplicateWarningOutput(serializers.Serializer):
    code = serializers.CharField(help_text="`possible_duplicate`")
    message = serializers.CharField()
    patients = PatientOutput(many=True, help_text="The patients already registered that it may duplicate.")


class PatientCreatedOutput(PatientOutput):
    """A patient just registered, with a warning for each likely duplicate (the reply's schema only)."""

    warnings = DuplicateWarningOutput(many=True, read_only=True)

    class Meta(PatientOutput.Meta):
        fields = (*PatientOutput.Meta.fields, "warnings")


_BIRTH_DATE_HELP = f"From {OLDEST_BIRTH_DATE.isoformat()} to today (in the clinic's time zone)."
REASON_HELP = f"Required to amend a finished visit or add to it (at most {REASON_MAX_LENGTH} characters)."


def input_serializer(entity: str) -> type[serializers.ModelSerializer]:
    """The documented request body of one kind (for the OpenAPI schema; services do the checking)."""
    spec = SPECS[entity]
    fields = ("id", *spec.fields, "reason", "version")
    extra_kwargs = {"birth_date": {"help_text": _BIRTH_DATE_HELP}} if "birth_date" in fields else {}
    meta = type(
        "Meta",
        (),
        {"model": spec.model, "fields": fields, "ref_name": f"{entity.title()}Input", "extra_kwargs": extra_kwargs},
    )
    extra = {
        "id": serializers.UUIDField(
            required=False, help_text="A UUID made by the client; the server makes one if absent."
        ),
        "reason": serializers.CharField(required=False, max_length=REASON_MAX_LENGTH, help_text=REASON_HELP),
        "version": serializers.IntegerField(
            required=False, help_text="The version the change was made against; a stale one gets 409."
        ),
        "Meta": meta,
    }
    return type(f"{entity.title()}Input", (serializers.ModelSerializer,), extra)


class VoidInput(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, help_text="Why the record was entered in error.")


class RevisionOutput(serializers.Serializer):
    entity = serializers.CharField()
    record_id = serializers.UUIDField()
    version = serializers.IntegerField()
    action = serializers.CharField()
    user = serializers.EmailField(source="user.email")
    user_name = serializers.CharField(source="user.full_name")
    device_id = serializers.CharField()
    at = serializers.DateTimeField()
    before = serializers.JSONField()
    after = serializers.JSONField()
    reason = serializers.CharField()


class ChartAccessOutput(serializers.Serializer):
    patient = serializers.UUIDField(source="patient_id")
    medical_record_number = serializers.CharField(source="patient.medical_record_number")
    user = serializers.EmailField(source="user.email")
    device_id = serializers.CharField()
    at = serializers.DateTimeField(help_text="When the chart was opened (the device's clock, for a device).")
    received_at = serializers.DateTimeField(help_text="When the server learned of it.")


class Icd10Output(serializers.Serializer):
    code = serializers.CharField(help_text="Dotted, as clinicians write it: J06.9.")
    title = serializers.CharField(help_text="WHO's English title (the 2010 edition's for a code 2019 dropped, as A90).")
    title_id = serializers.CharField(
        allow_null=True, help_text="The Indonesian title, for the commonest diagnoses; null for the others."
    )
