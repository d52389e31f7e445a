"""The clinic's SATUSEHAT connection: storing its credentials, and testing them by signing in.

The client secret is encrypted before it is stored and never given back; saving the form with the
secret left empty keeps the stored one. Connecting, changing the credentials or a test that signs in
ends a hold for refused credentials, and gives the waiting visits their tasks.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from satusehat import secrets
from satusehat.client import Client, NotConnected, Retryable
from satusehat.hold import NO_HOLD
from satusehat.models import Connection, IhsNumber, Reason, RemoteResource, VisitSend
from satusehat.outbox import resume_waiting, wake_waiting
from satusehat.reasons import deferred, in_every_language


def connection() -> Connection | None:
    """The clinic's connection (the schema in use), or None when it has none."""
    return Connection.objects.order_by("pk").first()


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _check(
    environment: str, organization_id: str, client_id: str, secret: str, location_id: str, existing: Connection | None
) -> None:
    errors: dict[str, list[str]] = {}
    if environment not in Connection.Environment.values:
        errors["environment"] = [_("Choose sandbox (testing) or production.")]
    required = {
        "organization_id": (organization_id, _("Enter the organization ID SATUSEHAT gave the clinic.")),
        "client_id": (client_id, _("Enter the client ID from the SATUSEHAT portal.")),
        "location_id": (location_id, _("Enter the ID of the clinic's location registered in SATUSEHAT.")),
    }
    for field, (value, message) in required.items():
        if not value:
            errors[field] = [message]
    if not secret and (existing is None or not existing.client_secret_encrypted):
        errors["client_secret"] = [_("Enter the client secret from the SATUSEHAT portal.")]
    for field, value, limit in (
        ("organization_id", organization_id, 64),
        ("client_id", client_id, 200),
        ("location_id", location_id, 64),
    ):
        if len(value) > limit:
            errors.setdefault(field, []).append(_("Keep this under %(limit)d characters.") % {"limit": limit})
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_connection(
    user,
    environment: str,
    organization_id: str,
    client_id: str,
    client_secret: str | None,
    location_id: str,
    location_name: str,
) -> Connection:
    """Store the clinic's credentials (a blank secret keeps the stored one). A change of environment,
    client ID or secret drops the kept token; a change of environment or organization forgets the ids
    the other one gave (a later change to a visit is then created there anew). The visits waiting
    for a connection are queued."""
    environment, organization_id, client_id = _clean(environment), _clean(organization_id), _clean(client_id)
    location_id, location_name, secret = _clean(location_id), _clean(location_name), _clean(client_secret)
    existing = Connection.objects.select_for_update().order_by("pk").first()
    _check(environment, organization_id, client_id, secret, location_id, existing)
    row = existing or Connection()
    credentials_changed = (
        existing is None or bool(secret) or existing.environment != environment or existing.client_id != client_id
    )
    moved = existing is not None and (existing.environment, existing.organization_id) != (environment, organization_id)
    row.environment = environment
    row.organization_id = organization_id
    row.client_id = client_id
    row.location_id = location_id
    row.location_name = location_name[:200]
    row.updated_by = user
    if secret:
        row.client_secret_encrypted = secrets.encrypt(secret)
    if moved:
        # Another SATUSEHAT (sandbox → production) or organization: the ids it gave are not valid there.
        RemoteResource.objects.all().delete()
        IhsNumber.objects.all().delete()
        # What was sent there is sent again here (queued in this same transaction).
        from satusehat.outbox import queue_visits

        VisitSend.objects.update(sent=0)
        queue_visits(list(VisitSend.objects.values_list("visit_id", flat=True)))
    if credentials_changed or moved:
        # Whatever held the clinic (refused credentials) is asked again with what was just entered.
        for field, value in NO_HOLD.items():
            setattr(row, field, value)
    if credentials_changed:
        row.token_encrypted = ""
        row.token_expires_at = None
        row.last_test_at = None
        row.last_test_ok = None
        row.last_test_message = ""
        row.last_test_texts = {}
    row.save()
    resume_waiting()
    wake_waiting()
    return row


def test_connection() -> tuple[bool, str]:
    """Sign in to SATUSEHAT with the stored credentials: whether it worked, and what to do if not. The
    outcome is kept on the connection (shown on the settings page)."""
    row = connection()
    if row is None:
        return False, str(deferred("SATUSEHAT is not connected yet: enter the clinic's credentials first."))
    client = Client(row)
    message: object
    try:
        client.token(renew=True)
        ok = True
        message = deferred(
            "Connected to SATUSEHAT (%(environment)s): sign-in works.",
            environment=Connection.Environment(row.environment).label,
        )
    except NotConnected as exc:
        ok, message = False, exc.message
    except Retryable as exc:
        ok = False
        message = deferred(
            "%(problem)s Check the server's internet connection and try again in a moment.", problem=exc.message
        )
    finally:
        client.close()
    changes = {"last_test_at": timezone.now(), "last_test_ok": ok, "last_test_message": str(message)[:500]}
    changes["last_test_texts"] = {code: text[:500] for code, text in in_every_language(message).items()}
    if ok and row.hold_code == Reason.CREDENTIALS:
        # The owner mended the credentials at SATUSEHAT's end: the visits waiting for them go.
        changes.update(NO_HOLD)
    Connection.objects.filter(pk=row.pk).update(**changes)
    if ok:
        resume_waiting()
        wake_waiting()
    return ok, str(message)


# Not a test function for pytest, which collects `test_*` names imported into test modules.
test_connection.__test__ = False  # type: ignore[attr-defined]
