"""The clinic signup form (input checks; provisioning is in services.clinic_signup)."""

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tenants.subdomains import normalize_subdomain, validate_subdomain


class ClinicSignupForm(forms.Form):
    name = forms.CharField(label=_("Clinic name"), max_length=120)
    subdomain = forms.CharField(
        label=_("Web address"),
        max_length=30,
        help_text=format_lazy(
            _(
                "Your clinic's web address is this name followed by .{domain} (for example sehat.{domain}). "
                "Letters, digits and hyphens."
            ),
            domain=settings.PLATFORM_DOMAIN,
        ),
    )
    owner_name = forms.CharField(label=_("Your full name"), max_length=150)
    owner_email = forms.EmailField(label=_("Your email address"))
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), min_length=10
    )

    def clean_subdomain(self) -> str:
        value = normalize_subdomain(self.cleaned_data["subdomain"])
        validate_subdomain(value)
        return value
