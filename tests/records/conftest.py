"""Fixtures for the clinical record: JSON clients per role and records made through the services."""

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from records import services
from tenants.accounts.models import Role, User
from tests.conftest import ClinicFixture, login


class ApiClient:
    """A signed-in JSON client at one clinic's host."""

    def __init__(self, client: Client, device_id: str = "") -> None:
        self.client = client
        self.headers = {"HTTP_X_DEVICE_ID": device_id} if device_id else {}

    def get(self, path: str, **params: Any):
        return self.client.get(path, params, HTTP_ACCEPT_LANGUAGE="en", **self.headers)

    def post(self, path: str, body: Any):
        return self.client.post(path, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en", **self.headers)

    def patch(self, path: str, body: Any):
        return self.client.patch(path, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en", **self.headers)


@pytest.fixture
def api(alpha):
    """`api(role)` -> a JSON client signed in at clinic alpha with that role."""
    cache: dict[str, ApiClient] = {}

    def make(role: str, device_id: str = "") -> ApiClient:
        key = f"{role}:{device_id}"
        if key not in cache:
            cache[key] = ApiClient(login(alpha.host, alpha.email(role)), device_id)
        return cache[key]

    return make


def actor(clinic: ClinicFixture, role: str = Role.DOCTOR) -> services.Actor:
    with schema_context(clinic.clinic.schema_name):
        return services.Actor(user=User.objects.get(email=clinic.email(role)), device_id="test-device")


def make_patient(clinic: ClinicFixture, **overrides: Any):
    data = {"full_name": "Siti Aminah", "birth_date": "1987-03-02", "sex": "F", **overrides}
    with schema_context(clinic.clinic.schema_name):
        return services.record_create(entity="patient", actor=actor(clinic, Role.FRONT_DESK), data=data)


def make_visit(clinic: ClinicFixture, patient, **overrides: Any):
    data = {"patient": str(patient.pk), "started_at": timezone.now().isoformat(), **overrides}
    with schema_context(clinic.clinic.schema_name):
        return services.record_create(entity="visit", actor=actor(clinic), data=data)


def make_part(clinic: ClinicFixture, entity: str, visit, **data: Any):
    defaults = {
        "vitals": {"measured_at": timezone.now().isoformat(), "pulse": 80, "systolic": 120, "diastolic": 80},
        "diagnosis": {"code": "J06.9"},
        "prescription": {"drug": "Paracetamol 500 mg", "dose": "500 mg", "frequency": "3x sehari"},
    }[entity]
    with schema_context(clinic.clinic.schema_name):
        return services.record_create(
            entity=entity, actor=actor(clinic), data={"visit": str(visit.pk), **defaults, **data}
        )


def yesterday() -> str:
    return (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
