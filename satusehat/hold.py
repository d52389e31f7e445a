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


def may_try(conn: Connection) -> bool:
    """Whether a visit may be tried now: the clinic is not held, or its hold is up and this try takes
    the probe (the others wait for what it finds). `conn` is refreshed with the hold as it stands."""
    if not Connection.objects.filter(pk=conn.pk).exclude(hold_code="").exists():
        conn.hold_code = ""
        return True
    now = timezone.now()
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=conn.pk)
        conn.hold_code, conn.hold_until, conn.hold_texts = row.hold_code, row.hold_until, row.hold_texts
        if is_held(row, now):
            return False
        if row.hold_code:
            row.hold_until = now + _probe_window()
            row.save(update_fields=["hold_until"])
            conn.hold_until = row.hold_until
        return True


def hold_unavailable(conn: Connection, error: Retryable) -> datetime.datetime:
    """SATUSEHAT is down: hold the clinic for the next wait; until when."""
    now = timezone.now()
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=conn.pk)
        row.hold_tries += 1
        row.hold_code = Reason.UNAVAILABLE
        row.hold_since = row.hold_since or now
        row.hold_until = now + datetime.timedelta(seconds=backoff_seconds(row.hold_tries, error.retry_after))
        row.hold_texts = in_every_language(error.message)
        row.save(update_fields=["hold_tries", "hold_code", "hold_since", "hold_until", "hold_texts"])
    return row.hold_until


def hold_credentials(conn: Connection, message: object) -> datetime.datetime:
    """SATUSEHAT refused the clinic's credentials: hold the clinic until they change (or an hour)."""
    now = timezone.now()
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=conn.pk)
        if row.hold_code != Reason.CREDENTIALS:
            row.hold_since = now
        row.hold_code = Reason.CREDENTIALS
        row.hold_until = now + CREDENTIALS_RECHECK
        row.hold_texts = in_every_language(message)
        row.save(update_fields=["hold_code", "hold_since", "hold_until", "hold_texts"])
    return row.hold_until


def release(conn: Connection) -> bool:
    """A call went through: end the clinic's hold, queueing again the visits that gave up waiting;
    whether there was a hold. Costs one read when there was none."""
    from satusehat.outbox import queue_failed, wait_over

    if not Connection.objects.filter(pk=conn.pk).exclude(hold_code="", hold_tries=0).exists():
        return False
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=conn.pk)
        held = bool(row.hold_code)
        row.hold_code, row.hold_since, row.hold_until, row.hold_tries, row.hold_texts = "", None, None, 0, {}
        row.save(update_fields=["hold_code", "hold_since", "hold_until", "hold_tries", "hold_texts"])
        if held:
            wait_over()
            queue_failed((Reason.UNAVAILABLE,))
    conn.hold_code = ""
    return held
