// The service worker: precaches the app shell from a revisioned build (Workbox) and serves it offline,
// cache first. A new build installs beside the old one and waits; the page offers "reload to update"
// and only then is it activated (SKIP_WAITING), so work in progress is never cut off. The API is never
// cached: records live in IndexedDB. Background Sync: when the link returns, a visible page is asked to
// sync (it shows the progress); with none visible the worker syncs the signed-in person's store itself
// (hidden pages are not asked as well, which would only queue the same sync twice behind the lock).
import { cleanupOutdatedCaches, matchPrecache, precache } from 'workbox-precaching';
import { databaseName, getMeta, openStore, storeExists } from './store.js';
import { SyncError, syncRun, whoIsSignedIn, withSyncLock } from './sync.js';

precache(self.__WB_MANIFEST);
cleanupOutdatedCaches();

const NOT_CACHED = new Set(['/app/sw.js', '/app/manifest.webmanifest']);

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/app/')) return;
  if (NOT_CACHED.has(url.pathname)) return;
  const key = request.mode === 'navigate' || url.pathname === '/app/' ? '/app/index.html' : url.pathname;
  event.respondWith(matchPrecache(key).then((cached) => cached || fetch(request)));
});

// The first worker takes the page that installed it at once, so a device works offline from its
// first visit, without a reload. An update is different: it waits for the person's "reload".
self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') self.skipWaiting();
});

self.addEventListener('sync', (event) => {
  if (event.tag !== 'emr-sync') return;
  event.waitUntil(syncFromWorker());
});

/** A rejected promise tells the browser to try the sync event again later (with its own backoff), so
 * only what time can mend rejects: no network, a server error. */
async function syncFromWorker() {
  const windows = await self.clients.matchAll({ type: 'window' });
  const visible = windows.filter((client) => client.visibilityState === 'visible');
  if (visible.length) {
    for (const client of visible) client.postMessage({ type: 'SYNC_NOW' }); // a page syncs and shows it
    return;
  }
  try {
    // Inside the try: a suspended clinic answers here, and is no reason for the browser to try again.
    const me = await whoIsSignedIn();
    if (!me) return; // signed out: the app syncs after sign-in
    const name = databaseName(me.clinic, me.id);
    // Inside the lock, so a logout deleting this database is never undone by a write of this sync.
    await withSyncLock(name, async () => {
      if (!(await storeExists(me.clinic, me.id))) return; // no store of this person on this device
      const db = openStore(me.clinic, me.id);
      try {
        const deviceId = await getMeta(db, 'deviceId');
        if (deviceId) await syncRun(db, { deviceId, csrf: me.csrf_token });
      } finally {
        db.close();
      }
    });
  } catch (error) {
    if (error instanceof SyncError && !['network', 'server'].includes(error.kind)) return; // the app shows it
    throw error;
  }
}
