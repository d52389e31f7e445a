"""Clinic pages about people: home, staff and invitations, accepting an invitation, security."""

import logging
import smtplib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.form_errors import add_validation_error
from tenants.accounts import selectors, services
from tenants.accounts.access import clinic_staff_required, owner_required
from tenants.accounts.forms import AcceptInvitationForm, InvitationForm, SecurityForm
from tenants.services import clinic_set_two_factor_required

logger = logging.getLogger(__name__)


@clinic_staff_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html", {"has_totp": selectors.user_has_totp(request.user)})


@owner_required
def staff(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = services.invitation_create(invited_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            accept_url = request.build_absolute_uri(reverse("invitation_accept", args=[sent.token]))
            try:
                services.invitation_send_email(sent=sent, clinic_name=request.tenant.name, accept_url=accept_url)
            except (OSError, smtplib.SMTPException):
                logger.exception("invitation email could not be sent")
                messages.warning(
                    request,
                    _(
                        "The invitation is saved but the email could not be sent. Give %(email)s this link "
                        "yourself: %(url)s"
                    )
                    % {"email": sent.invitation.email, "url": accept_url},
                )
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": sent.invitation.email})
            return redirect("staff")
    context = {
        "form": form,
        "staff": selectors.staff_list(),
        "invitations": selectors.invitations_pending(),
        "security_form": SecurityForm(initial={"require_two_factor": request.tenant.require_two_factor}),
    }
    return render(request, "accounts/staff.html", context, status=400 if form.errors else 200)


@owner_required
@require_POST
def staff_set_active(request: HttpRequest, user_id: int) -> HttpResponse:
    member = selectors.staff_member_get(user_id=user_id)
    if member is None:
        raise Http404
    try:
        services.user_set_active(user=member, active=request.POST.get("active") == "1", by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("staff")


@owner_required
@require_POST
def security(request: HttpRequest) -> HttpResponse:
    form = SecurityForm(request.POST)
    if form.is_valid():
        clinic_set_two_factor_required(clinic=request.tenant, required=form.cleaned_data["require_two_factor"])
        messages.success(request, _("Security settings saved."))
    return redirect("staff")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_get_by_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = AcceptInvitationForm(request.POST or None, initial={"full_name": invitation.full_name})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                invitation=invitation,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as exc:
            add_validation_error(form, exc, field_map={"password": "password1"})
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(settings.LOGIN_REDIRECT_URL)  # the clinic app, where signing in lands
    status = 400 if form.errors else 200
    return render(request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}, status=status)
