"""The user (one table per schema: clinic staff in a clinic, operators in public) and invitations."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    DOCTOR = "doctor", _("Doctor")
    NURSE = "nurse", _("Nurse")
    FRONT_DESK = "frontdesk", _("Front desk")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. `role` is set for clinic staff; operators (public schema) have none."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, blank=True)
    # Surat Izin Praktik: printed on prescriptions and letters this practitioner signs.
    sip_number = models.CharField(_("SIP number"), max_length=100, blank=True)
    # A practitioner's NIK: how SATUSEHAT finds their IHS number (satusehat.sender).
    nik = models.CharField(_("NIK"), max_length=16, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform operator"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


class Invitation(models.Model):
    """An owner's invitation to join the clinic with a role; the link carries a secret token."""

    email = models.EmailField(_("email address"))
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="invitations_sent")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class OwnerAction(models.Model):
    """What an owner changed about the clinic's people, devices and settings: who, when, to whom or
    what, before and after. Never edited or deleted (staff changes are attributable, like records)."""

    class Kind(models.TextChoices):
        INVITED = "invited", _("Invited")
        INVITATION_RESENT = "invitation_resent", _("Invitation sent again")
        INVITATION_REVOKED = "invitation_revoked", _("Invitation revoked")
        ROLE_CHANGED = "role_changed", _("Role changed")
        DEACTIVATED = "deactivated", _("Deactivated")
        REACTIVATED = "reactivated", _("Reactivated")
        DEVICE_REVOKED = "device_revoked", _("Device revoked")
        SETTINGS_CHANGED = "settings_changed", _("Clinic settings changed")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    member = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    invitation = models.ForeignKey(Invitation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # A sync device's id: a plain value, since accounts' tables must not depend on sync's.
    device_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["device_id"], name="owner_action_device")]

    def __str__(self) -> str:
        return f"{self.kind} by {self.by_id} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def role_change(self) -> str:
        """'Nurse → Doctor' for a role change (in the reader's language), else ''."""
        if self.kind != self.Kind.ROLE_CHANGED:
            return ""
        labels = [
            Role(value).label if value in Role.values else value
            for value in ((self.before or {}).get("role"), (self.after or {}).get("role"))
        ]
        return " → ".join(str(label) for label in labels)
