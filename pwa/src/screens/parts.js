// Pieces the record screens share: a record's sync state, voiding with a reason, a refused change's
// reasons, a record's conflicts with both values and who wrote them (decided where the record is
// shown), values written for people, and the edit form where a refused change is corrected and a
// conflicted field written anew.
import { app } from '../app.js';
import { canWrite, FIELDS } from '../fields.js';
import { t } from '../i18n.js';
import { rerender } from '../router.js';
import { openConflicts, resolveConflict } from '../store.js';
import { refreshStats, save, scheduleSync } from '../syncloop.js';
import { clear, fmtDate, fmtNumber, fmtTime, form, h, showErrors } from '../ui.js';

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

// --- values as people read them -------------------------------------------------------------------------

const KINDS = new Map([
  ...Object.values(FIELDS)
    .flat()
    .map((field) => [field.name, field.type]),
  ['measured_at', 'datetime'],
  ['kind', 'select'],
]);

/** A field's value as the person reads it: a sex or status in words, dates and numbers in their
 * language, "(empty)" for nothing. */
export function fmtValue(field, value) {
  if (value === null || value === undefined || value === '') return t('empty_value');
  const kind = KINDS.get(field);
  if (kind === 'select') return t(String(value));
  if (kind === 'date') return fmtDate(value);
  if (kind === 'datetime') return fmtTime(value);
  if (kind === 'number') return fmtNumber(value);
  return String(value);
}

/** At most `max` characters of a long text (a note), for a line that names it. */
export function shorten(text, max = 80) {
  const chars = [...String(text)];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : String(text);
}

// --- conflicts ------------------------------------------------------------------------------------------

/** Who wrote one side of a conflict, and when it reached the server. */
function writer(conflict, side) {
  if (side === 'server') return { who: conflict.server_user_name, when: conflict.server_changed_at };
  return { who: conflict.user_name, when: conflict.created_at, here: conflict.device_id === app.deviceId };
}

export function writtenBy(conflict, side) {
  const { who, when, here } = writer(conflict, side);
  if (!who) return '';
  return t(here ? 'written_here' : 'written_by', { who, when: fmtTime(when) });
}

function conflictSide(conflict, side, mayDecide) {
  const value = side === 'server' ? conflict.server_value : conflict.device_value;
  return h(
    'li',
    { dataset: { side } },
    h(
      'div',
      {},
      h('div', { class: 'muted' }, t(side === 'server' ? 'conflict_kept' : 'conflict_held')),
      h('strong', { class: 'pre conflict-value' }, fmtValue(conflict.field, value)),
      h('div', { class: 'muted' }, writtenBy(conflict, side)),
      mayDecide
        ? h(
            'div',
            { class: 'actions' },
            h(
              'button',
              { type: 'button', dataset: { keep: side }, onclick: () => decide(conflict, value) },
              t('keep_this'),
            ),
          )
        : null,
    ),
  );
}

/** Where a conflict stands on this device: decided here and waiting to be sent, a decision the server
 * refused, or not the person's to decide. */
function conflictStatus(conflict, mayWrite) {
  if (conflict.resolving)
    return h(
      'p',
      { class: 'muted', dataset: { deciding: '1' } },
      t('conflict_deciding', { value: shorten(fmtValue(conflict.field, conflict.resolving.value)) }),
    );
  if (!mayWrite) return h('p', { class: 'muted' }, t('conflict_not_yours'));
  const refusal = conflict.refusal
    ? h(
        'div',
        { class: 'failure' },
        t('conflict_refused', { value: shorten(fmtValue(conflict.field, conflict.refusal.value)) }),
        showErrors(conflict.refusal.errors),
      )
    : null;
  return [refusal, h('p', { class: 'muted' }, t('conflict_how'))];
}

function conflictBox(conflict) {
  const mayWrite = canWrite(conflict.entity, [conflict.field]);
  const mayDecide = mayWrite && !conflict.resolving;
  return h(
    'div',
    { class: 'conflict', role: 'group', dataset: { conflict: conflict.id, field: conflict.field } },
    h('strong', {}, t('conflict_on', { field: t(conflict.field) })),
    conflictStatus(conflict, mayWrite),
    h(
      'ul',
      { class: 'list' },
      conflictSide(conflict, 'server', mayDecide),
      conflictSide(conflict, 'device', mayDecide),
    ),
  );
}

/** A record's open conflicts, one box per field: both values, who wrote each and when, and a button
 * to keep each (for a role that may write the field). */
export async function conflictBoxes(recordId) {
  const open = await openConflicts(app.db, recordId);
  return open.map(conflictBox);
}

async function decide(conflict, value, reason = '') {
  await resolveConflict(app.db, conflict, value, reason);
  await afterResolve();
}

async function afterResolve() {
  await refreshStats();
  scheduleSync(100);
  rerender(true);
}

// --- the edit form of a refused or conflicted record ----------------------------------------------------

/** Where a field's notes go in a form: its box (its label's). */
function fieldBox(element, name) {
  const input = element.elements.namedItem(name);
  return input?.closest?.('.field') || input?.closest?.('label') || null;
}

/** The reasons of a record's refused changes, by field (a later refusal's reasons win). */
export function refusalErrors(refusals) {
  return Object.assign({}, ...refusals.map((m) => m.errors || {}));
}

/** Beside each field: the server's reasons for refusing it, and an open conflict of it; reasons of no
 * field the form shows go above the fields. */
function markServerNotes(element, fields, errors, conflicts) {
  const shown = new Set(fields.filter((f) => !f.disabled).map((f) => f.name));
  // A field of another form of the same record (a visit's details and its note) is marked there.
  const entity = fields.find((f) => f.entity)?.entity;
  const otherForms = new Set(
    Object.values(FIELDS)
      .flat()
      .filter((f) => f.entity && f.entity === entity && !shown.has(f.name))
      .map((f) => f.name),
  );
  const elsewhere = {};
  let marked = 0;
  for (const [name, messages] of Object.entries(errors)) {
    const box = shown.has(name) && fieldBox(element, name);
    if (box) {
      box.append(h('small', { class: 'errors', dataset: { serverError: name } }, [].concat(messages).join(' ')));
      marked += 1;
    } else if (!otherForms.has(name)) elsewhere[name] = messages;
  }
  for (const conflict of conflicts) {
    const box = shown.has(conflict.field) && fieldBox(element, conflict.field);
    if (!box) continue;
    const kept = shorten(fmtValue(conflict.field, conflict.server_value), 60);
    const held = shorten(fmtValue(conflict.field, conflict.device_value), 60);
    box.append(
      h(
        'small',
        { class: 'muted', dataset: { conflictNote: conflict.field } },
        t('conflict_field_note', { kept, held }),
      ),
    );
  }
  if (marked || Object.keys(elsewhere).length)
    element.prepend(
      h('div', { class: 'form-errors', dataset: { refusal: '1' } }, t('refused_form_note'), showErrors(elsewhere)),
    );
}

/**
 * The edit form of a record as the person sees it (`record`), with the server's reasons beside the
 * fields of its refused changes (`refusals`: creates and updates) and each open conflict beside its
 * field. Saving a new value of a conflicted field decides that conflict with it, as its buttons do
 * (the server keeps the value and closes the conflict for every device); the other changed fields
 * are one change of the record. With a refused change, saving sends it again with what was corrected
 * (a record's next change carries its refused ones), even if nothing else changed.
 * `changes(fields)`: the change to save (a visit's note also starting the visit, say).
 */
export function editForm({
  entity,
  record,
  fields,
  name,
  conflicts = [],
  refusals = [],
  reasonLabel = '',
  standing = false,
  onCancel,
  changes = (changed) => changed,
  afterSave = () => rerender(true),
}) {
  const deciding = new Map(
    conflicts.filter((c) => !c.resolving && canWrite(entity, [c.field])).map((c) => [c.field, c]),
  );
  const element = form({
    name,
    fields,
    current: record,
    reasonLabel,
    standing,
    onCancel,
    submitLabel: refusals.length ? t('save_send_again') : undefined,
    onSave: async (changed, reason) => {
      const plain = Object.fromEntries(Object.entries(changed).filter(([field]) => !deciding.has(field)));
      if (Object.keys(plain).length || refusals.length)
        await save([{ entity, id: record.id, op: 'update', fields: changes(plain), reason }]);
      const decided = Object.entries(changed).filter(([field]) => deciding.has(field));
      for (const [field, value] of decided) await resolveConflict(app.db, deciding.get(field), value, reason);
      if (decided.length) {
        await refreshStats();
        scheduleSync(100);
      }
      afterSave();
    },
  });
  markServerNotes(element, fields, refusalErrors(refusals), conflicts);
  return element;
}
