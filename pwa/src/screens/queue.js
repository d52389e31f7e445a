// The day's queue (antrian), as this device holds it: who is called, waiting (in number order), in
// consultation, done or gone. Doctors and nurses call the next patient or call one again; doctors
// start the consultation; anyone marks a patient who left (and brings them back). A patient checked in
// on a device offline shows "number pending" until it syncs: the server gives numbers, so two devices
// never give the same one. While this screen is open online, the app syncs every few seconds
// (main.js), so every device sees the same queue.
import { app, CLINICAL_READERS, CLINICIANS } from '../app.js';
import { staffMember } from '../fields.js';
import { t } from '../i18n.js';
import { printHref } from '../print.js';
import { rerender } from '../router.js';
import { today } from '../days.js';
import { queueOfDay } from '../store.js';
import { save } from '../syncloop.js';
import { clear, fmtClock, fmtLongDate, h } from '../ui.js';
import { stateTag } from './parts.js';

const ORDER = ['q_called', 'q_waiting', 'q_in_consultation', 'q_done', 'q_left'];

/** Where a visit stands in the queue, from its own fields. */
export function queueState(visit) {
  if (visit.left_at) return 'q_left';
  if (visit.status === 'finished') return 'q_done';
  if (visit.status === 'in_progress') return 'q_in_consultation';
  if (visit.called_at) return 'q_called';
  return 'q_waiting';
}

/** Numbered first, in number order; a number pending sync after them, by arrival. */
function byNumber(a, b) {
  const [x, y] = [a.visit.queue_number ?? Infinity, b.visit.queue_number ?? Infinity];
  return x - y || String(a.visit.arrived_at).localeCompare(String(b.visit.arrived_at));
}

/** The newest call first among those called. */
function byCall(a, b) {
  return String(b.visit.called_at).localeCompare(String(a.visit.called_at));
}

export function queueNumberText(visit) {
  return visit.queue_number ? String(visit.queue_number) : t('q_number_pending');
}

/** Which practitioner's queue is shown ('' for everyone): the doctor's own where the clinic keeps a
 * queue per practitioner, until the person chooses another. */
function shownPractitioner() {
  if (app.queueFor !== undefined) return app.queueFor;
  const perPractitioner = app.user.clinic_details?.queue_per_practitioner;
  return perPractitioner && app.user.role === 'doctor' ? String(app.user.id) : '';
}

function update(visit, fields) {
  return save([{ entity: 'visit', id: visit.id, op: 'update', fields }]);
}

/** Calling a patient: the caller, a doctor, becomes their practitioner if none was chosen. */
function callFields(visit) {
  const fields = { called_at: new Date().toISOString() };
  if (!visit.practitioner && CLINICIANS.includes(app.user.role)) fields.practitioner = app.user.id;
  return fields;
}

async function startConsultation(visit) {
  const fields = { status: 'in_progress' };
  if (!visit.practitioner) fields.practitioner = app.user.id;
  await update(visit, fields);
  window.location.hash = `#/visit/${visit.id}`;
}

function button(label, action, onclick, primary = false) {
  return h('button', { type: 'button', class: primary ? 'primary' : null, dataset: { action }, onclick }, label);
}

function actions(entry) {
  const { visit } = entry;
  const state = queueState(visit);
  const caller = CLINICAL_READERS.includes(app.user.role);
  const clinician = CLINICIANS.includes(app.user.role);
  const list = [];
  if (caller && state === 'q_waiting') list.push(button(t('q_call'), 'call', () => update(visit, callFields(visit))));
  if (caller && state === 'q_called')
    list.push(button(t('q_call_again'), 'call-again', () => update(visit, callFields(visit))));
  if (clinician && (state === 'q_called' || state === 'q_waiting'))
    list.push(button(t('q_start'), 'start', () => startConsultation(visit), state === 'q_called'));
  if (state === 'q_waiting' || state === 'q_called')
    list.push(button(t('q_left_button'), 'left', () => update(visit, { left_at: new Date().toISOString() })));
  if (state === 'q_left') list.push(button(t('q_back'), 'back', () => update(visit, { left_at: null })));
  list.push(ticketLink(visit));
  return h('div', { class: 'actions' }, list);
}

/** The queue ticket (80 mm), printed at once; the app comes back to where it was opened from. */
export function ticketLink(visit, id = null) {
  return h(
    'a',
    {
      href: printHref('ticket', visit.id, { size: '80' }),
      class: 'button',
      id,
      dataset: { action: 'ticket' },
      onclick: () => {
        app.printFrom = window.location.hash;
        app.printOnOpen = true;
      },
    },
    t('q_ticket'),
  );
}

function item(entry, states) {
  const { visit, patient } = entry;
  const state = queueState(visit);
  const who = staffMember(app.user, visit.practitioner)?.full_name || '';
  return h(
    'li',
    { class: `queue-item ${state}`, dataset: { visit: visit.id, queueState: state, number: visit.queue_number ?? '' } },
    h('span', { class: visit.queue_number ? 'queue-number' : 'queue-number pending' }, queueNumberText(visit)),
    h(
      'div',
      { class: 'queue-who' },
      h('a', { href: `#/visit/${visit.id}` }, h('strong', {}, patient?.full_name || '—')),
      h(
        'span',
        { class: 'muted' },
        [
          `${t('q_arrived')} ${fmtClock(visit.arrived_at)}`,
          visit.called_at && state === 'q_called' ? `${t('q_called_at')} ${fmtClock(visit.called_at)}` : '',
          who,
        ]
          .filter(Boolean)
          .join(' · '),
      ),
      ' ',
      h('span', { class: `state queue-state-${state}` }, t(state)),
      states(visit.id) === 'synced' ? null : stateTag(states(visit.id)),
    ),
    actions(entry),
  );
}

function filterBox(entries) {
  const doctors = (app.user.staff || []).filter((person) => CLINICIANS.includes(person.role));
  const chosen = shownPractitioner();
  return h(
    'label',
    { class: 'queue-filter' },
    t('q_for'),
    ' ',
    h(
      'select',
      {
        id: 'queue-for',
        onchange: (event) => {
          app.queueFor = event.target.value;
          event.target.blur();
          rerender(true);
        },
      },
      h('option', { value: '', selected: chosen === '' }, t('q_everyone', { n: entries.length })),
      doctors.map((person) =>
        h('option', { value: String(person.id), selected: chosen === String(person.id) }, person.full_name),
      ),
    ),
  );
}

export async function queueScreen(states) {
  const day = today();
  const all = await queueOfDay(app.db, day);
  const chosen = shownPractitioner();
  const entries = chosen ? all.filter((entry) => String(entry.visit.practitioner ?? '') === chosen) : all;
  const groups = Object.fromEntries(ORDER.map((state) => [state, []]));
  for (const entry of entries) groups[queueState(entry.visit)].push(entry);
  for (const state of ORDER) groups[state].sort(state === 'q_called' ? byCall : byNumber);
  const next = groups.q_waiting[0];
  const caller = CLINICAL_READERS.includes(app.user.role);
  const section = h('section', { class: 'queue-screen', id: 'queue' });
  clear(
    section,
    h('h2', {}, t('q_title'), ' ', h('span', { class: 'muted' }, fmtLongDate())),
    h(
      'div',
      { class: 'queue-top' },
      filterBox(all),
      caller
        ? h(
            'button',
            {
              type: 'button',
              id: 'call-next',
              class: 'primary',
              disabled: !next,
              onclick: () => next && update(next.visit, callFields(next.visit)),
            },
            next ? t('q_call_next', { number: queueNumberText(next.visit) }) : t('q_nobody_waiting'),
          )
        : null,
    ),
    h(
      'p',
      { class: 'muted', id: 'queue-counts' },
      t('q_counts', { waiting: groups.q_waiting.length, done: groups.q_done.length }),
    ),
    entries.length
      ? ORDER.filter((state) => groups[state].length).map((state) => [
          h('h3', {}, `${t(state)} (${groups[state].length})`),
          h(
            'ul',
            { class: 'list queue-list', dataset: { group: state } },
            groups[state].map((entry) => item(entry, states)),
          ),
        ])
      : h('p', { class: 'muted', id: 'queue-empty' }, t('q_empty')),
  );
  return section;
}
