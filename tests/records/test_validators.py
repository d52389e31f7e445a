"""records.validators: the checks a person sees, at the edges where they are easy to get wrong."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from records.validators import validate_not_future


@pytest.mark.parametrize("utc_time", ["00:30", "12:00", "23:30"])
@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Asia/Jakarta", "UTC", "Etc/GMT+12"])
def test_not_future_is_today_in_the_clinics_zone_at_both_ends_of_the_world(zone, utc_time, monkeypatch):
    now = datetime.datetime.fromisoformat(f"2026-03-02T{utc_time}:00+00:00")
    monkeypatch.setattr(timezone, "now", lambda: now)
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
        for days_ago in (0, 1, 2, 3, 20_000):
            validate_not_future(today - datetime.timedelta(days=days_ago))
        with pytest.raises(ValidationError) as refused:
            validate_not_future(today + datetime.timedelta(days=1))
        assert refused.value.code == "future"
