"""Indonesian dates with the month's whole name ("7 Desember 2026") and the time zone (WIB, WITA, WIT)."""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H.i T"
TIME_FORMAT = "H.i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H.i"
