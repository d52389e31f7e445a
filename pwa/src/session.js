// Who is signed in (online from the server, offline the last person on this device), signing out, and
// logout: only once every change is synced and the chart openings are sent, then the device is wiped.
import { app, notice } from './app.js';
import { cookie, t } from './i18n.js';
import { refreshStats, runSync, syncToEnd } from './syncloop.js';
import { whoIsSignedIn, withSyncLock } from './sync.js';
import { h } from './ui.js';

/** Who is signed in (null if nobody); keeps the session's CSRF token for the app's writes. */
export async function fetchMe() {
  const me = await whoIsSignedIn();
  if (!me) return null;
  app.csrf = me.csrf_token;
  app.meFresh = true;
  return me;
}

export function showSignedOut() {
  notice('session', t('signed_out'), h('a', { href: loginUrl(), class: 'button' }, t('sign_in')));
}

/** One notice naming the clinic, saying nothing was lost and whom to contact (the server's words). */
export function showSuspended(error) {
  app.problem = 'suspended';
  notice('session', error.message || t('suspended', { clinic: error.clinicName || '' }));
}

function loginUrl() {
  return `/accounts/login/?next=${encodeURIComponent('/app/')}`;
}

/** The person this page works for: the signed-in one, or offline the last one on this device (null
 * after sending a signed-out visitor online to the sign-in page). */
export async function identify() {
  const cached = JSON.parse(localStorage.getItem('emr.user') || 'null');
  try {
    const me = await fetchMe();
    if (!me) {
      if (cached) {
        showSignedOut();
        return cached;
      }
      window.location.replace(loginUrl());
      return null;
    }
    const user = {
      id: me.id,
      email: me.email,
      full_name: me.full_name,
      role: me.role,
      clinic: me.clinic,
      clinic_name: me.clinic_name,
      links: me.links || {}, // the clinic's server pages this person may open (staff, two-factor...)
      clinic_details: me.clinic_details || {}, // letterhead and queue options, for offline papers
      staff: me.staff || [], // active staff: practitioners to choose, names and SIP numbers to print
    };
    localStorage.setItem('emr.user', JSON.stringify(user));
    return user;
  } catch (error) {
    if (error?.kind === 'suspended') showSuspended(error);
    return cached; // offline or suspended: the last person who signed in on this device, at this clinic
  }
}

export async function logout() {
  await refreshStats();
  const unsynced = app.stats.pending + app.stats.failed;
  if (unsynced) {
    if (!navigator.onLine) return notice('logout', t('logout_offline'));
    return notice(
      'logout',
      t('logout_pending', { n: unsynced }),
      h(
        'button',
        {
          type: 'button',
          id: 'sync-then-logout',
          onclick: async () => {
            await runSync();
            await refreshStats();
            if (app.stats.pending + app.stats.failed)
              notice('logout', t('still_pending', { n: app.stats.pending + app.stats.failed }));
            else await leaveOnceOpeningsSent();
          },
        },
        t('sync_then_logout'),
      ),
    );
  }
  return leaveOnceOpeningsSent();
}

/** Chart openings still waiting are the clinic's audit trail: they are sent before the device's
 * database is deleted, and if they cannot be, nothing is deleted. */
async function leaveOnceOpeningsSent() {
  if (app.stats.openings) {
    await syncToEnd();
    await refreshStats();
    // Only the network is waited for: a device the server refuses (revoked, signed out) is wiped all
    // the same, as the person asked, since nothing it holds would ever be taken.
    if (app.stats.openings && ['network', 'suspended'].includes(app.problem))
      return notice('logout', t('logout_openings'));
  }
  return wipeAndLeave();
}

/** The session's CSRF token from its cookie (named `__Host-csrftoken` in production), for when
 * /api/me/ could not give it (a suspended clinic answers it 403, yet signing out must still work). */
function csrfCookie() {
  return cookie('__Host-csrftoken') || cookie('csrftoken');
}

async function wipeAndLeave() {
  if (!app.meFresh) await fetchMe().catch(() => null);
  // Signed out on the server before anything is deleted: a device wiped while its session lives on
  // would let the next person at this device in as this one.
  const signedOut = await fetch('/accounts/logout/', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-CSRFToken': app.csrf || csrfCookie(), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: '',
  }).then(
    (response) => response.ok,
    () => false,
  );
  if (!signedOut) return notice('logout', t('logout_needs_server'));
  const name = app.db.name;
  const { default: Dexie } = await import('dexie');
  // Under the sync lock: a sync still running (this page's or the service worker's) ends first, and
  // none can write (and so re-create the database) after it is deleted.
  await withSyncLock(name, async () => {
    app.db.close();
    app.db = null;
    await Dexie.delete(name);
  });
  localStorage.removeItem('emr.user');
  window.location.replace('/accounts/login/');
}
