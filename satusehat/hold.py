"""The clinic's hold: while SATUSEHAT is down, or refuses the clinic's credentials, no visit is tried.

A try that finds SATUSEHAT down (the network, a timeout, 5xx, 429) holds the whole clinic for a
growing wait (SATUSEHAT's Retry-After is its floor); one that finds the credentials refused holds it
until the owner saves or tests them, or an hour passes. When a hold's time is up, one try at a time
(the probe) finds out whether it is over: without it, every waiting visit would ask at once, and a
clinic with a wrong secret would ask for a token once per visit. The first success ends the hold, and
the visits that had given up waiting are queued again.
"""

import datetime
import random

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from satusehat.client import Retryable
from satusehat.models import Connection, Reason
from satusehat.reasons import in_every_language

MAX_BACKOFF_SECONDS = 3600
# A connection with no hold.
NO_HOLD = {"hold_code": "", "hold_since": None, "hold_until": None, "hold_tries": 0, "hold_texts": {}}
# A clinic whose credentials were refused is asked again after this long (the portal may have been
# mended without a change here).
CREDENTIALS_RECHECK = datetime.timedelta(hours=1)


def backoff_seconds(tries: int, retry_after: float | None = None) -> float:
    """How long to wait after `tries` tries in a row failed: base·2^(tries-1) up to an hour, with up
    to a fifth more at random so retries spread out; never less than SATUSEHAT's Retry-After."""
    base = float(settings.SATUSEHAT_BACKOFF_SECONDS)
    wait = min(base * 2 ** max(tries - 1, 0), MAX_BACKOFF_SECONDS)
    wait += random.uniform(0, wait / 5)
    return max(wait, retry_after or 0.0)


def _probe_window() -> datetime.timedelta:
    # Long enough for one visit's calls to finish or time out.
    return datetime.timedelta(seconds=30 + 10 * float(settings.SATUSEHAT_TIMEOUT_SECONDS))


def is_held(conn: Connection, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(conn.hold_code) and (conn.hold_until is None or conn.hold_until > now)


FREE = "free"
PROBE = "probe"


def may_try(conn: Connection) -> str:
    """Whether a visit may be tried now: FREE when the clinic is not held, PROBE when its hold is up and
    this try takes the probe (the others wait for what it finds), "" when held. `conn` is refreshed
    with the hold as it stands."""
    if not Connection.objects.filter(pk=conn.pk).exclude(hold_code="").exists():
        conn.hold_code = ""
        return FREE
    now = timezone.now()
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=conn.pk)
        conn.hold_code, conn.hold_until, conn.hold_texts = row.hold_code, row.hold_until, row.hold_texts
        if is_held(row, now):
            return ""
        if not row.hold_code:
            return FREE
        row.hold_until = now + _probe_window()
        row.save(update_fields=["hold_until"])
        conn.hold_until = row.hold_until
        return PROBE


def hand_back(conn: Connection) -> None:
    """The probe learnt nothing of SATUSEHAT (the visit failed before asking it anything): the next try
    probes at once instead of after the probe's window."""
    Connection.objects.filter(pk=conn.pk).exclude(hold_code="").update(hold_until=timezone.now())


def hold_unavailable(
    conn: Connection, error: Retryable, started: datetime.datetime, *, probing: bool = False
) -> datetime.datetime:
    """SATUSEHAT is down: hold the clinic for the next wait; until when. A try that began before the
    hold (in flight on another worker) neither shortens it nor counts as one more try of the clinic;
    the probe sets the next wait (the hold's end it holds is only its own window)."""
    now = timezone.now()
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=conn.pk)
        if not row.hold_code or row.hold_since is None or started >= row.hold_since:
            row.hold_tries += 1
        wait = backoff_seconds(max(row.hold_tries, 1), error.retry_after)
        until = now + datetime.timedelta(seconds=wait)
        if not probing and row.hold_code and row.hold_until is not None and row.hold_until > until:
            until = row.hold_until
        row.hold_code = Reason.UNAVAILABLE
        row.hold_since = row.hold_since or now
        row.hold_until = until
        row.hold_texts = in_every_language(error.message)
        row.save(update_fields=["hold_tries", "hold_code", "hold_since", "hold_until", "hold_texts"])
    return row.hold_until


def _same_credentials(row: Connection, conn: Connection) -> bool:
    return (row.environment, row.client_id, row.client_secret_encrypted) == (
        conn.environment,
        conn.client_id,
        conn.client_secret_encrypted,
    )


def hold_credentials(conn: Connection, message: object) -> datetime.datetime | None:
    """SATUSEHAT refused the clinic's credentials: hold the clinic until they change (or an hour); until
    when. None when the owner changed them while this try used the old ones (no hold)."""
    now = timezone.now()
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=conn.pk)
        if not _same_credentials(row, conn):
            return None
        if row.hold_code != Reason.CREDENTIALS:
            row.hold_since = now
        row.hold_code = Reason.CREDENTIALS
        row.hold_until = now + CREDENTIALS_RECHECK
        row.hold_texts = in_every_language(message)
        row.save(update_fields=["hold_code", "hold_since", "hold_until", "hold_texts"])
    return row.hold_until


def release(conn: Connection, started: datetime.datetime) -> bool:
    """SATUSEHAT answered a try that began at `started`: end the clinic's hold, queueing again the visits
    that gave up waiting; whether there was a hold. A try that began before the hold (in flight on
    another worker) does not end it. Costs one read when there was none."""
    from satusehat.outbox import resume_waiting

    if not Connection.objects.filter(pk=conn.pk).exclude(hold_code="", hold_tries=0).exists():
        return False
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=conn.pk)
        if row.hold_since is not None and row.hold_since > started:
            return False
        held = bool(row.hold_code)
        Connection.objects.filter(pk=row.pk).update(**NO_HOLD)
        if held:
            resume_waiting()
    conn.hold_code = ""
    return held
