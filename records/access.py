"""Who may read and write which part of the record, by role (enforced by every API and by sync).

Front desk registers patients and visits and never receives clinical content (SOAP, vital signs,
diagnoses, prescriptions). Nurses read the record and add vital signs. Doctors do everything clinical.
Owners do what doctors do, and also manage staff and read the audit trail.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from tenants.accounts.models import Role, User

ALL_STAFF = frozenset(Role.values)
CLINICAL_READERS = frozenset({Role.OWNER, Role.DOCTOR, Role.NURSE})
CLINICIANS = frozenset({Role.OWNER, Role.DOCTOR})

# The SOAP note: clinical content inside the visit record.
VISIT_CLINICAL_FIELDS = ("subjective", "objective", "assessment", "plan")

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


def check_can_read(user: User, entity: str) -> None:
    if not can_read(user, entity):
        raise PermissionDenied(_("Your role cannot see this part of the record."))


def check_can_write(user: User, entity: str, fields: set[str]) -> None:
    """Raise PermissionDenied with a reason when `user` may not write these fields of `entity`."""
    if user.role not in WRITERS[entity]:
        raise PermissionDenied(_("Your role cannot change this part of the record."))
    if entity == "visit" and fields & set(VISIT_CLINICAL_FIELDS) and user.role not in CLINICIANS:
        raise PermissionDenied(_("Only doctors write the SOAP note."))


def check_can_finish_visit(user: User) -> None:
    if user.role not in CLINICIANS:
        raise PermissionDenied(_("Only doctors finish a visit."))
