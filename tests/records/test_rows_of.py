"""records.serializers.rows_of renders pull rows without DRF's per-record walk: for every output, the
rows must be exactly what the serializer gives, rendered to JSON the same way."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.renderers import JSONRenderer

from records import services
from records.serializers import OUTPUTS, VisitAdminOutput, rows_of
from records.specs import SPECS
from tenants.accounts.models import Role, User
from tests.records.conftest import actor, make_part, make_patient, make_visit

pytestmark = pytest.mark.django_db


def _records(alpha) -> None:
    """Records with every kind of value: empty and given optional fields, a practitioner or none, a
    finished and a voided visit, decimals, a computed BMI, a voided part."""
    doctor = actor(alpha, Role.DOCTOR)
    plain = make_patient(alpha)
    full = make_patient(
        alpha, nik="3171014203870001", phone="0812", address="Jl. Mawar 3\\nRT 01", allergies="Penisilin"
    )
    with schema_context(alpha.clinic.schema_name):
        practitioner = User.objects.get(email=alpha.email(Role.DOCTOR)).pk
    visits = [
        make_visit(alpha, plain),
        make_visit(alpha, full, practitioner=practitioner, subjective="Batuk", plan="Istirahat"),
        make_visit(alpha, full, status="in_progress", chief_complaint="Demam"),
    ]
    make_part(alpha, "vitals", visits[0], measured_at=timezone.now().isoformat(), temperature_c="37.4", pulse=88)
    make_part(
        alpha,
        "vitals",
        visits[1],
        measured_at=timezone.now().isoformat(),
        height_cm="160.5",
        weight_kg="55.2",
        spo2=98,
    )
    make_part(alpha, "diagnosis", visits[1], code="J06.9")
    make_part(alpha, "diagnosis", visits[0], code="a09", kind="secondary")
    make_part(alpha, "prescription", visits[1], drug="Paracetamol", dose="500 mg", frequency="3x1", quantity=10)
    voided_part = make_part(alpha, "prescription", visits[0], drug="Amoxicillin", dose="500 mg", frequency="3x1")
    with schema_context(alpha.clinic.schema_name):
        services.record_void(instance=voided_part, actor=doctor, reason="Salah obat")
        services.record_update(instance=visits[2], actor=doctor, changes={"status": "finished"})
        services.record_void(instance=plain, actor=doctor, reason="Pasien ganda")


def test_rows_equal_what_each_serializer_gives(alpha):
    _records(alpha)
    render = JSONRenderer().render
    outputs = [*((entity, output) for entity, output in OUTPUTS.items()), ("visit", VisitAdminOutput)]
    with schema_context(alpha.clinic.schema_name):
        for entity, output in outputs:
            instances = list(SPECS[entity].model.objects.order_by("id"))
            if entity == "visit":
                instances = list(SPECS[entity].model.objects.select_related("practitioner").order_by("id"))
            assert len(instances) >= 2, entity
            expected = output(instances, many=True).data
            assert render(rows_of(output, instances)) == render(expected), output.__name__
