// The header: the clinic and the person, the screens, and the sync state in words (never "all synced"
// while a change waits, was refused or is in conflict), with the language and logout.
import { app } from './app.js';
import { lang, setLanguage, t } from './i18n.js';
import { rerender } from './router.js';
import { logout } from './session.js';
import { runSync } from './syncloop.js';
import { clear, fmtTime, h } from './ui.js';

export function renderBar() {
  const bar = document.getElementById('bar');
  if (!app.user) return clear(bar);
  const online = navigator.onLine && app.problem !== 'network';
  const { pending, failed, conflicts, lastSyncAt } = app.stats;
  const progress = app.progress
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
    : null;
  clear(
    bar,
    h(
      'div',
      { class: 'brand' },
      h('strong', {}, app.user.clinic_name || app.user.clinic),
      h('span', { class: 'muted' }, ` · ${app.user.full_name || app.user.email} (${t(`role_${app.user.role}`)})`),
    ),
    h(
      'nav',
      {},
      h('a', { href: '#/' }, t('patients')),
      h(
        'a',
        { href: '#/sync' },
        t('sync_panel'),
        failed || conflicts ? h('span', { class: 'badge bad', id: 'attention' }, String(failed + conflicts)) : null,
      ),
    ),
    h(
      'div',
      {
        class: 'sync-state',
        id: 'sync-state',
        dataset: { online: online ? '1' : '0', pending: String(pending), syncing: app.syncing ? '1' : '0' },
      },
      h('span', { class: `dot ${online ? 'on' : 'off'}`, id: 'online-state' }, online ? t('online') : t('offline')),
      // What needs the person links to where they act on it.
      failed || conflicts
        ? h('a', { id: 'pending-count', class: 'attention', href: '#/sync' }, syncState(pending, failed, conflicts))
        : h('span', { id: 'pending-count' }, syncState(pending, failed, conflicts)),
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
      h('button', { type: 'button', id: 'logout', onclick: logout }, t('logout')),
    ),
    progress,
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
