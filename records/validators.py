"""Checks of clinical input that a person can act on: NIK form, dates not in the future."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
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
    if value > timezone.localdate():
        raise ValidationError(_("This date is in the future."), code="future")
