"""The app's read of visits' SATUSEHAT send state (GET /satusehat/api/visits/?ids=...): not sent, queued,
waiting for the clinic's connection (not a failure), sent (when), failed (why). Every member of staff
may read it; front desk gets the reason in general words only, since a refusal may name a drug or a
diagnosis; only the owner sends a visit again, so the others are told to ask them."""

import datetime
import uuid

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records.access import CLINICAL_READERS
from records.api import DEVICE_HEADER
from satusehat import connection as satusehat_connection
from satusehat import selectors
from satusehat.models import Connection, Reason, VisitSend
from satusehat.reasons import for_reader
from tenants.accounts.models import Role

MAX_IDS = 100
NOT_SENT = "not_sent"

# Front desk's words for why a send failed: none names anything clinical.
GENERAL_REASONS = {
    Reason.NO_NIK: gettext_lazy("The patient's NIK is missing: add it to the patient's details."),
    Reason.PATIENT_UNKNOWN: gettext_lazy("SATUSEHAT does not know the patient's NIK: check it against the KTP."),
    Reason.NO_PRACTITIONER: gettext_lazy("The visit has no practitioner: choose one on the visit."),
    Reason.PRACTITIONER_NO_NIK: gettext_lazy("The practitioner's NIK is missing; the clinic's owner adds it."),
    Reason.PRACTITIONER_UNKNOWN: gettext_lazy(
        "SATUSEHAT does not know the practitioner's NIK; the clinic's owner checks it."
    ),
    Reason.NO_KFA: gettext_lazy(
        "Sent, except the prescriptions: a drug has no KFA code yet; the clinic's owner adds it and the rest "
        "is sent by itself."
    ),
}
GENERAL_REASON = gettext_lazy("SATUSEHAT did not take the visit; the clinic's owner sees why on the SATUSEHAT page.")

# What a visit waits for, in everyone's words: the owner is told what to do, the others who does it.
WAITING_FOR_OWNER = {
    Reason.NOT_CONNECTED: gettext_lazy(
        "The clinic is not connected to SATUSEHAT yet. Connect it on the SATUSEHAT page; the visit is then "
        "sent by itself."
    ),
    Reason.CREDENTIALS: gettext_lazy(
        "SATUSEHAT refused the clinic's client ID or secret. Check them on the SATUSEHAT page; the visit is "
        "sent by itself once they work."
    ),
}
WAITING_FOR_OTHERS = {
    Reason.NOT_CONNECTED: gettext_lazy(
        "The clinic is not connected to SATUSEHAT yet; the clinic's owner connects it, and the visit is "
        "then sent by itself."
    ),
    Reason.CREDENTIALS: gettext_lazy(
        "SATUSEHAT refused the clinic's credentials; the clinic's owner checks them, and the visit is sent "
        "by itself once they work."
    ),
}
WAITING_UNAVAILABLE = gettext_lazy("SATUSEHAT cannot be reached at the moment; the visit is tried again by itself.")

# Failures mended outside the record (the patient registers with SATUSEHAT; SATUSEHAT's own refusal):
# the visit is sent again by hand, which only the owner can do.
OWNER_SENDS_AGAIN = (Reason.PATIENT_UNKNOWN, Reason.REFUSED)
ASK_THE_OWNER = gettext_lazy(
    "A corrected record is sent again by itself. If nothing in it had to change (the patient has since registered "
    "with SATUSEHAT), ask the clinic's owner to send the visit again from the SATUSEHAT page."
)


# The kept reason of a visit sent but for its drugs tells how to map them, on a page only the owner opens.
OWNER_SETS_KFA = gettext_lazy(
    "Only the clinic's owner can set a drug's KFA code: ask them; the prescriptions are then sent by themselves."
)


class VisitStateOutput(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(
        [NOT_SENT, *VisitSend.State.values],
        help_text=(
            "not_sent: not finished, or not queued yet; queued: to be sent (see `waiting`); sent; failed (see reason)."
        ),
    )
    waiting = serializers.BooleanField(
        help_text=(
            "True when the visit is queued but waits for the clinic's connection: not connected yet "
            "(reason_code not_connected), SATUSEHAT unreachable (unavailable) or refusing the clinic's "
            "credentials (credentials). Not a failure: it is sent by itself once that is over."
        )
    )
    reason_code = serializers.CharField(
        help_text=(
            "Why it failed or waits ('' otherwise): not_connected, unavailable, credentials, no_nik, "
            "patient_unknown, no_practitioner, practitioner_no_nik, practitioner_unknown, invalid, refused, "
            "no_kfa (failed, but all except the drugs without a KFA code was sent)."
        )
    )
    reason = serializers.CharField(
        help_text=(
            "Why it failed or waits ('' otherwise), in the request's language; front desk's in general words. "
            "Staff other than the owner are told to ask the owner where the visit must be sent again by hand."
        )
    )
    sent_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(
        allow_null=True, help_text="When a waiting visit is tried next, when known (SATUSEHAT unreachable)."
    )
    attempts = serializers.IntegerField(help_text="Tries since it was last queued.")


class VisitStatesOutput(serializers.Serializer):
    visits = VisitStateOutput(many=True)


def _ids(raw: str) -> list[uuid.UUID]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts:
        raise ValidationError({"ids": [_("Give the visits' ids, separated by commas.")]})
    if len(parts) > MAX_IDS:
        raise ValidationError({"ids": [_("Ask for at most %(n)d visits at a time.") % {"n": MAX_IDS}]})
    try:
        return list(dict.fromkeys(uuid.UUID(part) for part in parts))
    except ValueError:
        raise ValidationError({"ids": [_("Each id must be a visit's UUID.")]}) from None


def waiting_for(send: VisitSend, wait: str) -> str:
    """What a queued visit waits for ('' if it is simply queued): the clinic's wait (`clinic_wait`), or
    its own try that found SATUSEHAT down."""
    if send.state != VisitSend.State.QUEUED:
        return ""
    if wait:
        return wait
    return Reason.UNAVAILABLE if send.reason_code == Reason.UNAVAILABLE else ""


def _waiting_reason(code: str, role: str) -> str:
    if code == Reason.UNAVAILABLE:
        return str(WAITING_UNAVAILABLE)
    words = WAITING_FOR_OWNER if role == Role.OWNER else WAITING_FOR_OTHERS
    return str(words[code])


def _reason(send: VisitSend, role: str) -> str:
    if send.state != VisitSend.State.FAILED or not (send.reason or send.reason_texts or send.reason_code):
        return ""
    if role in CLINICAL_READERS:
        reason = for_reader(send.reason_texts, send.reason)
        if role != Role.OWNER and send.reason_code == Reason.NO_KFA:
            reason = f"{reason} {OWNER_SETS_KFA}"
    else:
        reason = str(GENERAL_REASONS.get(send.reason_code, GENERAL_REASON))
    if role != Role.OWNER and send.reason_code in OWNER_SENDS_AGAIN:
        reason = f"{reason} {ASK_THE_OWNER}"
    return reason


def _next_attempt(send: VisitSend, code: str, conn: Connection | None) -> datetime.datetime | None:
    if code != Reason.UNAVAILABLE:
        return None
    if conn is not None and conn.hold_code == Reason.UNAVAILABLE and conn.hold_until:
        return conn.hold_until
    return send.next_attempt_at


def visit_state(visit_id: uuid.UUID, send: VisitSend | None, role: str, conn: Connection | None = None) -> dict:
    """A visit's state for this reader; `conn` is the clinic's connection (None: not connected)."""
    if send is None:
        return {
            "id": visit_id,
            "state": NOT_SENT,
            "waiting": False,
            "reason_code": "",
            "reason": "",
            "sent_at": None,
            "next_attempt_at": None,
            "attempts": 0,
        }
    waits = waiting_for(send, selectors.clinic_wait(conn))
    if waits:
        code, reason = waits, _waiting_reason(waits, role)
    else:
        code = send.reason_code if send.state == VisitSend.State.FAILED else ""
        reason = _reason(send, role)
    return {
        "id": visit_id,
        "state": send.state,
        "waiting": bool(waits),
        "reason_code": code,
        "reason": reason,
        "sent_at": send.sent_at,
        "next_attempt_at": _next_attempt(send, waits, conn),
        "attempts": send.attempts,
    }


class VisitStatesApi(APIView):
    @extend_schema(
        summary=(
            "Visits' SATUSEHAT send state (all staff; front desk reads the reason in general words; a visit "
            "waiting for the clinic's connection is queued with waiting true, not failed)"
        ),
        parameters=[
            OpenApiParameter(
                "ids", str, required=True, description=f"Visits' UUIDs, comma-separated (at most {MAX_IDS})."
            ),
            DEVICE_HEADER,
        ],
        responses=VisitStatesOutput,
    )
    def get(self, request: Request) -> Response:
        if not request.user.role:
            raise PermissionDenied(_("Only staff of this clinic can use its records."))
        ids = _ids(request.query_params.get("ids", ""))
        sends = selectors.visit_states(ids)
        conn = satusehat_connection.connection()
        role = request.user.role
        body = {"visits": [visit_state(visit_id, sends.get(visit_id), role, conn) for visit_id in ids]}
        return Response(VisitStatesOutput(body).data)
