"""What SATUSEHAT would refuse in a resource, found before it is sent.

Each resource is parsed with its `fhir.resources` R4B model (FHIR R4's structure), then checked against
SATUSEHAT's own rules for an outpatient visit: identifiers of the clinic's organization, patients and
practitioners known by their IHS number, ICD-10 codes, UCUM units, KFA drug codes, and times SATUSEHAT
accepts. Every problem is a sentence the clinic's staff can act on, kept as a deferred text
(`satusehat.reasons.deferred`): it is read in the language of whoever reads it, whenever that is. A
problem names the resource it was found in, so a resource the visit can go without (`Built.optional`)
is held back alone.
"""

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pydantic
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from satusehat.fhir import (
    EXTENSION_MEDICATION_TYPE,
    IDENTIFIER_BASE,
    SYSTEM_ICD10,
    SYSTEM_UCUM,
    Built,
    has_kfa_code,
    is_coded,
)
from satusehat.models import Reason
from satusehat.reasons import deferred

ICD10_CODE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
PLACEHOLDER = "urn:local:"
# SATUSEHAT takes no clinical time before it existed, nor one ahead of a device's clock by more than a
# day; a birth date is taken from 1900.
EARLIEST_TIME = datetime.datetime(2014, 1, 1, tzinfo=datetime.UTC)
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
CLOCK_SLACK = datetime.timedelta(days=1)
# Every clinical time in a resource (periods, measurement, recording, issue).
TIME_FIELDS = frozenset({"start", "end", "effectiveDateTime", "recordedDate", "authoredOn", "issued"})
MAX_STRUCTURE_PROBLEMS = 5
# SATUSEHAT numbers a prescription (one per visit) and each of its lines: a MedicationRequest carries both.
PRESCRIPTION_KINDS = ("prescription", "prescription-item")


@dataclass(frozen=True)
class Problem:
    """A problem: `code` for programs (the sender's reason, a screen's filter), `message` for people (a
    deferred text: `str()` reads it in the current language), and the resource it was found in."""

    code: str
    message: Any
    resource_type: str = ""
    local_key: str = ""


def _(template: str, **params: Any) -> Any:
    """A message for staff (`template` % `params`), translated whenever it is read (`deferred`). Named
    `_` so that makemessages finds its message ids, as it finds gettext's."""
    return deferred(template, **params)


# The records as staff name them, translated when a message naming them is read.
_NAMES = {
    "Encounter": _("The visit"),
    "Condition": _("A diagnosis"),
    "MedicationRequest": _("A prescription"),
    "AllergyIntolerance": _("The allergy"),
    "Patient": _("The patient"),
    "Practitioner": _("The practitioner"),
}


def _what(built: Built) -> Any:
    """The record a resource came from, as staff name it."""
    resource = built.resource
    if built.resource_type == "Observation":
        codings = (resource.get("code") or {}).get("coding") or [{}]
        return codings[0].get("display") or _("A vital sign")
    if built.resource_type == "Medication":
        return (resource.get("code") or {}).get("text") or _("A drug")
    return _NAMES.get(built.resource_type, built.resource_type)


def _structure(built: Built) -> list[Problem]:
    """The resource parsed by its FHIR R4 (R4B) model: each error names the field."""
    try:
        model = get_fhir_model_class(built.resource_type)
    except (KeyError, ValueError, ImportError, AttributeError):
        return [Problem("fhir_invalid", _("%(what)s is not a FHIR resource kind.", what=built.resource_type))]
    try:
        model.model_validate(built.resource)
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors()[:MAX_STRUCTURE_PROBLEMS]:
            field = ".".join(str(part) for part in error.get("loc", ())) or built.resource_type
            problems.append(
                Problem(
                    "fhir_invalid",
                    _(
                        "%(what)s: the field %(field)s is not valid FHIR (%(detail)s).",
                        what=_what(built),
                        field=field,
                        detail=error.get("msg", ""),
                    ),
                )
            )
        return problems
    except (ValueError, TypeError) as exc:
        message = _("%(what)s is not valid FHIR (%(detail)s).", what=_what(built), detail=str(exc))
        return [Problem("fhir_invalid", message)]
    return []


def _strings_at(value: Any, keys: frozenset[str]) -> Iterator[str]:
    """Every text held under one of these keys, anywhere in a resource."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in keys and isinstance(item, str):
                yield item
            else:
                yield from _strings_at(item, keys)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_at(item, keys)


def _unknown_people(built: Built) -> list[Problem]:
    """A patient or practitioner SATUSEHAT does not know yet (no IHS number): the sender fills in the
    visit's own resources before sending, never these."""
    problems = []
    references = set(_strings_at(built.resource, frozenset({"reference"})))
    if any(ref.startswith(f"{PLACEHOLDER}Patient:") for ref in references):
        problems.append(
            Problem(
                Reason.PATIENT_UNKNOWN,
                _("The patient has no SATUSEHAT number (IHS) yet: check that their NIK is filled in and correct."),
            )
        )
    if any(ref.startswith(f"{PLACEHOLDER}Practitioner:") for ref in references):
        problems.append(
            Problem(
                Reason.PRACTITIONER_UNKNOWN,
                _("The practitioner has no SATUSEHAT number (IHS) yet: check their NIK on the staff page."),
            )
        )
    return problems


def _time_problem(built: Built, text: str, now: datetime.datetime) -> Any | None:
    """What is wrong with a time SATUSEHAT is to take, or None."""
    what = _what(built)
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return _("%(what)s: the time %(time)s cannot be read.", what=what, time=text)
    if timezone.is_naive(moment):
        return _("%(what)s: the time %(time)s has no time zone.", what=what, time=text)
    if moment > now + CLOCK_SLACK:
        return _("%(what)s: the time %(time)s is more than a day from now.", what=what, time=text)
    if moment < EARLIEST_TIME:
        return _("%(what)s: the time %(time)s is before 2014; SATUSEHAT does not take it.", what=what, time=text)
    return None


def _time_problems(built: Built, now: datetime.datetime) -> list[Problem]:
    problems = []
    for text in dict.fromkeys(_strings_at(built.resource, TIME_FIELDS)):
        message = _time_problem(built, text, now)
        if message is not None:
            problems.append(Problem("bad_time", message))
    return problems


def _invalid_visit(message: Any) -> Problem:
    return Problem("encounter_invalid", message)


def _encounter(resource: dict) -> list[Problem]:
    problems = []
    subject = (resource.get("subject") or {}).get("reference") or ""
    if not subject:
        problems.append(_invalid_visit(_("The visit has no patient.")))
    elif not subject.startswith(("Patient/", f"{PLACEHOLDER}Patient:")):
        problems.append(_invalid_visit(_("The visit's subject is not a patient.")))
    if not any(
        str(identifier.get("system", "")).startswith(f"{IDENTIFIER_BASE}/encounter/") and identifier.get("value")
        for identifier in resource.get("identifier") or []
    ):
        problems.append(_invalid_visit(_("The visit has no identifier of the clinic's SATUSEHAT organization.")))
    if (resource.get("class") or {}).get("code") != "AMB":
        problems.append(_invalid_visit(_("The visit is not marked as an outpatient visit (AMB).")))
    if not (resource.get("period") or {}).get("start"):
        problems.append(_invalid_visit(_("The visit has no start time.")))
    if not resource.get("statusHistory"):
        problems.append(_invalid_visit(_("The visit has no status history (arrived, in progress, finished).")))
    if not all(
        str((entry.get("condition") or {}).get("reference") or "").startswith(
            ("Condition/", f"{PLACEHOLDER}Condition:")
        )
        for entry in resource.get("diagnosis") or []
    ):
        problems.append(_invalid_visit(_("The visit lists a diagnosis that is not a diagnosis record (Condition).")))
    if not any(
        (participant.get("individual") or {}).get("reference") for participant in resource.get("participant") or []
    ):
        problems.append(
            Problem(
                Reason.NO_PRACTITIONER,
                _("The visit has no practitioner: choose the doctor who saw the patient."),
            )
        )
    return problems


def _condition(resource: dict) -> list[Problem]:
    codings = (resource.get("code") or {}).get("coding") or []
    icd = [coding for coding in codings if coding.get("system") == SYSTEM_ICD10]
    if len(codings) != 1 or len(icd) != 1:
        return [Problem("bad_icd10", _("A diagnosis needs exactly one ICD-10 code."))]
    code = str(icd[0].get("code") or "")
    if not ICD10_CODE.fullmatch(code):
        return [
            Problem(
                "bad_icd10",
                _(
                    "%(code)s is not an ICD-10 code (a letter and two digits, then a dot and more, as in J06.9).",
                    code=code or "-",
                ),
            )
        ]
    return []


def _observation(built: Built) -> list[Problem]:
    resource = built.resource
    problems = []
    quantity = resource.get("valueQuantity") or {}
    if quantity.get("value") is None or quantity.get("system") != SYSTEM_UCUM or not quantity.get("code"):
        problems.append(Problem("observation_invalid", _("%(what)s has no value with a UCUM unit.", what=_what(built))))
    if not resource.get("effectiveDateTime"):
        problems.append(Problem("observation_invalid", _("%(what)s has no time of measurement.", what=_what(built))))
    return problems


def _medication(built: Built) -> list[Problem]:
    problems = []
    if not has_kfa_code(built.resource):
        problems.append(
            Problem(
                Reason.NO_KFA,
                _("%(drug)s: no KFA code yet. Map this drug on the KFA drug codes page.", drug=_what(built)),
            )
        )
    extensions = built.resource.get("extension") or []
    if not any(extension.get("url") == EXTENSION_MEDICATION_TYPE for extension in extensions):
        problems.append(
            Problem(
                "medication_invalid",
                _(
                    "%(drug)s has no medication type (non-compound or compound), which SATUSEHAT requires.",
                    drug=_what(built),
                ),
            )
        )
    return problems


def _medication_request(built: Built) -> list[Problem]:
    problems = []
    reference = built.resource.get("medicationReference") or {}
    display = reference.get("display") or _what(built)
    if not str(reference.get("reference") or "").startswith(("Medication/", f"{PLACEHOLDER}Medication:")):
        problems.append(
            Problem(
                "medication_request_invalid",
                _("The prescription of %(drug)s names no medication.", drug=display),
            )
        )
    systems = {str(identifier.get("system", "")) for identifier in built.resource.get("identifier") or []}
    numbered = {
        kind for kind in PRESCRIPTION_KINDS for system in systems if system.startswith(f"{IDENTIFIER_BASE}/{kind}/")
    }
    if numbered != set(PRESCRIPTION_KINDS):
        problems.append(
            Problem(
                "medication_request_invalid",
                _(
                    "The prescription of %(drug)s has no prescription number of the clinic's SATUSEHAT organization.",
                    drug=display,
                ),
            )
        )
    return problems


def _allergy(resource: dict) -> list[Problem]:
    # SATUSEHAT requires AllergyIntolerance.category and a coded AllergyIntolerance.code (KFA for a drug,
    # SNOMED CT for food or the environment): https://satusehat.kemkes.go.id/platform/docs/id/fhir/
    # resources/allergy-intolerance/ ("*AllergyIntolerance.category", "*AllergyIntolerance.code").
    if is_coded(resource) and resource.get("category"):
        return []
    return [
        Problem(
            Reason.ALLERGY_UNCODED,
            _(
                "The patient's allergies are written as free text. SATUSEHAT accepts coded allergies only, so "
                "the allergies stay in the clinic's record and are not sent; the rest of the visit is sent as "
                "usual."
            ),
        )
    ]


def _patient(resource: dict, now: datetime.datetime) -> list[Problem]:
    text = resource.get("birthDate")
    if not isinstance(text, str):
        return [Problem("patient_invalid", _("The patient has no birth date."))]
    try:
        born = datetime.date.fromisoformat(text)
    except ValueError:
        return [Problem("patient_invalid", _("The patient's birth date %(date)s cannot be read.", date=text))]
    if born < EARLIEST_BIRTH_DATE:
        return [Problem("patient_invalid", _("The patient's birth date %(date)s is before 1900.", date=text))]
    if born > (now + CLOCK_SLACK).date():
        return [Problem("patient_invalid", _("The patient's birth date %(date)s is in the future.", date=text))]
    return []


def find_problems(built: Built, *, now: datetime.datetime | None = None) -> list[Problem]:
    """Every problem of one resource, each with a code, a deferred message and the resource's type and key."""
    now = now or timezone.now()
    found = _structure(built) + _unknown_people(built) + _time_problems(built, now)
    kind = built.resource_type
    if kind == "Encounter":
        found += _encounter(built.resource)
    elif kind == "Condition":
        found += _condition(built.resource)
    elif kind == "Observation":
        found += _observation(built)
    elif kind == "Medication":
        found += _medication(built)
    elif kind == "MedicationRequest":
        found += _medication_request(built)
    elif kind == "AllergyIntolerance":
        found += _allergy(built.resource)
    elif kind == "Patient":
        found += _patient(built.resource, now)
    return [replace(problem, resource_type=built.resource_type, local_key=built.local_key) for problem in found]


def problems(built: Built) -> list[str]:
    """What SATUSEHAT would refuse in this resource, as sentences in the current language."""
    return [str(problem.message) for problem in find_problems(built)]


def visit_problems_found(builts: list[Built]) -> list[Problem]:
    """Every problem of a visit's resources (those sent only to retract are not checked), each with its
    deferred message. A problem that holds the whole visit is given once (the first resource it was
    found in); one of an optional resource once for each such resource, since it holds back that
    resource alone."""
    now = timezone.now()
    seen: dict[tuple[str, str, str], Problem] = {}
    for built in builts:
        if built.retract:
            continue
        for problem in find_problems(built, now=now):
            where = (built.resource_type, built.local_key) if built.optional else ("", "")
            seen.setdefault((str(problem.message), *where), problem)
    return list(seen.values())


def visit_problems(builts: list[Built]) -> list[str]:
    """What SATUSEHAT would refuse in a visit, each sentence once, in the current language."""
    return list(dict.fromkeys(str(problem.message) for problem in visit_problems_found(builts)))
