// The service worker: precaches the app shell from a revisioned build (Workbox) and serves it offline,
// cache first. A new build installs beside the old one and waits; the page offers "reload to update"
// and only then is it activated (SKIP_WAITING), so work in progress is never cut off. The API is never
// cached: records live in IndexedDB. Background Sync wakes open pages to sync when the link returns.
import { cleanupOutdatedCaches, matchPrecache, precache } from 'workbox-precaching';

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
  event.waitUntil(
    self.clients.matchAll({ type: 'window' }).then((clients) => {
      for (const client of clients) client.postMessage({ type: 'SYNC_NOW' });
    }),
  );
});
