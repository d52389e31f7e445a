"""The demo and benchmark generator makes valid, attributable records."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from records.demo_data import generate
from records.models import Diagnosis, Patient, Prescription, Revision, Visit, VitalSigns

pytestmark = pytest.mark.django_db


def test_generated_records_pass_every_check_and_have_revisions(alpha):
    with schema_context(alpha.clinic.schema_name):
        counts = generate(patients=40, visits=120, seed=7)
        assert counts == {"patients": 40, "visits": 120, "vital_signs": 120, "diagnoses": 120, "prescriptions": 120}
        for model in (Patient, Visit, VitalSigns, Diagnosis, Prescription):
            for record in model.objects.all():
                record.full_clean()
        assert Revision.objects.filter(action="create").count() == 40 + 4 * 120
        numbers = list(Patient.objects.values_list("medical_record_number", flat=True))
        assert len(set(numbers)) == 40


def test_generate_twice_adds_more_without_clashing_record_numbers(alpha):
    with schema_context(alpha.clinic.schema_name):
        generate(patients=5, visits=0, seed=1)
        generate(patients=5, visits=0, seed=2)
        assert Patient.objects.values("medical_record_number").distinct().count() == 10


def test_command_refuses_an_unknown_clinic(platform_world):
    with pytest.raises(CommandError, match="No clinic"):
        call_command("generate_records", clinic="nowhere", patients=1, visits=1)
