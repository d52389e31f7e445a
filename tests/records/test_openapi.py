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


def _schema(api) -> dict:
    return yaml.safe_load(api(Role.DOCTOR).client.get("/api/schema/").content)


def test_lists_that_page_are_documented_as_pages(api):
    """The patients list and the audit trail answer {count, next, previous, results}, not an array."""
    schema = _schema(api)
    components = schema["components"]["schemas"]
    for path, item in (("/api/patients/", "PatientOutput"), ("/api/audit/", "AuditEntry")):
        operation = schema["paths"][path]["get"]
        reply = operation["responses"]["200"]["content"]["application/json"]["schema"]
        page = components[reply["$ref"].rsplit("/", 1)[-1]]
        assert page["type"] == "object", path
        assert {"count", "next", "previous", "results"} == set(page["properties"])
        assert page["properties"]["results"]["items"] == {"$ref": f"#/components/schemas/{item}"}
        parameters = {parameter["name"] for parameter in operation["parameters"]}
        assert {"page", "page_size"} <= parameters
        assert "404" in operation["responses"], "a page past the end"
    audit_entry = components["AuditEntry"]["oneOf"]
    assert {entry["$ref"].rsplit("/", 1)[-1] for entry in audit_entry} == {"RevisionOutput", "ChartAccessOutput"}


def test_every_record_operation_states_the_x_device_id_rule(api):
    rule = {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$", "minLength": 8, "maxLength": 64}
    for path, item in _schema(api)["paths"].items():
        if path.startswith(("/api/sync/", "/api/me/")):
            continue
        for method, operation in item.items():
            headers = {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "header"}
            assert headers.get("X-Device-Id") == rule, f"{method} {path}"


def test_error_replies_are_declared_with_their_bodies(api):
    paths = _schema(api)["paths"]
    expected = {
        ("/api/patients/", "get"): {"200", "400", "403", "404", "503"},
        ("/api/patients/", "post"): {"201", "400", "403", "409", "413", "415", "503"},
        ("/api/visits/{record_id}/", "patch"): {"200", "400", "403", "404", "409", "413", "415", "503"},
        ("/api/visits/{record_id}/void/", "post"): {"200", "400", "403", "404", "413", "415", "503"},
        ("/api/me/", "get"): {"200", "403", "503"},
    }
    for (path, method), codes in expected.items():
        responses = paths[path][method]["responses"]
        assert set(responses) == codes, f"{method} {path}"
        for code in codes - {"200", "201"}:
            assert "schema" in responses[code]["content"]["application/json"], f"{method} {path} {code}"
    unavailable = paths["/api/patients/"]["get"]["responses"]["503"]
    assert unavailable["headers"]["Retry-After"]["schema"]["type"] == "integer"


def test_text_limits_and_the_birth_date_rule_are_stated(api):
    components = _schema(api)["components"]["schemas"]
    patient = components["PatientInput"]["properties"]
    assert patient["full_name"]["maxLength"] == 150
    assert patient["address"]["maxLength"] == 500
    assert patient["reason"]["maxLength"] == 300
    assert "1900-01-01" in patient["birth_date"]["description"]
    assert components["VisitInput"]["properties"]["subjective"]["maxLength"] == 10_000
    assert components["VoidInput"]["properties"]["reason"]["maxLength"] == 300
