"""The app's read of visits' SATUSEHAT send state (GET /satusehat/api/visits/?ids=...): not sent, queued,
sent (when), failed (why). Every member of staff may read it; front desk gets the reason in general
words only, since a refusal may name a drug or a diagnosis."""

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
from satusehat import selectors
from satusehat.models import Reason, VisitSend

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
    Reason.NOT_CONNECTED: gettext_lazy("The clinic is not connected to SATUSEHAT yet; the clinic's owner connects it."),
}
GENERAL_REASON = gettext_lazy("SATUSEHAT did not take the visit; the clinic's owner sees why on the SATUSEHAT page.")


class VisitStateOutput(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(
        [NOT_SENT, *VisitSend.State.values],
        help_text="not_sent: not finished, or not queued yet; queued; sent; failed (see reason).",
    )
    reason = serializers.CharField(help_text="Why it failed or waits ('' otherwise), in the request's language.")
    sent_at = serializers.DateTimeField(allow_null=True)
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


def _reason(send: VisitSend, clinical: bool) -> str:
    if send.state == VisitSend.State.SENT or not (send.reason or send.reason_code):
        return ""
    if clinical:
        return send.reason
    return str(GENERAL_REASONS.get(send.reason_code, GENERAL_REASON))


def visit_state(visit_id: uuid.UUID, send: VisitSend | None, clinical: bool) -> dict:
    if send is None:
        return {"id": visit_id, "state": NOT_SENT, "reason": "", "sent_at": None, "attempts": 0}
    return {
        "id": visit_id,
        "state": send.state,
        "reason": _reason(send, clinical),
        "sent_at": send.sent_at,
        "attempts": send.attempts,
    }


class VisitStatesApi(APIView):
    @extend_schema(
        summary="Visits' SATUSEHAT send state (all staff; front desk reads the reason in general words)",
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
        clinical = request.user.role in CLINICAL_READERS
        body = {"visits": [visit_state(visit_id, sends.get(visit_id), clinical) for visit_id in ids]}
        return Response(VisitStatesOutput(body).data)
