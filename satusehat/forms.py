"""The owner's SATUSEHAT forms: the connection (the client secret is never filled back; each field says
where the SATUSEHAT portal shows it) and a drug's KFA code."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from satusehat.models import Connection

_ID = re.compile(r"^[A-Za-z0-9._-]+$")
_KFA_CODE = re.compile(r"^\d{8,20}$")


class ConnectionForm(forms.Form):
    """Each field says in plain words what it is and where the SATUSEHAT portal shows it."""

    environment = forms.ChoiceField(
        label=_("Environment"),
        choices=Connection.Environment.choices,
        help_text=_(
            "Sandbox is SATUSEHAT's practice area: nothing sent there counts. Choose production once the "
            "SATUSEHAT portal shows the clinic's production codes."
        ),
    )
    organization_id = forms.CharField(
        label=_("Organization ID"),
        max_length=64,
        help_text=_(
            "The clinic's number in SATUSEHAT, for example 100026489. Sign in at "
            "satusehat.kemkes.go.id/platform and open the API access codes page (Kode Akses API): it is "
            "listed there as Organization ID."
        ),
    )
    client_id = forms.CharField(
        label=_("Client ID"),
        max_length=200,
        help_text=_(
            "Like a user name for this app. On the same API access codes page, for the environment chosen "
            "above: Client ID (sometimes called Client Key). Copy it whole."
        ),
    )
    client_secret = forms.CharField(
        label=_("Client secret"),
        max_length=500,
        required=False,
        # Never rendered with a value: the stored secret stays on the server.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    location_id = forms.CharField(
        label=_("Location ID"),
        max_length=64,
        help_text=_(
            "SATUSEHAT's code for the room where patients are examined (its Location), a long code such as "
            "ef011065-38c9-46f8-9c35-d1fe68966a3e. SATUSEHAT gives it when the room is registered; whoever "
            "registered the clinic with SATUSEHAT (your IT person or vendor) has it."
        ),
    )
    location_name = forms.CharField(
        label=_("Location name"),
        max_length=200,
        required=False,
        help_text=_("The room's name as people know it, for example “Poli Umum, Lantai 1”. Optional."),
    )

    def __init__(self, *args: object, secret_stored: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.secret_stored = secret_stored
        secret = self.fields["client_secret"]
        if secret_stored:
            secret.help_text = _(
                "A secret is stored. Leave this blank to keep it; type one only when the portal gives the "
                "clinic a new one."
            )
        else:
            secret.help_text = _(
                "Like a password for this app. On the same API access codes page, beside the client ID: Client "
                "Secret (sometimes called Secret Key). It is stored encrypted and never shown again."
            )

    def _identifier(self, name: str) -> str:
        value = self.cleaned_data[name].strip()
        if not _ID.fullmatch(value):
            raise forms.ValidationError(
                _("Copy it as SATUSEHAT shows it: letters, digits, dots, dashes and underscores only, no spaces.")
            )
        return value

    def clean_organization_id(self) -> str:
        return self._identifier("organization_id")

    def clean_client_id(self) -> str:
        return self._identifier("client_id")

    def clean_location_id(self) -> str:
        return self._identifier("location_id")

    def clean_location_name(self) -> str:
        return self.cleaned_data["location_name"].strip()

    def clean_client_secret(self) -> str | None:
        secret = self.cleaned_data["client_secret"].strip()
        if not secret and not self.secret_stored:
            raise forms.ValidationError(_("Enter the client secret: none is stored yet."))
        return secret or None


class KfaCodeForm(forms.Form):
    drug = forms.CharField(widget=forms.HiddenInput, max_length=200)
    code = forms.CharField(
        label=_("KFA code"),
        max_length=40,  # spaces typed between groups of digits are taken out
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    display = forms.CharField(label=_("KFA name"), max_length=300)

    def clean_code(self) -> str:
        code = re.sub(r"\s+", "", self.cleaned_data["code"])
        if not _KFA_CODE.fullmatch(code):
            raise forms.ValidationError(_("A KFA code is 8 to 20 digits, for example 93000282."))
        return code

    def clean_display(self) -> str:
        return " ".join(self.cleaned_data["display"].split())
