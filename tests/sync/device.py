"""A reference device for the tests: an outbox numbered per device, the server's copy of each record
and the open conflicts, pushing and pulling over HTTP exactly as SYNC-PROTOCOL.md asks a client to."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.records.conftest import ApiClient

FINAL = {"applied", "merged", "conflict", "rejected", "duplicate"}


@dataclass
class Device:
    api: ApiClient
    device_id: str = field(default_factory=lambda: "dev-" + uuid.uuid4().hex[:20])
    next_seq: int = 1
    cursor: int = 0
    outbox: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    copy: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def _enqueue(self, **mutation: Any) -> dict[str, Any]:
        mutation = {"seq": self.next_seq, **mutation}
        self.next_seq += 1
        self.outbox.append(mutation)
        return mutation

    def version_of(self, entity: str, record_id: str) -> int:
        return self.copy.get((entity, record_id), {}).get("version", 0)

    def create(self, entity: str, fields: dict[str, Any], reason: str = "") -> str:
        record_id = str(uuid.uuid4())
        self._enqueue(entity=entity, record_id=record_id, op="create", base_version=0, fields=fields, reason=reason)
        return record_id

    def update(self, entity: str, record_id: str, fields: dict[str, Any], reason: str = "") -> None:
        self._enqueue(
            entity=entity,
            record_id=record_id,
            op="update",
            base_version=self.version_of(entity, record_id),
            fields=fields,
            reason=reason,
        )

    def void(self, entity: str, record_id: str, reason: str) -> None:
        self._enqueue(
            entity=entity,
            record_id=record_id,
            op="void",
            base_version=self.version_of(entity, record_id),
            reason=reason,
        )

    def resolve(self, conflict_id: str, value: Any) -> None:
        self._enqueue(
            entity="conflict",
            record_id=conflict_id,
            op="resolve",
            base_version=self.version_of("conflict", conflict_id),
            fields={"value": value},
        )

    def push(self, *, limit: int = 500, lose_response: bool = False) -> dict[str, Any] | None:
        """Send the outbox's head; with `lose_response` the server commits but the device never hears."""
        batch = self.outbox[:limit]
        if not batch:
            return None
        response = self.api.post("/api/sync/push", {"device_id": self.device_id, "mutations": batch})
        assert response.status_code == 200, response.content
        if lose_response:
            return None
        body = response.json()
        by_seq = {result["seq"]: result for result in body["results"]}
        kept = []
        for mutation in self.outbox:
            result = by_seq.get(mutation["seq"])
            if result is None or result["status"] not in FINAL:
                kept.append(mutation)
                continue
            status = result.get("original_status", result["status"])
            if status == "rejected":
                self.failed.append({**mutation, "errors": result.get("errors")})
        self.outbox = kept
        return body

    def push_all(self) -> None:
        while self.outbox:
            self.push()

    def pull(self, *, limit: int = 500) -> None:
        while True:
            response = self.api.get("/api/sync/pull", cursor=self.cursor, limit=limit, device_id=self.device_id)
            assert response.status_code == 200, response.content
            body = response.json()
            if body["reset"]:
                self.copy.clear()
                self.cursor = 0
                continue
            for change in body["changes"]:
                self.copy[(change["entity"], change["record_id"])] = {
                    "version": change["version"],
                    "op": change["op"],
                    "data": change["data"],
                }
            self.cursor = body["cursor"]
            if not body["has_more"]:
                return

    def sync(self) -> None:
        self.push_all()
        self.pull()

    def data(self, entity: str, record_id: str) -> dict[str, Any]:
        return self.copy[(entity, record_id)]["data"]

    def open_conflicts(self) -> list[dict[str, Any]]:
        return [
            entry["data"]
            for (entity, _id), entry in self.copy.items()
            if entity == "conflict" and entry["data"]["resolved_at"] is None
        ]
