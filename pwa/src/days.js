// Calendar days on the device's calendar, as "YYYY-MM-DD": the clinic's days, since its devices keep
// its time. Pure (no page, no bundled data), so the service worker's bundle and node may import it.

/** A number as two digits ("07"). */
export const two = (n) => String(n).padStart(2, '0');

/** Today, or the day of `now`. */
export function today(now = new Date()) {
  return `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
}

/** The day of a time (an ISO string or milliseconds; now by default). */
export function localDay(time = Date.now()) {
  return today(new Date(time));
}
