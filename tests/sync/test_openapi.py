"""The OpenAPI schema at /api/schema/ describes the sync endpoints as SYNC-PROTOCOL.md defines them."""

import pytest
import yaml

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
    assert set(op["enum"]) == {"create", "update", "void", "resolve"}
    assert {"changes", "cursor", "has_more", "reset", "remaining"} <= set(components["PullOutput"]["properties"])
    assert {"last_seq", "results"} <= set(components["PushOutput"]["properties"])
