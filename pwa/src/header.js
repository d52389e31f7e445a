// The header: the clinic, where the device stands (online, ready to work offline, its changes in words:
// never "all synced" while one waits, was refused or is in conflict), the screens, and a menu with the
// person, the last sync, the language, the clinic's server pages and logout. On a phone it is two
// short lines and the menu folds away; on a wide screen the menu is open beside them.
import { app } from './app.js';
import { lang, setLanguage, t } from './i18n.js';
import { rerender } from './router.js';
import { logout } from './session.js';
import { runSync } from './syncloop.js';
import { clear, fmtTime, h } from './ui.js';

const WIDE = '(min-width: 64rem)';

export function renderBar() {
  const bar = document.getElementById('bar');
  if (!app.user) return clear(bar);
  const online = navigator.onLine && app.problem !== 'network';
  const suspended = app.problem === 'suspended';
  const revoked = app.problem === 'revoked';
  const { pending, failed, conflicts, lastSyncAt } = app.stats;
  const menuWasOpen = bar.querySelector('#menu')?.open;
  clear(
    bar,
    h(
      'div',
      { class: 'bar-line' },
      h('strong', { class: 'brand' }, app.user.clinic_name || app.user.clinic),
      h(
        'div',
        {
          class: 'sync-state',
          id: 'sync-state',
          dataset: { online: online ? '1' : '0', pending: String(pending), syncing: app.syncing ? '1' : '0' },
        },
        h(
          'span',
          { class: `dot ${online && !suspended && !revoked ? 'on' : 'off'}`, id: 'online-state' },
          revoked ? t('revoked_short') : suspended ? t('suspended_short') : online ? t('online') : t('offline'),
        ),
        // What needs the person links to where they act on it.
        failed || conflicts
          ? h('a', { id: 'pending-count', class: 'attention', href: '#/sync' }, syncState(pending, failed, conflicts))
          : h('span', { id: 'pending-count' }, syncState(pending, failed, conflicts)),
        offlineState(lastSyncAt),
      ),
    ),
    h(
      'div',
      { class: 'bar-line' },
      h(
        'nav',
        {},
        h('a', { href: '#/' }, t('patients')),
        h('a', { href: '#/queue', id: 'nav-queue' }, t('q_nav')),
        h(
          'a',
          { href: '#/sync' },
          t('sync_panel'),
          failed || conflicts ? h('span', { class: 'badge bad', id: 'attention' }, String(failed + conflicts)) : null,
        ),
      ),
      menu(lastSyncAt, menuWasOpen ?? window.matchMedia(WIDE).matches),
    ),
    app.progress
      ? h(
          'div',
          {
            class: 'progress',
            role: 'progressbar',
            'aria-valuenow': app.progress.received,
            'aria-valuemax': app.progress.total,
          },
          t('downloading', { n: app.progress.received, total: app.progress.total }),
          h('progress', { value: app.progress.received, max: app.progress.total || 1 }),
        )
      : null,
  );
}

/** Whether this device holds what it needs to work with no connection: the app's files (the service
 * worker controls the page) and a first full download of the clinic's records. */
function offlineState(lastSyncAt) {
  const ready = Boolean(navigator.serviceWorker?.controller) && Boolean(lastSyncAt);
  return h(
    'span',
    { id: 'offline-ready', class: ready ? 'ready' : 'muted', dataset: { ready: ready ? '1' : '0' } },
    ready ? t('offline_ready') : t('offline_preparing'),
  );
}

function menu(lastSyncAt, open) {
  const links = app.user.links || {};
  const serverPage = (key, label) => (links[key] ? h('a', { href: links[key], class: 'menu-link' }, t(label)) : null);
  return h(
    'details',
    { id: 'menu', class: 'menu', open },
    h('summary', {}, t('menu')),
    h(
      'div',
      { class: 'menu-body' },
      h('span', { class: 'who' }, `${app.user.full_name || app.user.email} · ${t(`role_${app.user.role}`)}`),
      h(
        'span',
        { class: 'muted', id: 'last-sync' },
        t('last_sync', { t: lastSyncAt ? fmtTime(lastSyncAt) : t('never') }),
      ),
      h('button', { type: 'button', id: 'sync-now', onclick: () => runSync() }, t('sync_now')),
      h(
        'select',
        {
          id: 'language',
          'aria-label': t('language'),
          onchange: (event) => {
            setLanguage(event.target.value);
            renderBar();
            rerender(true);
          },
        },
        h('option', { value: 'id', selected: lang() === 'id' }, 'Bahasa Indonesia'),
        h('option', { value: 'en', selected: lang() === 'en' }, 'English'),
      ),
      serverPage('staff', 'link_staff'),
      serverPage('reports', 'link_reports'),
      serverPage('displays', 'link_displays'),
      serverPage('clinic_settings', 'link_clinic_settings'),
      serverPage('devices', 'link_devices'),
      serverPage('audit', 'link_audit'),
      serverPage('satusehat', 'link_satusehat'),
      serverPage('export', 'link_export'),
      serverPage('two_factor', 'link_two_factor'),
      serverPage('password', 'link_password'),
      serverPage('home', 'link_home'),
      h('button', { type: 'button', id: 'logout', onclick: logout }, t('logout')),
    ),
  );
}

/** What the header says of the device's changes: never "all synced" while one waits, was refused or
 * is in conflict (those last two need the person, on the Sync page). */
function syncState(pending, failed, conflicts) {
  if (app.syncing) return t('syncing');
  const parts = [
    pending ? t('waiting', { n: pending }) : null,
    failed ? t('refused_n', { n: failed }) : null,
    conflicts ? t('conflicts_n', { n: conflicts }) : null,
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : t('all_synced');
}
