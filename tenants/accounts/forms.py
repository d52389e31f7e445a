"""Forms for staff management, the clinic's settings and accepting an invitation (input checks only; logic
in services)."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from records.validators import validate_nik
from tenants.accounts.models import Role, User


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


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("New role"), choices=Role.choices)


_PHONE = re.compile(r"^\+?[0-9 ()./-]+$")


class ClinicSettingsForm(forms.Form):
    name = forms.CharField(
        label=_("Clinic name"),
        max_length=120,
        help_text=_("Shown in the app and on printed papers."),
        error_messages={"required": _("Enter the clinic's name.")},
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False, widget=forms.Textarea({"rows": 3}))
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False, widget=forms.TextInput({"type": "tel"}))
    licence_number = forms.CharField(
        label=_("Operating licence number"),
        max_length=100,
        required=False,
        help_text=_("The clinic's operating licence number (nomor izin operasional)."),
    )
    queue_per_practitioner = forms.BooleanField(
        label=_("A queue per practitioner"),
        required=False,
        help_text=_("Number patients separately for each doctor, instead of one queue for the clinic."),
    )
    display_first_names = forms.BooleanField(
        label=_("Show first names on the waiting-room display"),
        required=False,
        help_text=_("Without this, the display shows queue numbers only."),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the clinic's name."))
        return name

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        digits = sum(character.isdigit() for character in phone)
        if phone and (not _PHONE.fullmatch(phone) or not 6 <= digits <= 15):
            raise forms.ValidationError(
                _("Enter a phone number of 6 to 15 digits, for example 0361 234567 or +62 812 3456 7890.")
            )
        return phone

    def clean_address(self) -> str:
        return self.cleaned_data["address"].strip()

    def clean_licence_number(self) -> str:
        return self.cleaned_data["licence_number"].strip()


class SipNumbersForm(forms.Form):
    """One SIP (Surat Izin Praktik) number field per doctor and nurse, named `sip_<user id>`."""

    def __init__(self, *args: object, practitioners: list[User], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.practitioners = practitioners
        for member in practitioners:
            self.fields[f"sip_{member.pk}"] = forms.CharField(
                label=f"{member.full_name} · {member.get_role_display()}",
                max_length=100,
                required=False,
                initial=member.sip_number,
                error_messages={"max_length": _("A SIP number has at most %(limit_value)d characters.")},
            )

    def numbers(self) -> dict[int, str]:
        """The numbers the page sent: a practitioner added since it was loaded had no field on it, and
        keeps the number they have."""
        return {
            member.pk: self.cleaned_data[f"sip_{member.pk}"].strip()
            for member in self.practitioners
            if f"sip_{member.pk}" in self.data
        }


class NikNumbersForm(forms.Form):
    """One NIK field per owner, doctor and nurse, named `nik_<user id>`: SATUSEHAT knows practitioners
    by their NIK (a visit's practitioner, who measured the vital signs, who prescribed)."""

    def __init__(self, *args: object, members: list[User], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        for member in members:
            self.fields[f"nik_{member.pk}"] = forms.CharField(
                label=f"{member.full_name} · {member.get_role_display()}",
                max_length=24,  # 16 digits, perhaps typed in groups with spaces
                required=False,
                initial=member.nik,
                widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
                error_messages={"max_length": _("A NIK is exactly 16 digits.")},
            )

    def clean(self) -> dict[str, object]:
        data = super().clean()
        for member in self.members:
            name = f"nik_{member.pk}"
            nik = (data.get(name) or "").replace(" ", "")
            try:
                validate_nik(nik)  # the patients' NIK rule: 16 digits, a province, a birth date
            except ValidationError as exc:
                self.add_error(name, exc)
                continue
            if name in data:
                data[name] = nik
        return data

    def niks(self) -> dict[int, str]:
        """The NIKs the page sent (a member added since it was loaded keeps theirs)."""
        return {
            member.pk: self.cleaned_data[f"nik_{member.pk}"]
            for member in self.members
            if f"nik_{member.pk}" in self.data
        }
