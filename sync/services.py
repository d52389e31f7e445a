"""Push: apply a device's mutations exactly once, in order, merging field by field and keeping conflicts.

A batch runs in one transaction together with the device's `last_seq` (each mutation in a savepoint of
its own), so a retried batch changes nothing and a crash never leaves half a mutation or a `last_seq`
ahead of what was applied.
Clinical rules stay in `records.services`; this module decides only what to write and reports back.
"""

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from records import bulk, queue
from records import services as records
from records.models import ClinicalRecord
from records.selectors import record_get, record_history_since
from sync import merge
from sync.changelog import log_change, numbered_at_end, savepoint
from sync.models import Conflict, Device, PushedBatch
from sync.signals import device_seen
from tenants.accounts.models import Role, User

MAX_BATCH = 500
# `last_seen` tells the clinic's owner which devices are in use, to the minute: written at most this
# often outside a push (a push writes it with its `last_seq`), so a pull costs no write of its own.
SEEN_EVERY = datetime.timedelta(minutes=1)


class DeviceRefusedError(Exception):
    """The device may not sync here (revoked, or it belongs to another person): answered with 403."""


class DeviceRevokedError(DeviceRefusedError):
    """The clinic's owner revoked this device: answered 403 with `code: device_revoked`, so the app can
    stop trying and say so plainly."""


@dataclass
class Mutation:
    seq: int
    entity: str
    record_id: uuid.UUID
    op: str
    base_version: int = 0
    fields: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    refusal: dict[str, list[str]] | None = None  # a mutation that could not be read: answered rejected

    @classmethod
    def refused(cls, seq: int, errors: dict[str, list[str]]) -> "Mutation":
        return cls(seq=seq, entity="", record_id=uuid.UUID(int=0), op="", refusal=errors)


def device_for(*, device_id: str, user: User, user_agent: str = "", session_key: str = "") -> Device:
    """The device row of this user (created on first contact); refused if revoked or someone else's."""
    device, created = Device.objects.get_or_create(
        id=device_id,
        defaults={"user": user, "user_agent": user_agent[:300], "pulled_as_role": "", "session_key": session_key},
    )
    if device.user_id != user.pk:
        raise DeviceRefusedError(_("This device is registered to another person. Sign in again to reset it."))
    if device.revoked_at is not None:
        raise DeviceRevokedError(_("This device was revoked by the clinic's owner."))
    now = timezone.now()
    if not created and (device.user_agent != user_agent[:300] or now - device.last_seen > SEEN_EVERY):
        Device.objects.filter(pk=device.pk).update(last_seen=now, user_agent=user_agent[:300])
        device_seen.send(sender=Device, device_id=device.pk)
    if session_key and device.session_key != session_key:  # signed in again on this device
        Device.objects.filter(pk=device.pk).update(session_key=session_key)
    return device


def push(*, device: Device, mutations: list[Mutation]) -> dict[str, Any]:
    """Apply a batch in order. The batch is one transaction (each mutation inside its own savepoint,
    or a run of creates checked together), so `last_seq` and the stored results commit together with
    the effects, or not at all."""
    # Queue numbers are given as the batch ends, then change numbers: each counter is held last.
    with transaction.atomic(), numbered_at_end(), queue.numbers_at_end():
        device = Device.objects.select_for_update().select_related("user").get(pk=device.pk)
        actor = records.Actor(user=device.user, device_id=device.pk)
        last_seq = device.last_seq
        earlier = _earlier_results(device, [m.seq for m in mutations if m.seq <= last_seq])
        results = [_duplicate_result(m.seq, earlier.get(m.seq)) for m in mutations if m.seq <= last_seq]
        fresh = [m for m in mutations if m.seq > last_seq]
        if fresh and fresh[0].seq > last_seq + 1:
            # Refused from the first missing number on, each mutation answered (the contract's wording).
            results.extend({"seq": m.seq, "status": "gap", "last_seq": last_seq} for m in fresh)
            fresh = []
        applied: list[dict[str, Any]] = []
        for run in _runs(fresh):
            applied.extend(_apply_creates(actor, run) if len(run) > 1 else [_apply_or_refuse(actor, run[0])])
        if applied:
            last_seq = fresh[-1].seq
            PushedBatch.objects.create(device=device, first_seq=fresh[0].seq, last_seq=last_seq, results=applied)
        if mutations:
            Device.objects.filter(pk=device.pk).update(
                last_seq=last_seq, held_from=mutations[0].seq, last_seen=timezone.now()
            )
    return {"last_seq": last_seq, "results": results + applied}


def _runs(mutations: list[Mutation]) -> list[list[Mutation]]:
    """Consecutive record creates together (checked and inserted at once); every other mutation alone."""
    runs: list[list[Mutation]] = []
    for mutation in mutations:
        if _creates_record(mutation) and runs and _creates_record(runs[-1][-1]):
            runs[-1].append(mutation)
        else:
            runs.append([mutation])
    return runs


def _creates_record(mutation: Mutation) -> bool:
    # A conflict is never created by a device; a mutation that could not be read is answered alone.
    return mutation.op == "create" and mutation.entity != "conflict" and not mutation.refusal


def _apply_creates(actor: records.Actor, run: list[Mutation]) -> list[dict[str, Any]]:
    """A run of creates in one go; if an id is already taken (by an earlier record, or by another writer
    meanwhile) or a record number was taken meanwhile, the run is rolled back and applied one mutation
    at a time, which reports each clash as a refusal."""
    items = [bulk.NewRecord(m.entity, m.record_id, m.fields, m.reason) for m in run]
    try:
        with savepoint():
            outcomes = bulk.records_create_many(actor=actor, items=items)
    except IntegrityError:
        return [_apply_or_refuse(actor, mutation) for mutation in run]
    return [
        {"status": "applied", "version": outcome.version, "seq": mutation.seq}
        if isinstance(outcome, ClinicalRecord)
        else {"status": "rejected", "errors": _errors_of(outcome), "seq": mutation.seq}
        for mutation, outcome in zip(run, outcomes, strict=True)
    ]


def _earlier_results(device: Device, seqs: list[int]) -> dict[int, dict[str, Any]]:
    """What became of these already-handled mutations, from the receipts of the batches that held them."""
    if not seqs:
        return {}
    wanted = set(seqs)
    batches = PushedBatch.objects.filter(device=device, first_seq__lte=max(seqs), last_seq__gte=min(seqs))
    found: dict[int, dict[str, Any]] = {}
    for batch in batches:
        for seq in wanted & set(range(batch.first_seq, batch.last_seq + 1)):
            found[seq] = batch.result_of(seq)
    return found


def _duplicate_result(seq: int, earlier: dict[str, Any] | None) -> dict[str, Any]:
    """A mutation handled before: the device learns what became of it the first time."""
    earlier = earlier or {}
    result = {key: value for key, value in earlier.items() if key not in ("seq", "status")}
    return {**result, "seq": seq, "status": "duplicate", "original_status": earlier.get("status", "applied")}


def _apply_or_refuse(actor: records.Actor, mutation: Mutation) -> dict[str, Any]:
    try:
        with savepoint():
            return {**_apply(actor, mutation), "seq": mutation.seq}
    except (ValidationError, PermissionDenied, Http404, records.DuplicateRecordError, records.StaleVersionError) as exc:
        return {"status": "rejected", "errors": _errors_of(exc), "seq": mutation.seq}


def _errors_of(exc: Exception) -> dict[str, list[str]]:
    if isinstance(exc, ValidationError):
        return exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    if isinstance(exc, Http404):
        return {"record_id": [_("No such record in this clinic.")]}
    return {"non_field_errors": [str(exc) or _("Not allowed.")]}


def _apply(actor: records.Actor, mutation: Mutation) -> dict[str, Any]:
    if mutation.refusal:
        raise ValidationError(mutation.refusal)
    if mutation.entity == "conflict":
        if mutation.op != "resolve":
            raise ValidationError({"op": [_("A conflict can only be resolved.")]})
        return _resolve(actor, mutation)
    if mutation.entity == "chart":
        if mutation.op != "open":
            raise ValidationError({"op": [_("A chart can only be opened.")]})
        patient = record_get(entity="patient", record_id=mutation.record_id, user=actor.user)
        records.chart_opened(patient=patient, actor=actor, fields=mutation.fields)
        return {"status": "applied"}
    if mutation.op == "create":
        instance = records.record_create(
            entity=mutation.entity,
            actor=actor,
            data=mutation.fields,
            record_id=mutation.record_id,
            reason=mutation.reason,
        )
        return {"status": "applied", "version": instance.version}
    instance = record_get(entity=mutation.entity, record_id=mutation.record_id, user=actor.user)
    if mutation.op == "void":
        try:
            version = records.record_void(instance=instance, actor=actor, reason=mutation.reason).version
        except records.AlreadyVoidedError as already:
            version = already.version
        return {"status": "applied" if version == mutation.base_version + 1 else "merged", "version": version}
    if mutation.op == "update":
        return _merge(actor, instance, mutation)
    raise ValidationError({"op": [_("Unknown operation.")]})


def _merge(actor: records.Actor, instance: Any, mutation: Mutation) -> dict[str, Any]:
    """Field by field against the record as it was at `base_version` (see SYNC-PROTOCOL.md), after
    every rule a plain update checks: a refusal never depends on what the record holds, and nothing a
    role may not write reaches the record, a revision or a conflict."""
    checked = records.update_checked(actor=actor, instance=instance, changes=mutation.fields, reason=mutation.reason)
    instance = checked.instance
    history = record_history_since(
        entity=mutation.entity, record_id=instance.pk, base_version=mutation.base_version, device_id=actor.device_id
    )
    decision = merge.decide(
        current=records.snapshot(instance),
        base=history.base,
        changed_by_others=history.changed_by_others,
        incoming=records.canonical_fields(mutation.entity, mutation.fields),
    )
    if decision.apply:
        changes = {name: mutation.fields[name] for name in decision.apply}
        instance = records.record_update_checked(checked=checked, changes=changes)
    conflicts = [
        Conflict(
            entity=mutation.entity,
            record_id=instance.pk,
            field=found.field,
            base_value=found.base_value,
            server_value=found.server_value,
            device_value=found.device_value,
            device_id=actor.device_id,
            user=actor.user,
        )
        for found in decision.conflicts
    ]
    for conflict in conflicts:
        conflict.save()
        log_change(entity="conflict", record_id=conflict.pk, version=conflict.version, voided=False)
    result: dict[str, Any] = {"version": instance.version}
    if conflicts:
        result.update(status="conflict", conflict_ids=[str(c.pk) for c in conflicts], conflict_id=str(conflicts[0].pk))
    elif instance.version == mutation.base_version + (1 if decision.apply else 0):
        result["status"] = "applied"
    else:
        result["status"] = "merged"
    return result


def _resolve(actor: records.Actor, mutation: Mutation) -> dict[str, Any]:
    """Keep a value for a conflicted field: the same checks as any change of that field, first."""
    conflict = Conflict.objects.select_for_update().filter(pk=mutation.record_id).first()
    if conflict is None:
        raise Http404
    if "value" not in mutation.fields:
        raise ValidationError({"value": [_("Send the value to keep.")]})
    instance = record_get(entity=conflict.entity, record_id=conflict.record_id, user=actor.user)
    reason = mutation.reason or _("Conflict resolved")
    changes = {conflict.field: mutation.fields["value"]}
    checked = records.update_checked(actor=actor, instance=instance, changes=changes, reason=reason)
    if conflict.resolved_at is not None:
        return {"status": "applied", "version": conflict.version}
    value = records.canonical_fields(conflict.entity, changes)[conflict.field]
    # A device that changed the field twice offline left one conflict per change, shown as one: the
    # value kept now decides them all. Another device's conflict on the field holds a value nobody
    # deciding this one was shown, so it stays open for a person to see. They are closed before the
    # write, so the write's refresh of open conflicts (refresh_open_conflicts) passes them by: a closed
    # conflict keeps the value the server held, written and logged once.
    same_field = Conflict.objects.select_for_update().filter(
        entity=conflict.entity,
        record_id=conflict.record_id,
        field=conflict.field,
        device_id=conflict.device_id,
        resolved_at__isnull=True,
    )
    for closed in [conflict, *same_field.exclude(pk=conflict.pk).order_by("created_at")]:
        _close(closed, actor.user, value)
    records.record_update_checked(checked=checked, changes=changes)
    return {"status": "applied", "version": conflict.version}


def refresh_open_conflicts(
    sender: object, *, entity: str, record_id: Any, changed: dict[str, Any] | None = None, **_: object
) -> None:
    """A field written again while a conflict on it is open (a correction, another device's change, a
    decision): the conflict now shows the value the server holds, and every device pulls it, so keeping
    "the server's value" never means an older one and keeping the device's is decided knowing what it
    replaces."""
    if not changed:
        return
    open_ones = Conflict.objects.select_for_update().filter(
        entity=entity, record_id=record_id, field__in=list(changed), resolved_at__isnull=True
    )
    for conflict in open_ones:
        if conflict.server_value == changed[conflict.field]:
            continue
        conflict.server_value = changed[conflict.field]
        conflict.version += 1
        conflict.save(update_fields=["server_value", "version"])
        log_change(entity="conflict", record_id=conflict.pk, version=conflict.version, voided=False)


def _close(conflict: Conflict, user: User, value: Any) -> None:
    conflict.resolved_at = timezone.now()
    conflict.resolved_by = user
    conflict.resolved_value = value
    conflict.version += 1
    conflict.save(update_fields=["resolved_at", "resolved_by", "resolved_value", "version"])
    log_change(entity="conflict", record_id=conflict.pk, version=conflict.version, voided=False)


def receipts_prune(*, older_than: datetime.timedelta) -> int:
    """Delete receipts older than `older_than` that no device can ask about again: every mutation in
    them is below the first seq of its device's latest push (`held_from`), so the device has dropped
    it. A receipt a device may still resend a mutation of is kept, however old. Returns how many went."""
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        deleted, _by_model = PushedBatch.objects.filter(
            received_at__lt=cutoff, last_seq__lt=models.F("device__held_from")
        ).delete()
    return deleted


def check_can_manage_devices(user: User) -> None:
    if user.role != Role.OWNER:
        raise PermissionDenied(_("Only the clinic's owner manages devices."))


def device_get(*, device_id: str) -> Device:
    device = Device.objects.select_related("user").filter(pk=device_id).first()
    if device is None:
        raise Http404
    return device


@transaction.atomic
def device_revoke(*, device: Device) -> Device:
    """Revoke a device and end the sign-in it syncs with: until someone signs in on it again (and is
    told it is revoked), it can neither sync, under this id or another, nor use the API."""
    device.revoked_at = timezone.now()
    device.save(update_fields=["revoked_at"])
    if device.session_key:
        Session.objects.filter(session_key=device.session_key).delete()
    return device
