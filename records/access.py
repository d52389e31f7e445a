"""Who may read and write which part of the record, by role (enforced by every API and by sync).

Front desk registers patients and visits and never receives clinical content (SOAP, vital signs,
diagnoses, prescriptions). Nurses read the record and add vital signs, and change only those they
recorded. Doctors do everything clinical. Owners do what doctors do, and also manage staff and read the
audit trail.

Every rule here is decided by the role, the fields named and what the role can already see, never by
the values a record holds that the role may not read: a refusal must not tell what a record says.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from tenants.accounts.models import Role, User

ALL_STAFF = frozenset(Role.values)
CLINICAL_READERS = frozenset({Role.OWNER, Role.DOCTOR, Role.NURSE})
CLINICIANS = frozenset({Role.OWNER, Role.DOCTOR})

# The SOAP note: clinical content inside the visit record.
VISIT_CLINICAL_FIELDS = ("subjective", "objective", "assessment", "plan")
# Calling a patient in from the queue: the people who see them (front desk checks in and marks who left).
QUEUE_CALLERS = CLINICAL_READERS

WRITERS: dict[str, frozenset[str]] = {
    "patient": ALL_STAFF,
    "visit": ALL_STAFF,
    "vitals": CLINICAL_READERS,
    "diagnosis": CLINICIANS,
    "prescription": CLINICIANS,
}
READERS: dict[str, frozenset[str]] = {
    "patient": ALL_STAFF,
    "visit": ALL_STAFF,
    "vitals": CLINICAL_READERS,
    "diagnosis": CLINICAL_READERS,
    "prescription": CLINICAL_READERS,
}


def can_read_clinical(user: User) -> bool:
    return user.role in CLINICAL_READERS


def can_read(user: User, entity: str) -> bool:
    return user.role in READERS[entity]


def can_read_audit(user: User) -> bool:
    return user.role == Role.OWNER


def can_read_reports(user: User) -> bool:
    return user.role == Role.OWNER


def check_can_read(user: User, entity: str) -> None:
    if not can_read(user, entity):
        raise PermissionDenied(_("Your role cannot see this part of the record."))


def can_read_field(user: User, entity: str, field: str) -> bool:
    """Whether `user` may see this field of this kind of record (a conflict on it, say)."""
    if not can_read(user, entity):
        return False
    return not (entity == "visit" and field in VISIT_CLINICAL_FIELDS and not can_read_clinical(user))


def check_can_write(user: User, entity: str, fields: set[str]) -> None:
    """Raise PermissionDenied with a reason when `user` may not write these fields of `entity`."""
    if user.role not in WRITERS[entity]:
        raise PermissionDenied(_("Your role cannot change this part of the record."))
    if entity == "visit" and fields & set(VISIT_CLINICAL_FIELDS) and user.role not in CLINICIANS:
        raise PermissionDenied(_("Only doctors write the SOAP note."))
    if entity == "visit" and "called_at" in fields and user.role not in QUEUE_CALLERS:
        raise PermissionDenied(_("Only doctors and nurses call patients in from the queue."))


def check_can_finish_visit(user: User) -> None:
    if user.role not in CLINICIANS:
        raise PermissionDenied(_("Only doctors finish a visit."))


def check_can_change_recorded(user: User, entity: str, recorded_by_id: object) -> None:
    """Nurses change or void only the vital signs they recorded themselves; doctors and owners any."""
    if entity == "vitals" and user.role == Role.NURSE and recorded_by_id != user.pk:
        raise PermissionDenied(
            _("Nurses change only the vital signs they recorded. Ask a doctor, or the nurse who recorded them.")
        )
