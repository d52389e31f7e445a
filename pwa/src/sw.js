// The service worker: precaches the app shell from a revisioned build (Workbox) and serves it offline,
// cache first. A new build installs beside the old one and waits; the page offers "reload to update"
// and only then is it activated (SKIP_WAITING), so work in progress is never cut off. The API is never
// cached: records live in IndexedDB. Background Sync: when the link returns, an open page is asked to
// sync (it shows the progress); with no page open the worker syncs the signed-in person's store itself.
import { cleanupOutdatedCaches, matchPrecache, precache } from 'workbox-precaching';
import { getMeta, openStore, storeExists } from './store.js';
import { syncOnce } from './sync.js';

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

self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') self.skipWaiting();
});

self.addEventListener('sync', (event) => {
  if (event.tag !== 'emr-sync') return;
  event.waitUntil(syncFromWorker());
});

/** A rejected promise tells the browser to try the sync event again later (with its own backoff). */
async function syncFromWorker() {
  const windows = await self.clients.matchAll({ type: 'window' });
  if (windows.length) {
    for (const client of windows) client.postMessage({ type: 'SYNC_NOW' });
    return;
  }
  const response = await fetch('/api/me/', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (response.status === 401 || response.status === 403) return; // signed out: the app syncs after sign-in
  if (!response.ok) throw new Error(`me: ${response.status}`);
  const me = await response.json();
  if (!(await storeExists(me.clinic, me.id))) return; // this person has no store on this device
  const db = openStore(me.clinic, me.id);
  try {
    const deviceId = await getMeta(db, 'deviceId');
    if (deviceId) await syncOnce(db, { deviceId, csrf: me.csrf_token });
  } finally {
    db.close();
  }
}
