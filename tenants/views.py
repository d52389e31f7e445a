"""Public pages of the platform: the landing page and clinic signup."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tenants.forms import ClinicSignupForm
from tenants.services import clinic_signup
from tenants.urls_util import clinic_url


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/landing.html")


def signup(request: HttpRequest) -> HttpResponse:
    form = ClinicSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = clinic_signup(**form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect(clinic_url(request, result.clinic.subdomain, "/accounts/login/?welcome=1"))
    return render(request, "tenants/signup.html", {"form": form}, status=400 if form.errors else 200)
