"""Clinic pages about people and the clinic: home, staff and invitations (resend, revoke, role, active),
accepting an invitation, security, and the clinic's settings. Each change an owner makes asks first
(a confirmation page) where it reaches other people, and is logged by the service."""

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
from tenants.accounts.forms import (
    AcceptInvitationForm,
    ClinicSettingsForm,
    InvitationForm,
    NikNumbersForm,
    RoleForm,
    SecurityForm,
    SipNumbersForm,
)
from tenants.accounts.models import Invitation, User
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
            _send_invitation(request, sent)
            return redirect("staff")
    context = {
        "form": form,
        "staff": selectors.staff_list(),
        "invitations": selectors.invitations_pending(),
        "revoked_invitations": selectors.invitations_revoked_recently(),
        "owner_actions": selectors.owner_actions(),
        "security_form": SecurityForm(initial={"require_two_factor": request.tenant.require_two_factor}),
    }
    return render(request, "accounts/staff.html", context, status=400 if form.errors else 200)


def _send_invitation(request: HttpRequest, sent: services.InvitationSent) -> None:
    """Email the invitation's link; if the email cannot go, show the owner the link to pass on."""
    accept_url = request.build_absolute_uri(reverse("invitation_accept", args=[sent.token]))
    try:
        services.invitation_send_email(sent=sent, clinic_name=request.tenant.name, accept_url=accept_url)
    except (OSError, smtplib.SMTPException):
        logger.exception("invitation email could not be sent")
        messages.warning(
            request,
            _("The invitation is saved but the email could not be sent. Give %(email)s this link yourself: %(url)s")
            % {"email": sent.invitation.email, "url": accept_url},
        )
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": sent.invitation.email})


def _member_or_404(user_id: int) -> User:
    member = selectors.staff_member_get(user_id=user_id)
    if member is None:
        raise Http404
    return member


@owner_required
def staff_set_active(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET: what deactivating (or reactivating) means, and a button; POST: do it."""
    member = _member_or_404(user_id)
    if request.method != "POST":
        return render(request, "accounts/staff_active_confirm.html", {"member": member})
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(user=member, active=active, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if active:
            messages.success(request, _("%(name)s can sign in again.") % {"name": member})
        else:
            messages.success(request, _("%(name)s is deactivated and can no longer sign in.") % {"name": member})
    return redirect("staff")


@owner_required
def staff_role(request: HttpRequest, user_id: int) -> HttpResponse:
    """Change a person's role, after a page that says their devices will reload what they may hold."""
    member = _member_or_404(user_id)
    form = RoleForm(request.POST or None, initial={"role": member.role})
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_role(user=member, role=form.cleaned_data["role"], by=request.user)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            member.refresh_from_db(fields=["role"])
            messages.success(
                request,
                _("%(name)s is now %(role)s. Their devices reload what they may hold on their next sync.")
                % {"name": member, "role": member.get_role_display()},
            )
            return redirect("staff")
    status = 400 if form.errors else 200
    return render(request, "accounts/staff_role.html", {"form": form, "member": member}, status=status)


def _invitation_or_404(invitation_id: int) -> Invitation:
    invitation = selectors.invitation_get(invitation_id=invitation_id)
    if invitation is None:
        raise Http404
    return invitation


@owner_required
@require_POST
def invitation_resend(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        sent = services.invitation_resend(invitation=_invitation_or_404(invitation_id), by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        _send_invitation(request, sent)
    return redirect("staff")


@owner_required
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """GET: a confirmation; POST: the invitation's link stops working."""
    invitation = _invitation_or_404(invitation_id)
    if request.method != "POST":
        return render(request, "accounts/invitation_revoke_confirm.html", {"invitation": invitation})
    try:
        services.invitation_revoke(invitation=invitation, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("The invitation to %(email)s is revoked: its link no longer works.") % {"email": invitation.email},
        )
    return redirect("staff")


@owner_required
def clinic_settings(request: HttpRequest) -> HttpResponse:
    """The clinic's name, address, phone, licence number, queue options, practitioners' SIP numbers and
    NIKs."""
    clinic = request.tenant
    practitioners = list(selectors.practitioners())
    initial = {name: getattr(clinic, name) for name in services.CLINIC_SETTINGS_FIELDS}
    data = request.POST if request.method == "POST" else None
    form = ClinicSettingsForm(data, initial=initial)
    sip_form = SipNumbersForm(data, practitioners=practitioners)
    nik_form = NikNumbersForm(data, members=list(selectors.nik_holders()))
    # Every form checked, so each shows its errors at once.
    if request.method == "POST" and all([form.is_valid(), sip_form.is_valid(), nik_form.is_valid()]):
        services.clinic_settings_update(
            clinic=clinic,
            by=request.user,
            values=form.cleaned_data,
            sip_numbers=sip_form.numbers(),
            niks=nik_form.niks(),
        )
        messages.success(request, _("The clinic's settings are saved. The app shows them after its next sync."))
        return redirect("clinic_settings")
    status = 400 if form.errors or sip_form.errors or nik_form.errors else 200
    context = {"form": form, "sip_form": sip_form, "nik_form": nik_form, "has_practitioners": bool(practitioners)}
    return render(request, "accounts/settings.html", context, status=status)


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
