// The sync loop beside the screens: a run after each save, every 30 s while online and on the service
// worker's word; retries with backoff; what stopped a run, said in the notices line; the header's
// counts. Also the screens' one write path, `save` (records and outbox in one transaction).
import { app, notice } from './app.js';
import { renderBar } from './header.js';
import { t } from './i18n.js';
import { rerender } from './router.js';
import { fetchMe, showSignedOut, showSuspended } from './session.js';
import { isQuotaError, syncStats, writeChanges } from './store.js';
import { SyncError, syncOnce } from './sync.js';
import { h } from './ui.js';

/** Write changes to the device (records and outbox together), then sync soon. */
export async function save(changes) {
  try {
    await writeChanges(app.db, changes);
  } catch (error) {
    if (isQuotaError(error)) throw new Error(t('quota'), { cause: error });
    throw new Error(t('save_error', { e: error.message || error }), { cause: error });
  }
  notice('saved', t('saved_offline'));
  setTimeout(() => notice('saved', ''), 2500);
  await refreshStats();
  scheduleSync(300);
  navigator.serviceWorker?.ready.then((registration) => registration.sync?.register('emr-sync')).catch(() => {});
}

export async function refreshStats() {
  app.stats = await syncStats(app.db);
  renderBar();
}

/** A sync run that starts now or, if one is running, right after it. */
export async function syncToEnd() {
  while (app.syncing)
    await new Promise((resolve) => {
      setTimeout(resolve, 100);
    });
  await runSync();
}

export function scheduleSync(delay) {
  clearTimeout(app.retryTimer);
  app.retryTimer = setTimeout(runSync, delay);
}

export async function runSync() {
  if (!app.db) return;
  if (app.problem === 'revoked') return showRevoked(); // revoked for good: nothing to try again
  if (app.syncing) {
    app.again = true;
    return;
  }
  app.syncing = true;
  renderBar();
  // The screen is redrawn after a run only if the run changed the store: an offline attempt every few
  // seconds must not replace the buttons under a person's finger.
  let changed = false;
  const onProgress = (progress) => {
    if (progress.phase === 'push' || progress.received) changed = true;
    onSyncProgress(progress);
  };
  try {
    if (
      !app.meFresh &&
      !(await fetchMe().catch(() => {
        throw new SyncError('network', 'offline');
      }))
    ) {
      throw new SyncError('signed_out', '');
    }
    await syncOnce(app.db, {
      deviceId: app.deviceId,
      csrf: app.csrf,
      onProgress,
      batchSize: app.batchSize,
      batchBytes: app.batchBytes,
      pullLimit: app.pullLimit,
    });
    app.problem = null;
    app.retryDelay = 2000;
    notice('session', '');
    notice('sync', '');
  } catch (error) {
    handleSyncError(error);
  } finally {
    app.syncing = false;
    app.progress = null;
    await refreshStats();
    if (changed || app.stale) rerender();
    if (app.again) {
      app.again = false;
      scheduleSync(50);
    }
  }
}

/** What stopped a sync: the server's answer or the network (a SyncError), the device's full storage,
 * or another error of this device. Only a network error shows the app as offline. */
function problemOf(error) {
  if (error instanceof SyncError) return error.kind;
  return isQuotaError(error) ? 'quota' : 'device';
}

function handleSyncError(error) {
  const kind = problemOf(error);
  app.problem = kind;
  if (kind === 'signed_out') {
    app.meFresh = false;
    showSignedOut();
    return;
  }
  if (kind === 'revoked') {
    clearTimeout(app.retryTimer);
    showRevoked();
    return;
  }
  if (kind === 'suspended') {
    app.meFresh = false;
    showSuspended(error);
    scheduleSync(60000); // a suspension is lifted by the platform's people, not in seconds
    return;
  }
  if (kind === 'refused') {
    app.meFresh = false; // a stale CSRF token after signing in again is refreshed on the next try
    notice('sync', t('refused', { e: error.message }));
  } else if (kind === 'server') {
    notice('sync', t('server_error'));
  } else if (kind === 'gap') {
    notice('sync', t('out_of_step', { n: error.message }));
  } else if (kind === 'quota') {
    notice('sync', t('quota_sync'));
  } else if (kind === 'device') {
    notice('sync', t('sync_device_error', { e: error?.message || String(error) }));
  } else if (kind !== 'network') {
    notice('sync', t('refused', { e: error.message }));
  }
  scheduleSync(app.retryDelay);
  app.retryDelay = Math.min(app.retryDelay * 2, 60000);
}

/** The plain word that the owner revoked this device, what to do, and the way to the unsent changes. */
function showRevoked() {
  notice(
    'session',
    t('device_revoked'),
    h('a', { href: '#/sync', class: 'button', id: 'open-sync' }, t('open_sync_page')),
  );
}

function onSyncProgress(progress) {
  if (progress.phase === 'pull' && progress.hasMore) app.progress = progress;
  else app.progress = null;
  renderBar();
}
