"""Vital signs as a person types them and a browser sends them: JSON numbers with one decimal (38.2 °C,
60.2 kg), over the whole plausible range of each, through REST and through sync, all accepted and
stored exactly as typed. (38.2 used to be read as the float nearest to it, 38.2000000000000028..., and
refused for having more than one decimal place.)"""

import json
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from records.models import VitalSigns
from tenants.accounts.models import Role
from tests.records.conftest import make_patient, make_visit

pytestmark = pytest.mark.django_db


def tenths(low: str, high: str) -> st.SearchStrategy[float]:
    """A value with one decimal, as the float `JSON.parse` gives for what a person typed."""
    return st.integers(int(Decimal(low) * 10), int(Decimal(high) * 10)).map(lambda n: n / 10)


vitals = st.fixed_dictionaries(
    {
        "temperature_c": tenths("30.0", "45.0"),
        "height_cm": tenths("30.0", "250.0"),
        "weight_kg": tenths("0.5", "350.0"),
        "pulse": st.integers(20, 250),
        "respiratory_rate": st.integers(4, 80),
        "spo2": st.integers(50, 100),
        "systolic": st.integers(51, 300),
    }
).flatmap(
    lambda v: st.fixed_dictionaries(
        {**{k: st.just(x) for k, x in v.items()}, "diastolic": st.integers(20, min(200, v["systolic"] - 1))}
    )
)

COMMON = {
    "temperature_c": 38.2,
    "height_cm": 158.3,
    "weight_kg": 60.2,
    "pulse": 96,
    "respiratory_rate": 22,
    "spo2": 97,
    "systolic": 120,
    "diastolic": 80,
}


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(values=vitals)
@example(values=COMMON)
@example(values={**COMMON, "temperature_c": 37.8, "weight_kg": 0.5, "height_cm": 250.0})
def test_vital_signs_typed_with_one_decimal_are_stored_exactly_through_rest_and_sync(alpha, api, values):
    visit = make_visit(alpha, make_patient(alpha))
    nurse = api(Role.NURSE)
    fields = {"visit": str(visit.pk), "measured_at": timezone.now().isoformat(), **values}
    body = json.loads(json.dumps(fields))  # as JSON.stringify sends them: numbers, not strings
    assert all(isinstance(body[name], float) for name in ("temperature_c", "height_cm", "weight_kg"))  # not strings
    response = nurse.post("/api/vitals/", body)
    assert response.status_code == 201, response.content
    by_rest = response.json()["id"]
    by_sync = str(uuid.uuid4())
    mutation = {"seq": 1, "entity": "vitals", "record_id": by_sync, "op": "create", "base_version": 0, "fields": body}
    device = f"dev-{uuid.uuid4().hex[:12]}"
    result = nurse.post("/api/sync/push", {"device_id": device, "mutations": [mutation]}).json()["results"][0]
    assert result["status"] == "applied", result
    with schema_context(alpha.clinic.schema_name):
        for record_id in (by_rest, by_sync):
            stored = VitalSigns.objects.get(pk=record_id)
            for name, typed in values.items():
                assert getattr(stored, name) == Decimal(repr(typed)), (name, typed, getattr(stored, name))
