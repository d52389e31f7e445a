"""The owner's devices page: every installed app of the clinic's staff (who, which browser, first and
last seen, revoked or not, how far behind) and revoking one after a confirmation."""

import re
from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.db.models import F, Func, OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from records.models import Revision
from sync import services
from sync.models import Device
from tenants.accounts import selectors as accounts_selectors
from tenants.accounts import services as accounts_services
from tenants.accounts.access import owner_required
from tenants.accounts.models import OwnerAction

# Most specific first: Edge and Samsung Internet also say "Chrome", Chrome also says "Safari".
_BROWSERS = [
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/(\d+)")),
    ("Opera", re.compile(r"(?:OPR|Opera)/(\d+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)(?:\.\d+)*.*Safari/")),
]
_SYSTEMS = [
    ("Android", re.compile(r"Android")),
    ("iPadOS", re.compile(r"iPad")),
    ("iOS", re.compile(r"iPhone|iPod")),
    ("Windows", re.compile(r"Windows")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("Linux", re.compile(r"Linux")),
]


def readable_user_agent(user_agent: str) -> str:
    """'Chrome 131 on Android' from a browser's User-Agent; '' when it names neither browser nor system."""
    browser = next(
        (f"{name} {found.group(1)}" for name, pattern in _BROWSERS if (found := pattern.search(user_agent))), ""
    )
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), "")
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system


@dataclass(frozen=True)
class DeviceRow:
    device: Device
    browser: str
    revoked_by: str  # '' when not known (revoked before the owners' log, or through the API)
    changes_since: int | None  # changes at the clinic by others since it was last seen; None if revoked


def _devices() -> QuerySet[Device]:
    # What others changed at the clinic since the device last synced: what it has not pulled yet, at most.
    since = (
        Revision.objects.filter(at__gt=OuterRef("last_seen"))
        .exclude(device_id=OuterRef("pk"))
        .order_by()
        .annotate(n=Func(F("id"), function="COUNT"))
        .values("n")
    )
    return Device.objects.select_related("user").annotate(changes_since=Subquery(since)).order_by("-last_seen")


def _rows() -> list[DeviceRow]:
    devices = list(_devices())
    revocations = accounts_selectors.device_revocations([device.pk for device in devices])
    return [
        DeviceRow(
            device=device,
            browser=readable_user_agent(device.user_agent) or _("Unknown browser"),
            revoked_by=(revocations[device.pk].by.full_name if device.pk in revocations else ""),
            changes_since=None if device.revoked_at else device.changes_since,
        )
        for device in devices
    ]


@owner_required
def devices_page(request: HttpRequest) -> HttpResponse:
    return render(request, "sync/devices.html", {"rows": _rows()})


@owner_required
def device_revoke(request: HttpRequest, device_id: str) -> HttpResponse:
    """GET: what revoking means, and a button; POST: the device's pushes and pulls are refused from now."""
    device = Device.objects.select_related("user").filter(pk=device_id).first()
    if device is None:
        raise Http404
    if request.method != "POST":
        row = DeviceRow(device, readable_user_agent(device.user_agent) or _("Unknown browser"), "", None)
        return render(request, "sync/device_revoke_confirm.html", {"row": row})
    if device.revoked_at is None:
        with transaction.atomic():
            services.device_revoke(device=device)
            accounts_services.owner_action_record(
                kind=OwnerAction.Kind.DEVICE_REVOKED, by=request.user, member=device.user, device_id=device.pk
            )
        messages.success(
            request,
            _("The device of %(name)s is revoked. It can no longer send or receive the clinic's records.")
            % {"name": device.user.full_name},
        )
    return redirect("devices")
