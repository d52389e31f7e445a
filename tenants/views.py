"""Public pages of the platform: the landing page and clinic signup."""

from allauth.core import ratelimit
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from config.form_errors import add_validation_error
from tenants.forms import ClinicSignupForm
from tenants.services import clinic_signup
from tenants.urls_util import clinic_url


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/landing.html")


def signup(request: HttpRequest) -> HttpResponse:
    form = ClinicSignupForm(request.POST or None)
    if request.method == "POST" and not ratelimit.consume(request, action="clinic_signup"):
        form.add_error(None, _("Too many clinics were registered from your network. Please try again later."))
        return render(request, "tenants/signup.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        try:
            result = clinic_signup(**form.cleaned_data)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            return redirect(clinic_url(request, result.clinic.subdomain, "/accounts/login/?welcome=1"))
    return render(request, "tenants/signup.html", {"form": form}, status=400 if form.errors else 200)
