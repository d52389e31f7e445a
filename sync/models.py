"""Sync state of one clinic: the change log in commit order, devices, pushed mutations, conflicts."""

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
    # The role the device last pulled with: a different role now means its copy must be rebuilt.
    pulled_as_role = models.CharField(max_length=12, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"device {self.id} of {self.user_id}"


class PushedMutation(models.Model):
    """What became of each mutation a device sent (kept for rejected ones with their reasons)."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="mutations")
    seq = models.BigIntegerField()
    entity = models.CharField(max_length=20)
    record_id = models.UUIDField(null=True)
    op = models.CharField(max_length=10)
    status = models.CharField(max_length=10)
    result = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "seq"], name="mutation_once_per_device")]

    def __str__(self) -> str:
        return f"{self.device_id}#{self.seq} {self.status}"


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

    def __str__(self) -> str:
        return f"conflict on {self.entity}.{self.field} of {self.record_id}"
