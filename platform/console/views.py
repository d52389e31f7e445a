"""Operator console pages: the clinics (search, sort), one clinic's page, suspending and reactivating.

No page here shows patient content: only counts, the owners' names and emails, and the status history.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from console.access import operator_required
from console.forms import ClinicStatusForm, ReactivateForm
from console.usage import usage_recount
from tenants.models import Clinic
from tenants.selectors import clinic_detail, clinic_get_for_console, clinic_summaries, clinics_for_console, sort_key
from tenants.services import clinic_set_status
from tenants.urls_util import clinic_url

PAGE_SIZE = 50

# The list's sortable columns, and the sorts offered in its menu (for phones, where headers are hidden).
SORT_COLUMNS = [
    ("name", gettext_lazy("Clinic")),
    ("created", gettext_lazy("Created")),
    ("activity", gettext_lazy("Last activity")),
    ("patients", gettext_lazy("Patients")),
    ("visits", gettext_lazy("Visits this month")),
]
SORT_CHOICES = [
    ("name", gettext_lazy("Name, A to Z")),
    ("-name", gettext_lazy("Name, Z to A")),
    ("-created", gettext_lazy("Newest first")),
    ("created", gettext_lazy("Oldest first")),
    ("-activity", gettext_lazy("Most recently active")),
    ("activity", gettext_lazy("Least recently active")),
    ("-patients", gettext_lazy("Most patients")),
    ("patients", gettext_lazy("Fewest patients")),
    ("-visits", gettext_lazy("Most visits this month")),
    ("visits", gettext_lazy("Fewest visits this month")),
]


def _headers(sort: str) -> list[dict[str, object]]:
    """Each sortable column: its label, the sort a click asks for, and whether it is the current one."""
    headers = []
    for key, label in SORT_COLUMNS:
        state = "asc" if sort == key else "desc" if sort == f"-{key}" else ""
        if state == "asc":
            following = f"-{key}"
        elif state == "desc":
            following = key
        else:  # a first click: names from A, figures from the largest
            following = key if key == "name" else f"-{key}"
        headers.append({"key": key, "label": label, "sort": following, "state": state})
    return headers


@operator_required
@require_GET
def clinic_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    sort = sort_key(request.GET.get("sort"))
    page = Paginator(clinics_for_console(search=search, sort=sort), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(summary, clinic_url(request, summary.clinic.subdomain)) for summary in clinic_summaries(page.object_list)]
    context = {
        "page": page,
        "rows": rows,
        "search": search,
        "sort": sort,
        "headers": _headers(sort),
        "sort_choices": SORT_CHOICES,
    }
    return render(request, "console/clinic_list.html", context)


def _clinic_or_404(clinic_id: int) -> Clinic:
    try:
        return clinic_get_for_console(clinic_id)
    except Clinic.DoesNotExist as exc:
        raise Http404 from exc


@operator_required
@require_GET
def clinic_page(request: HttpRequest, clinic_id: int) -> HttpResponse:
    clinic = _clinic_or_404(clinic_id)
    clinic.usage = usage_recount(clinic)  # one clinic per request: its counts are repaired as it is looked at
    context = {
        "clinic_row": clinic,
        "detail": clinic_detail(clinic),
        "site_url": clinic_url(request, clinic.subdomain),
        "reactivate_form": ReactivateForm(initial={"action": "reactivate"}),
    }
    return render(request, "console/clinic_detail.html", context)


def _render_confirm(request: HttpRequest, clinic: Clinic, form: ClinicStatusForm, status: int = 200) -> HttpResponse:
    return render(request, "console/clinic_suspend.html", {"clinic_row": clinic, "form": form}, status=status)


@operator_required
@require_GET
def clinic_suspend_confirm(request: HttpRequest, clinic_id: int) -> HttpResponse:
    clinic = _clinic_or_404(clinic_id)
    if clinic.is_suspended:
        messages.info(request, _("%(clinic)s is already suspended.") % {"clinic": clinic.name})
        return redirect("console:clinic", clinic_id=clinic.pk)
    return _render_confirm(request, clinic, ClinicStatusForm(initial={"action": "suspend"}))


@operator_required
@require_POST
def clinic_status(request: HttpRequest, clinic_id: int) -> HttpResponse:
    clinic = _clinic_or_404(clinic_id)
    form = ClinicStatusForm(request.POST)
    if not form.is_valid():
        if request.POST.get("action") == "suspend":
            return _render_confirm(request, clinic, form, status=400)
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("console:clinic", clinic_id=clinic.pk)
    status = Clinic.Status.SUSPENDED if form.cleaned_data["action"] == "suspend" else Clinic.Status.ACTIVE
    clinic_set_status(
        clinic=clinic, status=status, operator_email=request.user.email, reason=form.cleaned_data["reason"]
    )
    if status == Clinic.Status.SUSPENDED:
        messages.success(request, _("%(clinic)s is suspended.") % {"clinic": clinic.name})
    else:
        messages.success(request, _("%(clinic)s is active again.") % {"clinic": clinic.name})
    return redirect("console:clinic", clinic_id=clinic.pk)
