"""allauth adapter: nobody signs up through allauth; staff join by invitation, clinics at /signup/."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django_tenants.utils import get_public_schema_name

from tenants.accounts.login_limits import (
    LOGIN_FAILED,
    login_attempts_key,
    seconds_until_allowed,
    too_many_failures_message,
)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if request.tenant.schema_name == get_public_schema_name():
            return reverse("console:clinics") if request.user.is_staff else reverse("landing")
        return super().get_login_redirect_url(request)

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
