"""Checks of clinical input that a person can act on: NIK form and its birth-date digits, dates not in the
future, vital ranges."""

import datetime
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

NIK_RE = re.compile(r"^[0-9]{16}$")  # ASCII digits only: `\d` also takes other scripts' digits
NIK_PROVINCES = (11, 94)  # the first two digits: the province's code
NIK_FEMALE_DAY_OFFSET = 40  # a woman's NIK adds it to the day of birth


def nik_birth(value: str) -> tuple[int, int, int, bool]:
    """The birth a 16-digit NIK holds in digits 7 to 12 (DDMMYY): day, month, year of the century, and
    whether it is a woman's (40 added to the day)."""
    day, month, year = int(value[6:8]), int(value[8:10]), int(value[10:12])
    female = day > NIK_FEMALE_DAY_OFFSET
    return (day - NIK_FEMALE_DAY_OFFSET if female else day), month, year, female


def validate_nik(value: str) -> None:
    """Indonesia's NIK: 16 digits; province code 11-94; digits 7-12 are the birth date as DDMMYY
    (women add 40 to the day)."""
    if not value:
        return
    if not NIK_RE.fullmatch(value):
        raise ValidationError(_("A NIK is exactly 16 digits."), code="nik_format")
    province = int(value[:2])
    day, month, _year, _female = nik_birth(value)
    low, high = NIK_PROVINCES
    if not (low <= province <= high) or not (1 <= day <= 31) or not (1 <= month <= 12):
        raise ValidationError(
            _("This NIK is not valid: check the province code and the birth date in digits 7 to 12."),
            code="nik_invalid",
        )


def nik_birth_digits(birth_date: datetime.date, female: bool | None) -> str:
    """Digits 7 to 12 of the NIK of someone born on `birth_date`: DDMMYY, 40 added to a woman's day."""
    day = birth_date.day + (NIK_FEMALE_DAY_OFFSET if female else 0)
    return f"{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"


def validate_nik_matches_person(nik: str, birth_date: datetime.date | None, female: bool | None) -> None:
    """A NIK's digits 7 to 12 are the person's birth date, with 40 added to the day exactly when the
    person is a woman (`female` None: sex not known, only the date is compared). A NIK of the wrong form,
    or no birth date, is left to the fields' own checks, which say what is wrong with them."""
    if not nik or not isinstance(birth_date, datetime.date):
        return
    try:
        validate_nik(nik)
    except ValidationError:
        return
    day, month, year, nik_female = nik_birth(nik)
    if (day, month, year) != (birth_date.day, birth_date.month, birth_date.year % 100):
        raise ValidationError(
            _(
                "This NIK does not match the birth date: its digits 7 to 12 should be %(expected)s (day, month "
                "and year of birth; women add 40 to the day). Check the NIK and the birth date."
            ),
            code="nik_birth_date",
            params={"expected": nik_birth_digits(birth_date, female)},
        )
    if female is not None and nik_female != female:
        message = (
            _(
                "This NIK is a woman's (40 is added to the day of birth) but the patient is male. "
                "Check the NIK and the sex."
            )
            if nik_female
            else _(
                "This NIK is a man's (a woman's adds 40 to the day of birth) but the patient is female. "
                "Check the NIK and the sex."
            )
        )
        raise ValidationError(message, code="nik_sex")


def validate_not_future(value: datetime.date) -> None:
    """Not after today in the clinic's time zone. A date before today in UTC is not after today in any
    zone (none is a day behind UTC): most dates checked, birth dates, are answered without converting
    to the active zone (about 2 µs each, for every patient of a device's batch)."""
    now = timezone.now()
    if value < now.date():
        return
    if value > timezone.localdate(now):
        raise ValidationError(_("This date is in the future."), code="future")


OLDEST_BIRTH_DATE = datetime.date(1900, 1, 1)


def validate_birth_date(value: datetime.date) -> None:
    """Not before 1900: nobody alive was born earlier, and year 1 is what an unset date picker sends."""
    if value < OLDEST_BIRTH_DATE:
        raise ValidationError(_("A birth date is 1900 or later."), code="too_old")


@deconstructible
class PhysiologicalRange:
    """A measurement within what a living person can show, with the range and unit in the message."""

    def __init__(self, low: Decimal | int, high: Decimal | int, unit: str) -> None:
        self.low, self.high, self.unit = low, high, unit

    def __call__(self, value: Decimal | int | None) -> None:
        if value is not None and not (self.low <= value <= self.high):
            raise ValidationError(
                _("Must be between %(low)s and %(high)s %(unit)s."),
                code="out_of_range",
                params={"low": self.low, "high": self.high, "unit": self.unit},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PhysiologicalRange) and (self.low, self.high, self.unit) == (
            other.low,
            other.high,
            other.unit,
        )

    def __hash__(self) -> int:
        return hash((self.low, self.high, self.unit))
