"""The owner's SATUSEHAT pages: the connection (and testing it), the visits SATUSEHAT did not take (and
sending them again), the clinic's drug → KFA codes, and the whole-clinic export with its download link.

Visits waiting for the clinic's connection (not connected, SATUSEHAT unreachable, credentials refused)
are not failures: the connection and failures pages say so in a banner about the clinic, above the
failed visits. Kept messages are shown in the reader's language (`satusehat.reasons.for_reader`)."""

import datetime
import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from records.models import Visit
from satusehat import connection as satusehat_connection
from satusehat import export as exports
from satusehat import selectors
from satusehat.forms import ConnectionForm, KfaCodeForm
from satusehat.kfa import kfa_code_set
from satusehat.models import Connection, Export, Reason, SendEvent, VisitSend
from satusehat.reasons import for_reader
from satusehat.sender import retry_failed
from tenants.accounts.access import owner_required

PER_PAGE = 50


def _with_page(url: str, page: str) -> str:
    """Back to the page of the list the person was on."""
    return f"{url}?page={page}" if page.isascii() and page.isdigit() and len(page) < 7 else url


# --- the connection ------------------------------------------------------------------------------


def _connection_initial(current: object | None) -> dict:
    if current is None:
        return {"environment": "sandbox"}
    names = ("environment", "organization_id", "client_id", "location_id", "location_name")
    return {name: getattr(current, name) for name in names}


@owner_required
@sensitive_post_parameters("client_secret")
def connection_page(request: HttpRequest) -> HttpResponse:
    current = satusehat_connection.connection()
    stored = bool(current and current.client_secret_encrypted)
    form = ConnectionForm(request.POST or None, initial=_connection_initial(current), secret_stored=stored)
    if request.method == "POST" and form.is_valid():
        waiting = selectors.send_counts(selectors.clinic_wait(current))["waiting"]
        data = form.cleaned_data
        try:
            with transaction.atomic():
                satusehat_connection.save_connection(
                    user=request.user,
                    environment=data["environment"],
                    organization_id=data["organization_id"],
                    client_id=data["client_id"],
                    client_secret=data["client_secret"],
                    location_id=data["location_id"],
                    location_name=data["location_name"],
                )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            text = _("The SATUSEHAT connection is saved. Test it with “Test the connection”.")
            if waiting:
                text += " " + ngettext(
                    "%(n)d visit that waited for the connection is queued to be sent.",
                    "%(n)d visits that waited for the connection are queued to be sent.",
                    waiting,
                ) % {"n": waiting}
            messages.success(request, text)
            return redirect("satusehat")
    context = {
        "form": form,
        "connection": current,
        "secret_stored": stored,
        **_counts_and_state(current),
        "last_test_message": for_reader(current.last_test_texts, current.last_test_message) if current else "",
    }
    return render(request, "satusehat/connection.html", context, status=400 if form.errors else 200)


@owner_required
@require_POST
def connection_test(request: HttpRequest) -> HttpResponse:
    ok, message = satusehat_connection.test_connection()
    (messages.success if ok else messages.error)(request, message)
    return redirect("satusehat")


# --- the clinic's state: not connected, or held ----------------------------------------------------------


@dataclass(frozen=True)
class ClinicState:
    """What the banner above the SATUSEHAT pages says about the clinic as a whole."""

    kind: str  # '' (nothing to say), Reason.NOT_CONNECTED, Reason.CREDENTIALS or Reason.UNAVAILABLE
    waiting: int  # visits queued, waiting for it
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None  # the next try (SATUSEHAT unreachable)
    message: str = ""  # the kept message, in the reader's language
    due: bool = False  # the next try's time has come: it is being tried now


def clinic_state(current: Connection | None, wait: str, waiting: int) -> ClinicState:
    """What the clinic waits for (`selectors.clinic_wait`), with `waiting` visits waiting for it."""
    if current is None:
        return ClinicState(kind=wait, waiting=waiting)
    if not wait:
        return ClinicState(kind="", waiting=0)
    until = current.hold_until if wait == Reason.UNAVAILABLE else None
    return ClinicState(
        kind=wait,
        waiting=waiting,
        since=current.hold_since,
        until=until,
        message=for_reader(current.hold_texts),
        due=until is not None and until <= timezone.now(),
    )


def _counts_and_state(current: Connection | None) -> dict:
    """The send counts and the clinic's state, for the pages that show both (one count query)."""
    wait = selectors.clinic_wait(current)
    counts = selectors.send_counts(wait)
    return {"counts": counts, "clinic_state": clinic_state(current, wait, counts["waiting"])}


# --- failures -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Try:
    at: datetime.datetime
    outcome: str  # sent, retry, failed
    message: str  # in the reader's language


@dataclass(frozen=True)
class FailureRow:
    send: VisitSend
    visit: Visit | None
    reason: str  # in the reader's language
    fix_url: str  # where the reason is mended ('' when it is SATUSEHAT's to read)
    fix_label: str
    tries: list[Try]  # the latest, newest first
    partly_sent: bool  # everything but the drugs without a KFA code was sent


def _fix(send: VisitSend, visit: Visit | None) -> tuple[str, str]:
    code = send.reason_code
    if code in Reason.PATIENT and visit is not None:
        return f"{reverse('pwa')}#/patient/{visit.patient_id}", _("Open the patient in the app")
    if code == Reason.NO_PRACTITIONER and visit is not None:
        return f"{reverse('pwa')}#/visit/{visit.pk}", _("Choose the visit's practitioner in the app")
    if code in Reason.PRACTITIONER:
        return f"{reverse('clinic_settings')}#nik-numbers", _("Set the practitioner's NIK")
    if code == Reason.NO_KFA:
        return reverse("satusehat_kfa"), _("Set the drugs' KFA codes")
    if code == Reason.INVALID:
        return reverse("satusehat_kfa"), _("Drug codes (KFA)")
    return "", ""


def _try(event: SendEvent) -> Try:
    return Try(at=event.at, outcome=event.outcome, message=for_reader(event.message_texts, event.message))


def _failure_rows(sends: list[VisitSend]) -> list[FailureRow]:
    visits = selectors.visits_by_id(send.visit_id for send in sends)
    events = selectors.events_by_visit(send.visit_id for send in sends)
    rows = []
    for send in sends:
        visit = visits.get(send.visit_id)
        url, label = _fix(send, visit)
        rows.append(
            FailureRow(
                send=send,
                visit=visit,
                reason=for_reader(send.reason_texts, send.reason),
                fix_url=url,
                fix_label=label,
                tries=[_try(event) for event in events.get(send.visit_id, [])],
                partly_sent=send.reason_code == Reason.NO_KFA,
            )
        )
    return rows


@owner_required
def failures_page(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.failed_sends(), PER_PAGE).get_page(request.GET.get("page"))
    current = satusehat_connection.connection()
    context = {
        "page": page,
        "rows": _failure_rows(list(page.object_list)),
        **_counts_and_state(current),
        "days": selectors.visits_per_day(),
    }
    return render(request, "satusehat/failures.html", context)


@owner_required
@require_POST
def failures_retry(request: HttpRequest) -> HttpResponse:
    ids: list[uuid.UUID] | None = None  # every failed visit
    if not request.POST.get("all"):
        try:
            ids = [uuid.UUID(request.POST.get("visit", ""))]
        except ValueError:
            raise Http404 from None
    with transaction.atomic():
        queued = retry_failed(ids)
    if queued:
        messages.success(
            request,
            ngettext("%(n)d visit is queued to be sent again.", "%(n)d visits are queued to be sent again.", queued)
            % {"n": queued},
        )
    else:
        messages.error(request, _("Nothing to send again: those visits are no longer failed."))
    return redirect(_with_page(reverse("satusehat_failures"), request.POST.get("page", "")))


# --- drug codes ------------------------------------------------------------------------------------------


@owner_required
def kfa_page(request: HttpRequest) -> HttpResponse:
    form = KfaCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        queued = kfa_code_set(drug=data["drug"], code=data["code"], display=data["display"], by=request.user)
        text = _("“%(drug)s” is coded %(code)s.") % {"drug": data["drug"], "code": data["code"]}
        if queued:
            text += " " + ngettext(
                "%(n)d visit SATUSEHAT could not take is queued to be sent again.",
                "%(n)d visits SATUSEHAT could not take are queued to be sent again.",
                queued,
            ) % {"n": queued}
        messages.success(request, text)
        return redirect(_with_page(reverse("satusehat_kfa"), request.GET.get("page", "")))
    drugs = selectors.prescribed_drugs()
    page = Paginator(drugs, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "form": form,
        "failed_drug": form.data.get("drug", "") if form.errors else "",
        "unmapped": sum(1 for drug in drugs if not drug.code),
        "total": len(drugs),
    }
    return render(request, "satusehat/kfa.html", context, status=400 if form.errors else 200)


# --- the export ---------------------------------------------------------------------------------------------


@owner_required
@never_cache
def export_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            exports.export_start(by=request.user)
        except exports.ExportBusyError:
            messages.error(request, _("An export is already being made. Wait for it to finish."))
        return redirect("satusehat_export")
    recent = list(selectors.recent_exports())
    latest = recent[0] if recent else None
    link = ""
    if latest is not None and latest.state == Export.State.DONE:
        # The link is shown once: the first time the page sees the export finished.
        token = exports.export_link_token(latest)
        if token:
            link = request.build_absolute_uri(reverse("satusehat_export_download", args=[latest.pk, token]))
    context = {
        "latest": latest,
        "recent": recent[1:],
        "link": link,
        "working": latest is not None and latest.state in (Export.State.QUEUED, Export.State.RUNNING),
        "expired": latest is not None and latest.expires_at is not None and latest.expires_at <= timezone.now(),
    }
    return render(request, "satusehat/export.html", context)


@owner_required
@require_POST
def export_new_link(request: HttpRequest, export_id: uuid.UUID) -> HttpResponse:
    export = Export.objects.filter(pk=export_id).first()
    if export is None:
        raise Http404
    token = exports.export_link_token(export, replace=True)
    if token is None:
        messages.error(request, _("This export has expired. Start a new export."))
        return redirect("satusehat_export")
    link = request.build_absolute_uri(reverse("satusehat_export_download", args=[export.pk, token]))
    messages.success(request, _("A new download link is made; the one shown before no longer works."))
    return render(
        request,
        "satusehat/export.html",
        {"latest": export, "recent": [], "link": link, "working": False, "expired": False},
    )


@owner_required
@never_cache
def export_download(request: HttpRequest, export_id: uuid.UUID, token: str) -> HttpResponse:
    found = exports.export_download(export_id, token)
    if found.export is None:
        raise Http404(_("This download link is not valid. Make a new link on the export page."))
    if found.expired:
        return render(request, "satusehat/export_expired.html", {"export": found.export}, status=410)
    response = StreamingHttpResponse(exports.export_chunks(found.export), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=found.export.file_name or f"{found.export.pk}.zip"
    )
    if found.export.size_bytes:
        response["Content-Length"] = str(found.export.size_bytes)
    return response
