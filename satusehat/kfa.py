"""The clinic's drug → KFA code map (Kamus Farmasi dan Alat Kesehatan), set by the owner: a change
re-queues the visits SATUSEHAT could not take because of what the clinic had written (a drug with no
code among them)."""

from django.db import transaction

from satusehat.fhir import drug_key
from satusehat.models import KfaCode, Reason
from satusehat.outbox import queue_failed
from tenants.accounts.models import User


@transaction.atomic
def kfa_code_set(*, drug: str, code: str, display: str, by: User) -> int:
    """Set the code of a drug (as prescribed: it is folded here) and queue again the visits that
    failed our checks or were sent without a drug that had no code; returns how many were queued."""
    KfaCode.objects.update_or_create(drug=drug_key(drug), defaults={"code": code, "display": display, "updated_by": by})
    return queue_failed((Reason.INVALID, Reason.NO_KFA))
