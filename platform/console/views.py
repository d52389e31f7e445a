"""Operator console pages: the list of clinics and suspending or reactivating one."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.access import operator_required
from console.forms import ClinicStatusForm
from tenants.models import Clinic
from tenants.selectors import clinic_get_for_console, clinic_summaries, clinics_for_console
from tenants.services import clinic_set_status
from tenants.urls_util import clinic_url

PAGE_SIZE = 50


@operator_required
def clinic_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(clinics_for_console(), PAGE_SIZE).get_page(request.GET.get("page"))
    summaries = clinic_summaries(list(page.object_list))
    rows = [(summary, clinic_url(request, summary.clinic.subdomain)) for summary in summaries]
    return render(request, "console/clinic_list.html", {"page": page, "rows": rows})


@operator_required
@require_POST
def clinic_status(request: HttpRequest, clinic_id: int) -> HttpResponse:
    try:
        clinic = clinic_get_for_console(clinic_id)
    except Clinic.DoesNotExist as exc:
        raise Http404 from exc
    form = ClinicStatusForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("console:clinics")
    status = Clinic.Status.SUSPENDED if form.cleaned_data["action"] == "suspend" else Clinic.Status.ACTIVE
    clinic_set_status(
        clinic=clinic, status=status, operator_email=request.user.email, reason=form.cleaned_data["reason"]
    )
    if status == Clinic.Status.SUSPENDED:
        messages.success(request, _("%(clinic)s is suspended.") % {"clinic": clinic.name})
    else:
        messages.success(request, _("%(clinic)s is active again.") % {"clinic": clinic.name})
    return redirect("console:clinics")
