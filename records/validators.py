"""Checks of clinical input that a person can act on: NIK form, dates not in the future, vital ranges."""

import datetime
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

NIK_RE = re.compile(r"^\d{16}$")


def validate_nik(value: str) -> None:
    """Indonesia's NIK: 16 digits; province code 11-94; digits 7-12 are the birth date as DDMMYY
    (women add 40 to the day)."""
    if not value:
        return
    if not NIK_RE.fullmatch(value):
        raise ValidationError(_("A NIK is exactly 16 digits."), code="nik_format")
    province = int(value[:2])
    day, month = int(value[6:8]), int(value[8:10])
    if day > 40:
        day -= 40
    if not (11 <= province <= 94) or not (1 <= day <= 31) or not (1 <= month <= 12):
        raise ValidationError(
            _("This NIK is not valid: check the province code and the birth date in digits 7 to 12."),
            code="nik_invalid",
        )


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
