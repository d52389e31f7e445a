"""Sync state of one clinic: the change log in commit order, devices, push receipts, conflicts."""

import uuid

from django.conf import settings
from django.db import models


class ChangeCounter(models.Model):
    """One row; every writing transaction increments it, holding its row lock until commit, so change
    numbers follow commit order and no reader sees change N+1 before change N."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"change counter at {self.value}"


class Change(models.Model):
    """The latest change of one record: pulling from 0 is the full download; the log never outgrows
    the record set."""

    entity = models.CharField(max_length=20)
    record_id = models.UUIDField()
    seq = models.BigIntegerField(unique=True)
    version = models.PositiveIntegerField()
    voided = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "record_id"], name="change_one_per_record")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.entity} {self.record_id}"


class Device(models.Model):
    """One installed app of one user at this clinic (one IndexedDB database)."""

    id = models.CharField(primary_key=True, max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="devices")
    user_agent = models.CharField(max_length=300, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)
    last_seq = models.BigIntegerField(default=0)
    # The first seq of the device's latest push: it sends its outbox from the oldest entry and drops an
    # entry only once answered, so it holds nothing older and will never resend it (see receipts_prune).
    held_from = models.BigIntegerField(default=0)
    # The role the device last pulled with: a different role now means its copy must be rebuilt.
    pulled_as_role = models.CharField(max_length=12, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The sign-in session the device syncs with: revoking the device ends it, so a lost tablet cannot
    # simply register itself again under a new device id, nor use the REST API.
    session_key = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return f"device {self.id} of {self.user_id}"


class PushedBatch(models.Model):
    """What became of each mutation of one push, in seq order (the answers the device was sent): kept so
    a resent mutation is answered with what happened to it the first time. One row per batch rather
    than per mutation keeps a push of 500 to one small write. What a mutation changed is in the
    record's revisions; receipts no device can ask about again are pruned (`receipts_prune`)."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="batches")
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    results = models.JSONField(default=list)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "first_seq"], name="batch_once_per_device"),
            models.CheckConstraint(condition=models.Q(last_seq__gte=models.F("first_seq")), name="batch_seq_order"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id}#{self.first_seq}-{self.last_seq}"

    def result_of(self, seq: int) -> dict | None:
        if not self.first_seq <= seq <= self.last_seq:
            return None
        return self.results[seq - self.first_seq]


class Conflict(models.Model):
    """A field both sides changed to different values: the server value stays, the device value is
    kept here until a person resolves it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(default=1)
    entity = models.CharField(max_length=20)
    record_id = models.UUIDField()
    field = models.CharField(max_length=40)
    base_value = models.JSONField(null=True)
    server_value = models.JSONField(null=True)
    device_value = models.JSONField(null=True)
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    resolved_value = models.JSONField(null=True, blank=True)

    class Meta:
        # Every write of a record asks for its open conflicts (sync.services.refresh_open_conflicts).
        indexes = [models.Index(fields=["record_id", "field"], name="conflict_record_field")]

    def __str__(self) -> str:
        return f"conflict on {self.entity}.{self.field} of {self.record_id}"
