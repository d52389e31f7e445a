"""Error reporting to Sentry: only when SENTRY_DSN is set, tagged with the clinic, no personal data."""

from typing import Any

import sentry_sdk

# Request parts that may carry patient or personal data; never sent.
_SCRUBBED_REQUEST_KEYS = ("data", "cookies", "query_string", "headers", "env")


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Remove bodies, cookies, headers, query strings and user details from an event before it leaves."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in _SCRUBBED_REQUEST_KEYS:
            request.pop(key, None)
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for exception in (event.get("exception") or {}).get("values", []):
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)  # local variables may hold a patient's record
    event.pop("breadcrumbs", None)
    return event


def init_sentry(dsn: str, *, environment: str) -> None:
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        traces_sample_rate=0.0,
    )


def tag_clinic(schema_name: str) -> None:
    """Tag events of this request with the clinic (its schema name, not its people)."""
    sentry_sdk.get_isolation_scope().set_tag("clinic", schema_name)
