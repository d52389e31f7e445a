// The app's start: who is signed in, the device's store, the first screen, the sync loop and the
// service worker. The screens are in screens/, the sync loop in syncloop.js, the header in header.js.
import { app, notice } from './app.js';
import { renderBar } from './header.js';
import { lang, setLanguage, t } from './i18n.js';
import { noteChartOpening, render, rerender, route } from './router.js';
import { registerServiceWorker } from './serviceworker.js';
import { identify } from './session.js';
import { getMeta, openStore, randomId, setMeta } from './store.js';
import { refreshStats, runSync, save } from './syncloop.js';
import { clear, h } from './ui.js';

const QUEUE_SYNC_MS = 3000;

async function start() {
  setLanguage(lang());
  // A device's first visit fetches the app's files for offline use after its first download, so on a
  // slow link they do not share it with the records; an installed app checks for an update at once.
  const installed = Boolean(navigator.serviceWorker?.controller);
  const install = () => registerServiceWorker().catch(() => {});
  if (installed) install();
  const user = await identify();
  if (!user) {
    if (!navigator.onLine) clear(document.getElementById('view'), h('p', {}, t('need_login')));
    if (!installed) install();
    return;
  }
  app.user = user;
  document.title = user.clinic_name || 'Klinik';
  app.db = openStore(user.clinic, user.id);
  // A newer app in another tab is upgrading this database: this tab's code is the older one, so it
  // offers a reload (its pending changes are in the database, untouched).
  app.db.on('versionchange', (event) => {
    if (!event.newVersion) return; // deleted (another tab logged out), not upgraded
    notice(
      'update',
      t('database_upgraded'),
      h('button', { type: 'button', id: 'reload-upgraded', onclick: () => window.location.reload() }, t('reload')),
    );
  });
  app.deviceId = await getMeta(app.db, 'deviceId');
  if (!app.deviceId) {
    app.deviceId = `d-${randomId()}`;
    await setMeta(app.db, 'deviceId', app.deviceId);
  }
  navigator.storage?.persist?.().catch(() => {});
  await refreshStats();
  noteChartOpening();
  await render();
  window.addEventListener('hashchange', () => {
    noteChartOpening();
    render();
  });
  window.addEventListener('online', () => {
    app.problem = null;
    renderBar();
    app.registration?.update().catch(() => {});
    runSync();
  });
  window.addEventListener('offline', () => renderBar());
  // Back to the app: the service worker or another tab may have synced meanwhile.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') {
      refreshStats();
      rerender();
    }
  });
  setInterval(() => {
    if (navigator.onLine) runSync();
  }, 30000);
  // The day's queue moves by the minute: while it is on screen, every device asks every few seconds.
  setInterval(() => {
    if (navigator.onLine && !document.hidden && route().kind === 'queue') runSync();
  }, QUEUE_SYNC_MS);
  app.ready = true;
  app.readyAt = performance.now(); // ms from navigation to a working app (the cold-start benchmark reads it)
  const firstSync = navigator.onLine ? runSync() : Promise.resolve();
  if (!installed) firstSync.finally(install);
}

/** The field being typed in stays above a phone's keyboard: when the keyboard opens (the visual
 * viewport shrinks), the focused field is brought back into view. */
function keepFocusAboveKeyboard() {
  window.visualViewport?.addEventListener('resize', () => {
    const field = document.activeElement;
    if (field?.matches('input, textarea, select')) field.scrollIntoView({ block: 'nearest' });
  });
}

keepFocusAboveKeyboard();
app.runSync = runSync;
app.save = save; // the screens' one write path (records + outbox in one transaction)
app.randomId = randomId;
start();
