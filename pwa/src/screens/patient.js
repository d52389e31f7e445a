// A patient's screen: their details (edit, void) and what needs a person here: each conflict with both
// values and who wrote them, to keep one or write a new value in the form; a change the server refused
// opens in the edit form with the device's values and the server's reasons beside the fields. Then
// their visits.
import { app } from '../app.js';
import { FIELDS, practitionerField } from '../fields.js';
import { t } from '../i18n.js';
import { localDay, today } from '../days.js';
import { children, decidedRecord, openConflicts, randomId, refusedOf } from '../store.js';
import { save } from '../syncloop.js';
import { clear, fmtTime, form, h } from '../ui.js';
import {
  conflictBoxes,
  editForm,
  failureNote,
  fmtValue,
  refusalErrors,
  stateTag,
  voidBox,
  voidedTag,
} from './parts.js';

const FACTS = ['medical_record_number', 'nik', 'birth_date', 'sex', 'phone', 'address', 'allergies'];

function facts(patient) {
  return h(
    'dl',
    { class: 'facts' },
    FACTS.map((name) => [
      h('dt', {}, t(name === 'medical_record_number' ? 'mrn' : name)),
      h(
        'dd',
        { class: name === 'address' || name === 'allergies' ? 'pre' : null },
        name === 'medical_record_number'
          ? patient.medical_record_number || t('mrn_pending')
          : patient[name]
            ? fmtValue(name, patient[name])
            : '—',
      ),
    ]),
  );
}

/** The patient's details and their edit form (opened at once while a change of theirs is refused). */
function detailsBox(patient, states, conflicts, refusals) {
  const body = h('div', { id: 'patient-body' });
  // Only a refused registration or change is corrected in the form; a refused void is discarded or
  // left as it is (Sync page).
  const correcting = refusals.filter((m) => m.op === 'create' || m.op === 'update');
  const refused = new Map([[patient.id, { errors: refusalErrors(refusals) }]]);
  const showForm = () =>
    clear(
      body,
      editForm({
        entity: 'patient',
        name: 'patient',
        record: patient,
        fields: FIELDS.patient,
        conflicts,
        refusals: correcting,
        // Opened by the screen itself, it may be redrawn by a sync until the person types in it.
        standing: correcting.length > 0,
        onCancel: showDetails,
      }),
    );
  const showDetails = () =>
    clear(
      body,
      failureNote(states, patient.id, refused),
      facts(patient),
      patient.voided_at
        ? null
        : h(
            'div',
            { class: 'actions' },
            h(
              'button',
              { type: 'button', id: 'edit-patient', onclick: showForm },
              t(correcting.length ? 'correct' : 'edit'),
            ),
            voidBox('patient', patient),
          ),
    );
  if (correcting.length && !patient.voided_at) showForm();
  else showDetails();
  return body;
}

/** A visit for today joins today's queue (checked in now; the server gives its number); one typed in
 * for another day does not. */
function checkIn(fields) {
  if (localDay(fields.started_at) !== today()) return fields;
  // Where each doctor has a queue, the number comes from the doctor's: the server refuses a check-in
  // without one, so it is said here, before saving.
  if (app.user.clinic_details?.queue_per_practitioner && !fields.practitioner) throw new Error(t('q_choose_doctor'));
  return { ...fields, arrived_at: new Date().toISOString() };
}

function newVisitBox(id) {
  const box = h('div', { id: 'new-visit' });
  const open = () =>
    clear(
      box,
      form({
        name: 'new-visit',
        fields: [...FIELDS.visitAdmin, practitionerField()],
        creating: true,
        current: {
          started_at: new Date().toISOString(),
          status: 'arrived',
          practitioner: app.user.role === 'doctor' ? app.user.id : null,
        },
        submitLabel: t('new_visit'),
        onCancel: () => clear(box),
        onSave: async (fields) => {
          const visitId = randomId();
          await save([{ entity: 'visit', id: visitId, op: 'create', fields: checkIn({ patient: id, ...fields }) }]);
          window.location.hash = `#/visit/${visitId}`;
        },
      }),
    );
  return { box, open };
}

function visitList(visits, states) {
  return h(
    'ul',
    { class: 'list', id: 'visit-list' },
    visits.length
      ? visits.map((v) =>
          h(
            'li',
            { dataset: { id: v.id } },
            h(
              'a',
              { href: `#/visit/${v.id}` },
              `${fmtTime(v.started_at)} · ${t(v.status || 'arrived')}`,
              v.chief_complaint ? ` · ${v.chief_complaint}` : '',
            ),
            voidedTag(v),
            stateTag(states(v.id)),
          ),
        )
      : h('li', { class: 'muted' }, t('no_visits')),
  );
}

export async function patientScreen(id, states) {
  const conflicts = await openConflicts(app.db, id);
  // With the values decided here for its conflicts and not yet sent, so the screen shows the choice.
  const patient = await decidedRecord(app.db, id, conflicts);
  if (!patient) return h('p', {}, h('a', { href: '#/' }, t('back')));
  const [refusals, boxes, visits] = await Promise.all([
    refusedOf(app.db, id),
    conflictBoxes(id),
    children(app.db, 'visit', id),
  ]);
  visits.sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)));
  const newVisit = newVisitBox(id);
  return h(
    'section',
    {},
    h('a', { href: '#/' }, t('back')),
    h(
      'div',
      { id: 'patient-details' },
      h('h2', {}, patient.full_name, ' ', stateTag(states(id)), voidedTag(patient)),
      boxes,
      detailsBox(patient, states, conflicts, refusals),
    ),
    h('h3', {}, t('visits')),
    patient.voided_at
      ? null
      : h('button', { type: 'button', id: 'open-new-visit', class: 'primary', onclick: newVisit.open }, t('new_visit')),
    newVisit.box,
    visitList(visits, states),
  );
}
