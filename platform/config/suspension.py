"""What a suspended clinic's staff are told, on its pages and in its API: which clinic, that its records
are kept, and whom to contact (the platform's SUPPORT_EMAIL and SUPPORT_PHONE)."""

from typing import TypedDict

from django.conf import settings
from django.utils.translation import gettext as _

CODE = "clinic_suspended"


class Contact(TypedDict):
    email: str
    phone: str | None


class SuspendedAnswer(TypedDict):
    error: str
    code: str
    clinic_name: str
    detail: str
    contact: Contact


def support_contact() -> Contact:
    return {"email": settings.SUPPORT_EMAIL, "phone": settings.SUPPORT_PHONE or None}


def contact_text(contact: Contact) -> str:
    """The contact in words: the email, and the phone when there is one."""
    if contact["phone"]:
        return _("%(email)s or %(phone)s") % {"email": contact["email"], "phone": contact["phone"]}
    return contact["email"]


def suspended_detail(clinic_name: str) -> str:
    """One sentence a person understands, in the active language, naming the clinic and the contact."""
    return _(
        "%(clinic)s is suspended on the platform. Its records are kept and nothing was lost. "
        "To use it again, contact the platform's support: %(contact)s"
    ) % {"clinic": clinic_name, "contact": contact_text(support_contact())}


def suspended_answer(clinic_name: str) -> SuspendedAnswer:
    """The API's 403 body: `code` for the app to tell suspension from a signed-out session (`error`
    repeats it, as the platform's other refusals name themselves)."""
    return {
        "error": CODE,
        "code": CODE,
        "clinic_name": clinic_name,
        "detail": suspended_detail(clinic_name),
        "contact": support_contact(),
    }
