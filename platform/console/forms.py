"""Forms of the operator console."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ClinicStatusForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("suspend", _("Suspend")), ("reactivate", _("Reactivate"))], widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the clinic's history for operators; the clinic's staff do not see it."),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if data.get("action") == "suspend" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Please give a reason for suspending the clinic."))
        return data


class ReactivateForm(ClinicStatusForm):
    """Reactivating is one step; a reason may be given."""

    reason = forms.CharField(
        label=_("Reason (optional)"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
