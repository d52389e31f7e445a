"""allauth adapter: nobody signs up through allauth; staff join by invitation, clinics at /signup/."""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse
from django_tenants.utils import get_public_schema_name


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if request.tenant.schema_name == get_public_schema_name():
            return reverse("console:clinics") if request.user.is_staff else reverse("landing")
        return super().get_login_redirect_url(request)
