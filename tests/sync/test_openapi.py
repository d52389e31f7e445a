"""The OpenAPI schema at /api/schema/ describes the sync endpoints as SYNC-PROTOCOL.md defines them."""

import pytest
import yaml
from django.core.management import call_command

from tenants.accounts.models import Role

pytestmark = pytest.mark.django_db


def test_schema_describes_push_pull_and_devices(api):
    response = api(Role.DOCTOR).client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths, components = schema["paths"], schema["components"]["schemas"]
    assert "post" in paths["/api/sync/push"]
    assert "get" in paths["/api/sync/pull"]
    assert "get" in paths["/api/sync/devices/"]
    assert any(path.startswith("/api/sync/devices/") and "post" in item for path, item in paths.items())
    pull_parameters = {parameter["name"] for parameter in paths["/api/sync/pull"]["get"]["parameters"]}
    assert {"cursor", "limit", "device_id"} <= pull_parameters
    mutation = components["Mutation"]["properties"]
    assert {"seq", "entity", "record_id", "op", "base_version", "fields", "reason"} <= set(mutation)
    op = mutation["op"]
    op = components[op["$ref"].rsplit("/", 1)[-1]] if "$ref" in op else op
    assert set(op["enum"]) == {"create", "update", "void", "resolve", "open"}
    entity = _resolved(components, mutation["entity"])
    assert {"patient", "visit", "vitals", "diagnosis", "prescription", "conflict", "chart"} == set(entity["enum"])
    assert {"changes", "cursor", "has_more", "reset", "remaining"} <= set(components["PullOutput"]["properties"])
    assert {"last_seq", "results"} <= set(components["PushOutput"]["properties"])


def _resolved(components: dict, schema: dict) -> dict:
    if "allOf" in schema:  # a reference with a description of its own
        schema = schema["allOf"][0]
    return components[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema


def test_schema_types_every_result_change_and_error_reply(api):
    """A client generated from the schema knows each push status, each pull change's fields and every
    error reply, not free-form objects."""
    schema = yaml.safe_load(api(Role.DOCTOR).client.get("/api/schema/").content)
    paths, components = schema["paths"], schema["components"]["schemas"]
    result = components["PushResult"]["properties"]
    assert set(_resolved(components, result["status"])["enum"]) == {
        "applied",
        "merged",
        "conflict",
        "rejected",
        "duplicate",
        "gap",
    }
    assert {"seq", "version", "conflict_id", "conflict_ids", "errors", "last_seq", "original_status"} <= set(result)
    change = components["PullChange"]["properties"]
    assert set(change) == {"seq", "entity", "record_id", "op", "version", "data"}
    assert set(_resolved(components, change["op"])["enum"]) == {"upsert", "void"}
    assert set(paths["/api/sync/push"]["post"]["responses"]) >= {"200", "400", "401", "403", "413"}
    assert set(paths["/api/sync/pull"]["get"]["responses"]) >= {"200", "400", "401", "403"}
    error = components["SyncError"]["properties"]
    assert set(_resolved(components, error["error"])["enum"]) == {
        "not_signed_in",
        "refused",
        "clinic_suspended",
        "two_factor_required",
    }
    too_large = components["PushTooLarge"]["properties"]
    assert set(_resolved(components, too_large["error"])["enum"]) == {"batch_too_large", "too_large"}
    assert paths["/api/sync/push"]["post"]["responses"]["413"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PushTooLarge"
    }


DEVICE_ID_RULE = {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$", "minLength": 8, "maxLength": 64}


def test_schema_states_the_device_id_rule_wherever_it_is_taken(api):
    """8 to 64 of [A-Za-z0-9_-] (records.services.DEVICE_ID): the push body, pull's query and header."""
    schema = yaml.safe_load(api(Role.DOCTOR).client.get("/api/schema/").content)
    paths, components = schema["paths"], schema["components"]["schemas"]
    pushed = components["PushInput"]["properties"]["device_id"]
    assert {key: pushed[key] for key in DEVICE_ID_RULE} == DEVICE_ID_RULE
    pull = {(p["name"], p["in"]): p["schema"] for p in paths["/api/sync/pull"]["get"]["parameters"]}
    assert pull["device_id", "query"] == DEVICE_ID_RULE
    assert pull["X-Device-Id", "header"] == DEVICE_ID_RULE


def test_every_sync_operation_declares_the_platforms_replies(api):
    """503 (with Retry-After) everywhere, 401/403 in sync's shape, 413 and 415 for a body."""
    paths = yaml.safe_load(api(Role.DOCTOR).client.get("/api/schema/").content)["paths"]
    for path, method in [
        ("/api/sync/push", "post"),
        ("/api/sync/pull", "get"),
        ("/api/sync/devices/", "get"),
        ("/api/sync/devices/{device_id}/revoke/", "post"),
    ]:
        responses = paths[path][method]["responses"]
        assert {"401", "403", "503"} <= set(responses), path
        assert "Retry-After" in responses["503"]["headers"]
    assert {"400", "413", "415"} <= set(paths["/api/sync/push"]["post"]["responses"])
    assert "404" in paths["/api/sync/devices/{device_id}/revoke/"]["post"]["responses"]


def test_schema_generates_without_warnings(tmp_path):
    """Every endpoint's schema is understood by drf-spectacular (no guessed types or enum names)."""
    call_command(
        "spectacular",
        urlconf="config.urls_tenant",
        validate=True,
        fail_on_warn=True,
        file=str(tmp_path / "schema.yaml"),
    )
    assert "PushStatusEnum" in (tmp_path / "schema.yaml").read_text()
