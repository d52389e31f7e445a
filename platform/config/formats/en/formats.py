"""English for clinics in Indonesia: day before month ("7 December 2026", 07/12/2026), a 24-hour clock
and the time zone, never the US 12/07/2026 that reads as 12 July here."""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i T"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
