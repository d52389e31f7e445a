"""The waiting-room display (a TV or tablet with no sign-in, reached by a display link) and the owner's
page of display links: create one, see when each was last used, revoke it."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from records import queue
from records.models import DisplayLink
from tenants.accounts.access import owner_required


class DisplayLinkForm(forms.Form):
    label = forms.CharField(
        label=gettext_lazy("Name of the screen"),
        max_length=100,
        help_text=gettext_lazy("Where it hangs, e.g. “TV ruang tunggu”."),
    )


@owner_required
def display_links_page(request: HttpRequest) -> HttpResponse:
    form = DisplayLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        link, token = queue.display_link_create(label=form.cleaned_data["label"], user=request.user)
        # The secret is shown once, on the page this redirect leads to, and never stored in the clear.
        request.session["new_display_link"] = request.build_absolute_uri(reverse("queue_display", args=[token]))
        messages.success(request, _("The display link “%(name)s” is ready.") % {"name": link.label})
        return redirect("queue_display_links")
    context = {
        "form": form,
        "links": queue.display_links(),
        "new_link": request.session.pop("new_display_link", None),
        "first_names": request.tenant.display_first_names,
    }
    return render(request, "records/display_links.html", context)


@owner_required
@require_POST
def display_link_revoke(request: HttpRequest, link_id: int) -> HttpResponse:
    link = DisplayLink.objects.filter(pk=link_id).first()
    if link is None:
        raise Http404
    queue.display_link_revoke(link=link, user=request.user)
    messages.success(request, _("“%(name)s” no longer shows the queue.") % {"name": link.label})
    return redirect("queue_display_links")


def _link_or_404(token: str) -> DisplayLink:
    link = queue.display_link_for(token)
    if link is None:
        raise Http404(_("This display link is not valid: it was revoked or mistyped. Ask the clinic's owner."))
    return link


@never_cache
def display_page(request: HttpRequest, token: str) -> HttpResponse:
    _link_or_404(token)
    with translation.override("id"):  # the waiting room hears and reads Indonesian, whatever the TV's language
        return render(
            request,
            "records/display.html",
            {"calls_url": reverse("queue_display_calls", args=[token]), "clinic_name": request.tenant.name},
        )


@never_cache
def display_calls(request: HttpRequest, token: str) -> JsonResponse:
    link = queue.display_link_for(token)
    if link is None:
        return JsonResponse({"detail": _("This display link was revoked.")}, status=404)
    queue.display_link_used(link)
    calls = queue.calls_today(first_names=request.tenant.display_first_names)
    return JsonResponse(
        {
            "calls": [
                {
                    "key": call.key,
                    "number": call.number,
                    "practitioner": call.practitioner,
                    "first_name": call.first_name,
                    "called_at": call.called_at.isoformat(),
                }
                for call in calls
            ]
        }
    )
