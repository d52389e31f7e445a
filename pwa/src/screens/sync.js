// The Sync page: what needs a person, each named by its patient (and the visit's date for a visit's
// parts) and linking to where it is decided: refused changes (what was sent and the server's reasons,
// to correct in the record's form or discard) and open conflicts (both values and who wrote them).
import { app } from '../app.js';
import { t } from '../i18n.js';
import { rerender } from '../router.js';
import { discardFailed, openConflicts, recordPlace, refusedChanges, unsyncedChanges } from '../store.js';
import { refreshStats } from '../syncloop.js';
import { fmtTime, h, showErrors } from '../ui.js';
import { fmtValue, shorten, writtenBy } from './parts.js';

const PARENT_FIELDS = new Set(['patient', 'visit']); // what a new record is filed under, not what it says

/** Where a record is shown: its patient's screen for a patient, its visit's screen for a visit or part. */
function placeLink({ visit, patient }, entity, recordId) {
  if (entity === 'patient') return `#/patient/${recordId}`;
  if (visit) return `#/visit/${visit.id}`;
  return patient ? `#/patient/${patient.id}` : '#/sync';
}

/** The patient (name and record number, linking to where the record is shown) and which part of
 * their record: "Data pasien", or "Kunjungan 9 Mar 2026 09.30 · Tanda vital". */
function placeLines(place, entity, link) {
  const { patient, visit } = place;
  const name = patient
    ? [patient.full_name, patient.medical_record_number].filter(Boolean).join(' · ')
    : t('record_not_here');
  const where = [
    entity === 'patient' ? t('patient_details') : null,
    visit ? t('visit_of', { date: fmtTime(visit.started_at) }) : null,
    entity !== 'patient' && entity !== 'visit' ? t(`entity_${entity}`) : null,
  ].filter(Boolean);
  return [h('a', { href: link }, h('strong', {}, name)), h('div', { class: 'muted' }, where.join(' · '))];
}

function conflictItem(conflict, place) {
  const link = placeLink(place, conflict.entity, conflict.record_id);
  const side = (key, value, label) =>
    h(
      'div',
      { dataset: { side: key } },
      `${t(label)}: `,
      h('strong', { class: 'pre' }, shorten(fmtValue(conflict.field, value))),
      writtenBy(conflict, key) ? h('span', { class: 'muted' }, ` · ${writtenBy(conflict, key)}`) : null,
    );
  return h(
    'li',
    { dataset: { conflict: conflict.id, field: conflict.field } },
    h(
      'div',
      {},
      placeLines(place, conflict.entity, link),
      h('div', {}, t('conflict_on', { field: t(conflict.field) })),
      side('server', conflict.server_value, 'conflict_kept'),
      side('device', conflict.device_value, 'conflict_held'),
      conflict.resolving ? h('div', { class: 'muted' }, t('state_pending')) : null,
      h('div', { class: 'actions' }, h('a', { class: 'button', href: link }, t('resolve_here'))),
    ),
  );
}

/** What a refused change sent, in words: its values, a void's reason, a conflict decision's value. */
function sentValues(mutation, target) {
  if (mutation.op === 'void') return `${t('void_reason')}: ${mutation.reason}`;
  if (mutation.entity === 'conflict')
    return target ? `${t(target.field)}: ${shorten(fmtValue(target.field, mutation.fields?.value))}` : '';
  return Object.entries(mutation.fields || {})
    .filter(([field]) => !PARENT_FIELDS.has(field))
    .map(([field, value]) => `${t(field)}: ${shorten(fmtValue(field, value), 60)}`)
    .join(' · ');
}

/** The record a refused change is of (for a conflict decision, the conflicted record and field). */
async function refusedTarget(mutation) {
  if (mutation.entity !== 'conflict') return { entity: mutation.entity, record_id: mutation.record_id };
  if (mutation.display) return mutation.display;
  return app.db.conflicts.get(mutation.record_id);
}

/** Where a change goes and what it sends: its record (read from the device), the link to it, the
 * lines naming its patient and place, and the values it carries. */
async function changeOf(mutation) {
  const target = await refusedTarget(mutation);
  const place = target ? await recordPlace(app.db, target.entity, target.record_id) : {};
  const link = target ? placeLink(place, target.entity, target.record_id) : '#/sync';
  return {
    link,
    place: placeLines(place, target?.entity || mutation.entity, link),
    values: sentValues(mutation, target),
  };
}

/** One change in a list: its place, then what the list says of it. */
function changeItem(mutation, ...details) {
  return h('li', { dataset: { seq: mutation.seq } }, h('div', {}, ...details));
}

async function refusedItem(mutation) {
  const { link, place, values } = await changeOf(mutation);
  return changeItem(
    mutation,
    place,
    h('div', {}, t(`refused_${mutation.op}`)),
    values ? h('div', { class: 'pre' }, t('refused_sent', { values })) : null,
    showErrors(mutation.errors),
    h(
      'div',
      { class: 'actions' },
      h('a', { class: 'button', href: link }, t('correct')),
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            await discardFailed(app.db, mutation.seq);
            await refreshStats();
            rerender(true);
          },
        },
        t('discard'),
      ),
    ),
  );
}

async function refusedItems() {
  return Promise.all((await refusedChanges(app.db)).map(refusedItem));
}

/** A change still in the outbox: its patient, what kind of change, what it sends. */
async function waitingItem(mutation) {
  const { place, values } = await changeOf(mutation);
  return changeItem(mutation, place, values ? h('div', { class: 'pre' }, values) : null);
}

/** The changes not yet sent (chart openings are not changes a person made) and, when anything is
 * unsent, a button downloading all of it as JSON: a revoked device can never send it. */
async function unsyncedSection() {
  const { outbox, failed } = await unsyncedChanges(app.db);
  const waiting = await Promise.all(outbox.filter((m) => m.entity !== 'chart').map(waitingItem));
  return [
    app.problem === 'revoked' ? h('p', { class: 'notice', id: 'revoked-notice' }, t('device_revoked')) : null,
    h('h2', {}, t('unsynced_title')),
    h('ul', { class: 'list', id: 'unsynced-list' }, waiting.length ? waiting : h('li', { class: 'muted' }, t('none'))),
    outbox.length || failed.length
      ? h(
          'p',
          {},
          h('button', { type: 'button', id: 'export-unsynced', onclick: () => exportUnsynced() }, t('unsynced_export')),
          h('br'),
          h('span', { class: 'muted' }, t('unsynced_export_help')),
        )
      : null,
  ];
}

async function exportUnsynced() {
  const { outbox, failed } = await unsyncedChanges(app.db);
  const file = {
    clinic: app.user?.clinic,
    user: app.user?.email,
    device_id: app.deviceId,
    exported_at: new Date().toISOString(),
    outbox,
    failed,
  };
  const blob = new Blob([JSON.stringify(file, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const day = file.exported_at.slice(0, 10);
  const link = h('a', { href: url, download: `perubahan-belum-terkirim-${app.user?.clinic || ''}-${day}.json` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function conflictItems() {
  const conflicts = await openConflicts(app.db);
  return Promise.all(conflicts.map(async (c) => conflictItem(c, await recordPlace(app.db, c.entity, c.record_id))));
}

export async function syncScreen() {
  const [failed, conflicts, persisted, unsynced] = await Promise.all([
    refusedItems(),
    conflictItems(),
    navigator.storage?.persisted?.(),
    unsyncedSection(),
  ]);
  return h(
    'section',
    {},
    ...unsynced,
    h('h2', {}, t('failed_title')),
    h('ul', { class: 'list', id: 'failed-list' }, failed.length ? failed : h('li', { class: 'muted' }, t('none'))),
    h('h2', {}, t('conflicts_title')),
    h(
      'ul',
      { class: 'list', id: 'conflict-list' },
      conflicts.length ? conflicts : h('li', { class: 'muted' }, t('none')),
    ),
    h('p', { class: 'muted' }, persisted ? t('storage_persisted') : t('storage_not_persisted'), ` · ${app.deviceId}`),
  );
}
