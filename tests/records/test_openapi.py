"""The OpenAPI schema describes the record API at /api/schema/."""

import pytest
import yaml

from tenants.accounts.models import Role

pytestmark = pytest.mark.django_db


def test_schema_lists_every_record_operation(api):
    response = api(Role.DOCTOR).client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    for path in (
        "/api/patients/",
        "/api/patients/{record_id}/chart/",
        "/api/visits/",
        "/api/vitals/{record_id}/",
        "/api/diagnoses/{record_id}/void/",
        "/api/prescriptions/{record_id}/revisions/",
        "/api/audit/",
        "/api/icd10/",
    ):
        assert path in paths, path
    assert "post" in paths["/api/patients/"]
    assert "patch" in paths["/api/visits/{record_id}/"]
    assert "PatientInput" in schema["components"]["schemas"]
