"""Forms for staff management and accepting an invitation (input checks only; logic in services)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.accounts.models import Role


class InvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=[("", _("Choose a role")), *Role.choices])


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("Password (again)"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords do not match."))
        return data


class SecurityForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label=_("Require two-factor authentication (TOTP) for all staff"), required=False
    )
