"""What SATUSEHAT would refuse in a resource, found before it is sent.

Each resource is parsed with its `fhir.resources` R4B model (FHIR R4's structure), then checked against
SATUSEHAT's own rules for an outpatient visit: identifiers of the clinic's organization, patients and
practitioners known by their IHS number, ICD-10 codes, UCUM units, KFA drug codes, and times SATUSEHAT
accepts. Every problem is a sentence the clinic's staff can act on, in their language.
"""

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pydantic
from django.utils import timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B import get_fhir_model_class

from satusehat.fhir import IDENTIFIER_BASE, SYSTEM_ICD10, SYSTEM_KFA, SYSTEM_UCUM, Built
from satusehat.models import Reason

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


@dataclass(frozen=True)
class Problem:
    """A problem: `code` for programs (the sender's reason, a screen's filter), `message` for people."""

    code: str
    message: str


def _what(built: Built) -> str:
    """The record a resource came from, as staff name it."""
    resource = built.resource
    if built.resource_type == "Observation":
        codings = (resource.get("code") or {}).get("coding") or [{}]
        return codings[0].get("display") or _("A vital sign")
    if built.resource_type == "Medication":
        return (resource.get("code") or {}).get("text") or _("A drug")
    return {
        "Encounter": _("The visit"),
        "Condition": _("A diagnosis"),
        "MedicationRequest": _("A prescription"),
        "AllergyIntolerance": _("The allergy"),
        "Patient": _("The patient"),
        "Practitioner": _("The practitioner"),
    }.get(built.resource_type, built.resource_type)


def _structure(built: Built) -> list[Problem]:
    """The resource parsed by its FHIR R4 (R4B) model: each error names the field."""
    try:
        model = get_fhir_model_class(built.resource_type)
    except (KeyError, ValueError, ImportError, AttributeError):
        return [Problem("fhir_invalid", _("%(what)s is not a FHIR resource kind.") % {"what": built.resource_type})]
    try:
        model.model_validate(built.resource)
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors()[:MAX_STRUCTURE_PROBLEMS]:
            field = ".".join(str(part) for part in error.get("loc", ())) or built.resource_type
            problems.append(
                Problem(
                    "fhir_invalid",
                    _("%(what)s: the field %(field)s is not valid FHIR (%(detail)s).")
                    % {"what": _what(built), "field": field, "detail": error.get("msg", "")},
                )
            )
        return problems
    except (ValueError, TypeError) as exc:
        return [
            Problem(
                "fhir_invalid", _("%(what)s is not valid FHIR (%(detail)s).") % {"what": _what(built), "detail": exc}
            )
        ]
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


def _time_problems(built: Built, now: datetime.datetime) -> list[Problem]:
    problems = []
    for text in dict.fromkeys(_strings_at(built.resource, TIME_FIELDS)):
        values = {"what": _what(built), "time": text}
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            problems.append(Problem("bad_time", _("%(what)s: the time %(time)s cannot be read.") % values))
            continue
        if timezone.is_naive(moment):
            problems.append(Problem("bad_time", _("%(what)s: the time %(time)s has no time zone.") % values))
        elif moment > now + CLOCK_SLACK:
            problems.append(Problem("bad_time", _("%(what)s: the time %(time)s is more than a day from now.") % values))
        elif moment < EARLIEST_TIME:
            problems.append(
                Problem(
                    "bad_time", _("%(what)s: the time %(time)s is before 2014; SATUSEHAT does not take it.") % values
                )
            )
    return problems


def _encounter(resource: dict) -> list[Problem]:
    problems = []
    subject = (resource.get("subject") or {}).get("reference") or ""
    if not subject:
        problems.append(Problem("encounter_invalid", _("The visit has no patient.")))
    elif not subject.startswith(("Patient/", f"{PLACEHOLDER}Patient:")):
        problems.append(Problem("encounter_invalid", _("The visit's subject is not a patient.")))
    if not any(
        str(identifier.get("system", "")).startswith(f"{IDENTIFIER_BASE}/encounter/") and identifier.get("value")
        for identifier in resource.get("identifier") or []
    ):
        problems.append(
            Problem("encounter_invalid", _("The visit has no identifier of the clinic's SATUSEHAT organization."))
        )
    if (resource.get("class") or {}).get("code") != "AMB":
        problems.append(Problem("encounter_invalid", _("The visit is not marked as an outpatient visit (AMB).")))
    if not (resource.get("period") or {}).get("start"):
        problems.append(Problem("encounter_invalid", _("The visit has no start time.")))
    if not resource.get("statusHistory"):
        problems.append(
            Problem("encounter_invalid", _("The visit has no status history (arrived, in progress, finished)."))
        )
    if not any(
        (participant.get("individual") or {}).get("reference") for participant in resource.get("participant") or []
    ):
        problems.append(
            Problem(Reason.NO_PRACTITIONER, _("The visit has no practitioner: choose the doctor who saw the patient."))
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
                _("%(code)s is not an ICD-10 code (a letter and two digits, then a dot and more, as in J06.9).")
                % {"code": code or "-"},
            )
        ]
    return []


def _observation(built: Built) -> list[Problem]:
    resource = built.resource
    problems = []
    quantity = resource.get("valueQuantity") or {}
    if quantity.get("value") is None or quantity.get("system") != SYSTEM_UCUM or not quantity.get("code"):
        problems.append(
            Problem("observation_invalid", _("%(what)s has no value with a UCUM unit.") % {"what": _what(built)})
        )
    if not resource.get("effectiveDateTime"):
        problems.append(
            Problem("observation_invalid", _("%(what)s has no time of measurement.") % {"what": _what(built)})
        )
    return problems


def _medication(built: Built) -> list[Problem]:
    codings = (built.resource.get("code") or {}).get("coding") or []
    if any(coding.get("system") == SYSTEM_KFA and coding.get("code") for coding in codings):
        return []
    return [
        Problem(
            "no_kfa",
            _("%(drug)s: no KFA code yet. Map this drug on the KFA drug codes page.") % {"drug": _what(built)},
        )
    ]


def _medication_request(built: Built) -> list[Problem]:
    reference = (built.resource.get("medicationReference") or {}).get("reference") or ""
    if reference.startswith(("Medication/", f"{PLACEHOLDER}Medication:")):
        return []
    display = (built.resource.get("medicationReference") or {}).get("display") or _what(built)
    return [
        Problem(
            "medication_request_invalid", _("The prescription of %(drug)s names no medication.") % {"drug": display}
        )
    ]


def _patient(resource: dict, now: datetime.datetime) -> list[Problem]:
    text = resource.get("birthDate")
    if not isinstance(text, str):
        return [Problem("patient_invalid", _("The patient has no birth date."))]
    try:
        born = datetime.date.fromisoformat(text)
    except ValueError:
        return [Problem("patient_invalid", _("The patient's birth date %(date)s cannot be read.") % {"date": text})]
    if born < EARLIEST_BIRTH_DATE:
        return [Problem("patient_invalid", _("The patient's birth date %(date)s is before 1900.") % {"date": text})]
    if born > (now + CLOCK_SLACK).date():
        return [Problem("patient_invalid", _("The patient's birth date %(date)s is in the future.") % {"date": text})]
    return []


def find_problems(built: Built, *, now: datetime.datetime | None = None) -> list[Problem]:
    """Every problem of one resource, each with a code and a message."""
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
    elif kind == "Patient":
        found += _patient(built.resource, now)
    return found


def problems(built: Built) -> list[str]:
    """What SATUSEHAT would refuse in this resource, as sentences for the clinic's staff."""
    return [problem.message for problem in find_problems(built)]


def visit_problems_found(builts: list[Built]) -> list[Problem]:
    """Every problem of a visit's resources (those sent only to retract are not checked), once each."""
    now = timezone.now()
    seen: dict[str, Problem] = {}
    for built in builts:
        if built.retract:
            continue
        for problem in find_problems(built, now=now):
            seen.setdefault(problem.message, problem)
    return list(seen.values())


def visit_problems(builts: list[Built]) -> list[str]:
    """What SATUSEHAT would refuse in a visit, each sentence once."""
    return [problem.message for problem in visit_problems_found(builts)]
