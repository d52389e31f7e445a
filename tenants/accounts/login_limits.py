"""Failed sign-in limits: counted per client address and per email at an address, never per email alone.

allauth counts every password check under `ACCOUNT_RATE_LIMITS["login_failed"]` (and gives the count back
when the password was right): its `ip` rates per client address, its `key` rate per key. Our key is the
email *and* the address, so wrong passwords from one place never lock the person out at another; the
cache's key function (django-tenants) adds the clinic's schema to every key.
"""

import math
import time

from allauth.core.internal.ratelimit import get_cache_key, get_ip, get_rates
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import ngettext

ALLAUTH_ACCOUNT = "allauth.account"
LOGIN_FAILED = "login_failed"


def login_attempts_key(request: HttpRequest, email: str) -> str:
    """The `key` of the failed sign-in limit: the email at the client's address (an IPv6 /64 as one)."""
    return f"{email.strip().lower()}|{get_ip(request)}"


def seconds_until_allowed(request: HttpRequest, *, action: str, key: str) -> float:
    """How long until every rate of `action` has room for one more attempt (0 when it has room now)."""
    now = time.time()
    wait = 0.0
    for rate in get_rates(app=ALLAUTH_ACCOUNT, action=action):
        cache_key = get_cache_key(request, app=ALLAUTH_ACCOUNT, action=action, rate=rate, key=key)
        recent = sorted((ts for ts in cache.get(cache_key, []) if ts > now - rate.duration), reverse=True)
        if len(recent) >= rate.amount:
            # Room returns when the newest of the attempts that must age out has left the window.
            wait = max(wait, recent[rate.amount - 1] + rate.duration - now)
    return wait


def too_many_failures_message(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed sign-in attempts. Try again in %(minutes)d minute.",
        "Too many failed sign-in attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
