// Pieces the record screens share: a record's sync state, voiding with a reason, a refused change's
// reasons, and a record's conflicts with both values, resolvable where the record is shown.
import { app } from '../app.js';
import { t } from '../i18n.js';
import { rerender } from '../router.js';
import { openConflicts, resolveConflict } from '../store.js';
import { refreshStats, save, scheduleSync } from '../syncloop.js';
import { clear, form, h, showErrors } from '../ui.js';

export function stateTag(state) {
  return h('span', { class: `state state-${state}`, dataset: { state } }, t(`state_${state}`));
}

export function voidedTag(record) {
  return record.voided_at ? h('span', { class: 'state state-voided' }, t('voided')) : null;
}

export function voidBox(entity, record, afterVoid) {
  const box = h('span', { class: 'void-box' });
  const open = () =>
    clear(
      box,
      form({
        name: `void-${entity}`,
        fields: [],
        reasonLabel: t('void_reason'),
        submitLabel: t('void'),
        onCancel: () => clear(box, button),
        onSave: async (_changed, reason) => {
          await save([{ entity, id: record.id, op: 'void', reason }]);
          afterVoid ? afterVoid() : rerender(true);
        },
      }),
    );
  const button = h(
    'button',
    { type: 'button', class: 'danger', dataset: { void: record.id }, onclick: open },
    t('void'),
  );
  return clear(box, button);
}

/** The server's reasons for refusing a record's change, if it was refused. */
export function failureNote(states, id, refused) {
  if (states(id) !== 'failed') return null;
  return h('div', { class: 'failure' }, showErrors(refused.get(id)?.errors), h('small', {}, t('errors_fix')));
}

export async function conflictBoxes(recordId) {
  const open = await openConflicts(app.db, recordId);
  return open.map((conflict) =>
    h(
      'div',
      { class: 'conflict', dataset: { conflict: conflict.id, field: conflict.field } },
      h('strong', {}, t('conflict_on', { field: t(conflict.field) })),
      conflict.resolving ? h('span', { class: 'muted' }, ` ${t('state_pending')}`) : null,
      h('div', {}, `${t('server_value')}: `, h('q', {}, String(conflict.server_value ?? ''))),
      h(
        'div',
        {},
        `${t('device_value', { who: conflict.user_name })}: `,
        h('q', {}, String(conflict.device_value ?? '')),
      ),
      conflict.resolving
        ? null
        : h(
            'div',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                dataset: { keep: 'server' },
                onclick: async () => {
                  await resolveConflict(app.db, conflict, conflict.server_value);
                  await afterResolve();
                },
              },
              t('keep_server'),
            ),
            h(
              'button',
              {
                type: 'button',
                dataset: { keep: 'device' },
                onclick: async () => {
                  await resolveConflict(app.db, conflict, conflict.device_value);
                  await afterResolve();
                },
              },
              t('keep_device'),
            ),
          ),
    ),
  );
}

async function afterResolve() {
  await refreshStats();
  scheduleSync(100);
  rerender(true);
}
