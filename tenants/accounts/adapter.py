"""allauth adapter: nobody signs up through allauth (staff join by invitation, clinics at /signup/);
where sign-in lands and where its `next` may lead; failed sign-ins counted per clinic and address."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_tenants.utils import get_public_schema_name

from tenants.accounts.login_limits import (
    LOGIN_FAILED,
    login_attempts_key,
    seconds_until_allowed,
    too_many_failures_message,
)

LOGGED_IN_MESSAGE = "account/messages/logged_in.txt"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Where sign-in lands when no safe `next` was given (allauth checks that first): operators on
        the console, clinic staff of every role in the clinic app (LOGIN_REDIRECT_URL, /app/)."""
        if request.tenant.schema_name == get_public_schema_name():
            return reverse("console:clinics") if request.user.is_staff else reverse("landing")
        return super().get_login_redirect_url(request)

    def add_message(
        self,
        request: HttpRequest,
        level: int,
        message_template: str | None = None,
        message_context: dict[str, Any] | None = None,
        extra_tags: str = "",
        message: str | None = None,
    ) -> None:
        # Clinic staff land in the app, which shows no server messages: "Signed in as ..." would wait
        # in the session and greet them, stale, on the next server page they open.
        if message_template == LOGGED_IN_MESSAGE and request.tenant.schema_name != get_public_schema_name():
            return
        super().add_message(request, level, message_template, message_context, extra_tags, message)

    def is_safe_url(self, url: str) -> bool:
        """A `next` may only lead within this host: ALLOWED_HOSTS holds every clinic's subdomain, and
        sign-in at one clinic must never send the person on to another (anyone can sign a clinic up)."""
        host = context.request.get_host()
        return url_has_allowed_host_and_scheme(url, allowed_hosts={host}, require_https=context.request.is_secure())

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth's one place for the key of its `login_failed` limit (consumed in pre_authenticate, given
        # back on success, cleared by a password reset). Its key is the email alone, so anyone anywhere
        # could lock a doctor out; tests/test_login_limits.py fails if allauth stops calling this.
        return login_attempts_key(request, credentials.get("email") or credentials.get("username") or "")

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as exc:
            if exc.code != "too_many_login_attempts":
                raise
            key = self._get_login_attempts_cache_key(request, **credentials)
            wait = seconds_until_allowed(request, action=LOGIN_FAILED, key=key)
            raise ValidationError(too_many_failures_message(wait), code=exc.code) from exc
