// The Sync page: refused changes (with the server's reasons, to correct or discard) and conflicts.
import { app } from '../app.js';
import { t } from '../i18n.js';
import { rerender } from '../router.js';
import { discardFailed, openConflicts, refusedChanges } from '../store.js';
import { refreshStats } from '../syncloop.js';
import { h, showErrors } from '../ui.js';

export async function syncScreen() {
  const failed = await refusedChanges(app.db);
  const conflicts = await openConflicts(app.db);
  const persisted = await navigator.storage?.persisted?.();
  return h(
    'section',
    {},
    h('h2', {}, t('failed_title')),
    h(
      'ul',
      { class: 'list', id: 'failed-list' },
      failed.length
        ? failed.map((m) =>
            h(
              'li',
              { dataset: { seq: m.seq } },
              h(
                'a',
                {
                  href:
                    m.entity === 'patient'
                      ? `#/patient/${m.record_id}`
                      : m.entity === 'visit'
                        ? `#/visit/${m.record_id}`
                        : '#/sync',
                },
                `${t(`entity_${m.entity}`)} · ${t(`op_${m.op}`)}`,
              ),
              showErrors(m.errors),
              h(
                'button',
                {
                  type: 'button',
                  onclick: async () => {
                    await discardFailed(app.db, m.seq);
                    await refreshStats();
                    rerender(true);
                  },
                },
                t('discard'),
              ),
            ),
          )
        : h('li', { class: 'muted' }, t('none')),
    ),
    h('h2', {}, t('conflicts_title')),
    h(
      'ul',
      { class: 'list', id: 'conflict-list' },
      conflicts.length
        ? conflicts.map((c) =>
            h(
              'li',
              {},
              h(
                'a',
                { href: c.entity === 'visit' ? `#/visit/${c.record_id}` : `#/patient/${c.record_id}` },
                `${t(`entity_${c.entity}`)} · ${t(c.field)}`,
              ),
            ),
          )
        : h('li', { class: 'muted' }, t('none')),
    ),
    h('p', { class: 'muted' }, persisted ? t('storage_persisted') : t('storage_not_persisted'), ` · ${app.deviceId}`),
  );
}
