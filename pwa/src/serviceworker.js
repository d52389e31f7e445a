// The service worker: registered for offline use, an update offered as "reload" (never while a form is
// being filled in), and the worker's background sync asking this page to sync.
import { app, notice } from './app.js';
import { renderBar } from './header.js';
import { t } from './i18n.js';
import { busy } from './router.js';
import { runSync } from './syncloop.js';
import { h } from './ui.js';

export async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' });
  const offer = (worker, text = t('update_ready')) => {
    notice(
      'update',
      text,
      h(
        'button',
        {
          type: 'button',
          id: 'reload-update',
          onclick: () => {
            if (busy()) return offer(worker, t('save_first')); // a half-written entry is never cut off
            app.reloading = true;
            worker.postMessage({ type: 'SKIP_WAITING' });
          },
        },
        t('reload'),
      ),
    );
  };
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker);
    });
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (app.reloading) window.location.reload();
    else renderBar(); // the first worker took this page: the device is ready offline
  });
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type === 'SYNC_NOW') runSync();
  });
  app.registration = registration;
}
