// A patient's age on a given day, as a clinic says it: years from two, months under two, days in
// the first month. A pure function of calendar dates (no page, no store), so it is tested alone.

/** A calendar date's year, month (1-12) and day: from 'YYYY-MM-DD' as written, or from a time (a
 * Date or an ISO time) on this device's calendar. Null when it cannot be read. */
function calendarDate(value) {
  const written = typeof value === 'string' && /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (written) return { year: Number(written[1]), month: Number(written[2]), day: Number(written[3]) };
  const date = value instanceof Date ? value : new Date(value);
  if (value === null || value === undefined || value === '' || Number.isNaN(date.getTime())) return null;
  return { year: date.getFullYear(), month: date.getMonth() + 1, day: date.getDate() };
}

/**
 * The age of someone born on `birthDate` ('YYYY-MM-DD') on the day of `on` (a 'YYYY-MM-DD', a Date
 * or an ISO time): `{count, unit}` with `unit` 'years' (two and over), 'months' (a month to two
 * years) or 'days' (under a month). Null if either date is missing or the birth comes after `on`.
 */
export function ageAt(birthDate, on) {
  const born = calendarDate(birthDate);
  const day = calendarDate(on);
  if (!born || !day) return null;
  const beforeBirthday = day.month < born.month || (day.month === born.month && day.day < born.day);
  const years = day.year - born.year - (beforeBirthday ? 1 : 0);
  if (years >= 2) return { count: years, unit: 'years' };
  const months = (day.year - born.year) * 12 + (day.month - born.month) - (day.day < born.day ? 1 : 0);
  if (months >= 1) return { count: months, unit: 'months' };
  const days = (Date.UTC(day.year, day.month - 1, day.day) - Date.UTC(born.year, born.month - 1, born.day)) / 86400000;
  return days >= 0 ? { count: days, unit: 'days' } : null;
}
