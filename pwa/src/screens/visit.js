// A visit's screen: the patient at the top (name, age, sex, record number, allergies), the visit's
// details and status, the doctor's note (SOAP), vital signs, diagnoses and prescriptions, each part
// correctable; a prescription that matches an allergy warns; the doctor finishes the visit here, and
// after that every change is an amendment with a reason.
import { ageAt } from '../age.js';
import { allergyMatches } from '../allergies.js';
import { app, CLINICAL_READERS, CLINICIANS } from '../app.js';
import { canWrite, FIELDS, practitionerField, staffMember } from '../fields.js';
import { t } from '../i18n.js';
import { rerender } from '../router.js';
import {
  children,
  decidedRecord,
  getRecord,
  noteRecordedHere,
  openConflicts,
  randomId,
  recordedHere,
  refusedByRecord,
  refusedOf,
} from '../store.js';
import { save } from '../syncloop.js';
import { clear, fmtNumber, fmtTime, form, h, showErrors } from '../ui.js';
import { titlesOf } from '../icd10.js';
import { printMenu } from '../print.js';
import { diagnosisForm } from './diagnosis.js';
import { conflictBoxes, editForm as recordForm, failureNote, stateTag, voidBox, voidedTag } from './parts.js';
import { queueNumberText, queueState, ticketLink } from './queue.js';
import { satusehatLine } from './satusehat.js';

const PARTS = [
  { entity: 'vitals', title: 'vitals', add: 'add_vitals' },
  { entity: 'diagnosis', title: 'diagnoses', add: 'add_diagnosis' },
  { entity: 'prescription', title: 'prescriptions', add: 'add_prescription' },
];

// --- the patient ----------------------------------------------------------------------------------

function ageText(patient, visit) {
  const age = ageAt(patient.birth_date, visit.started_at || new Date());
  return age ? t(`age_${age.unit}`, { n: age.count }) : '';
}

/** Who the visit is for, on every visit screen: the doctor never prescribes without it. */
function patientBanner(patient, visit) {
  if (!patient) return null;
  const allergies = (patient.allergies || '').trim();
  const mrn = `${t('mrn')} ${patient.medical_record_number || t('mrn_pending')}`;
  return h(
    'a',
    { href: `#/patient/${patient.id}`, id: 'patient-banner', class: 'patient-banner' },
    h('strong', { class: 'banner-name' }, patient.full_name || '—', ' ', voidedTag(patient)),
    h(
      'span',
      { class: 'banner-facts' },
      [ageText(patient, visit), patient.sex ? t(patient.sex) : '', mrn]
        .filter(Boolean)
        .map((fact, index) => [index ? ' · ' : '', h('span', { class: 'fact' }, fact)]),
    ),
    allergies
      ? h('span', { class: 'banner-allergies', dataset: { allergies: 'known' } }, `⚠ ${t('allergies')}: ${allergies}`)
      : h('span', { class: 'banner-allergies none', dataset: { allergies: 'none' } }, t('allergies_none')),
  );
}

function allergyLine(match, drug) {
  const params = { allergy: match.allergy, drug: drug.trim() };
  if (!match.group) return t('allergy_direct', params);
  return t('allergy_group', { ...params, group: t(`allergy_group_${match.group}`) });
}

// --- forms ----------------------------------------------------------------------------------------

/** One form open at a time among the visit's details and parts (their inputs share ids): opening
 * another puts the first one's place back as it was. */
function singleEditor() {
  let restore = null;
  const editor = {
    open(box, element, back) {
      editor.close();
      clear(box, element);
      restore = back;
      element.querySelector('input:not([type=hidden]), select, textarea')?.focus();
    },
    close() {
      const back = restore;
      restore = null;
      back?.();
    },
  };
  return editor;
}

/** The prescription form, warning as the drug is typed when it matches the patient's allergies; a
 * save of such a drug waits for the person to choose "Save anyway". */
function prescriptionForm(ctx, { current = {}, creating = false, name, onSave }) {
  const allergies = ctx.patient?.allergies || '';
  const warning = h('div', { class: 'allergy-warning', id: 'allergy-warning', 'aria-live': 'polite' });
  let confirmed = false;
  const element = form({
    name,
    fields: FIELDS.prescription,
    current,
    creating,
    reasonLabel: ctx.amend,
    onCancel: ctx.editor.close,
    onSave: async (fields, reason) => {
      const drugSet = creating || 'drug' in fields;
      if (drugSet && !confirmed && allergyMatches(allergies, drugInput.value).length) return showWarning(true);
      await onSave(fields, reason);
    },
  });
  const drugInput = element.elements.namedItem('drug');
  const showWarning = (asking) => {
    const matches = allergyMatches(allergies, drugInput.value);
    warning.hidden = !matches.length;
    if (asking) warning.setAttribute('role', 'alert');
    else warning.removeAttribute('role');
    clear(
      warning,
      matches.map((match) => h('p', {}, `⚠ ${allergyLine(match, drugInput.value)}`)),
      asking && [
        h('p', {}, h('strong', {}, t('allergy_confirm'))),
        h(
          'div',
          { class: 'actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              id: 'save-anyway',
              onclick: () => {
                confirmed = true;
                element.requestSubmit();
              },
            },
            t('save_anyway'),
          ),
          h('button', { type: 'button', id: 'change-drug', onclick: () => drugInput.focus() }, t('change_drug')),
        ),
      ],
    );
    if (asking) warning.querySelector('#save-anyway')?.focus();
  };
  let slot = drugInput; // the warning goes right under the drug's field, whatever wraps it
  while (slot.parentElement !== element) slot = slot.parentElement;
  slot.after(warning);
  drugInput.addEventListener('input', () => {
    confirmed = false;
    showWarning(false);
  });
  showWarning(false);
  return element;
}

/** A part's form: new when `creating`, else over `current`, sending only what changed. */
function partForm(ctx, entity, { current = {}, creating = false, name, onSave }) {
  if (entity === 'diagnosis')
    return diagnosisForm({
      current: creating ? null : current,
      amend: ctx.finished,
      name,
      onSave,
      onCancel: ctx.editor.close,
    });
  if (entity === 'prescription') return prescriptionForm(ctx, { current, creating, name, onSave });
  return form({
    name,
    fields: FIELDS[entity],
    current,
    creating,
    reasonLabel: ctx.amend,
    onCancel: ctx.editor.close,
    onSave,
  });
}

function newPartForm(ctx, entity) {
  return partForm(ctx, entity, {
    creating: true,
    name: entity,
    onSave: async (fields, reason, title) => {
      const id = randomId();
      const extra = entity === 'vitals' ? { measured_at: new Date().toISOString() } : {};
      const display = title ? { title } : undefined; // a diagnosis's title: shown here, the server names codes itself
      await save([{ entity, id, op: 'create', fields: { visit: ctx.id, ...extra, ...fields }, reason, display }]);
      // Not shown to the person: without it only the Edit of a nurse's own vital signs is missing.
      if (entity === 'vitals') await noteRecordedHere(app.db, id).catch(() => {});
      rerender(true);
    },
  });
}

/** A part opened for correction. A refused one shows the server's reasons and is sent again even
 * unchanged (a reason may be all it lacked): its next change carries what was refused. */
function editPartForm(ctx, entity, part) {
  const failed = ctx.states(part.id) === 'failed';
  const element = partForm(ctx, entity, {
    current: part,
    name: `edit-${entity}`,
    onSave: async (fields, reason, title) => {
      if (!Object.keys(fields).length && !failed) return ctx.editor.close();
      const display = title ? { title } : undefined;
      await save([{ entity, id: part.id, op: 'update', fields, reason, display }]);
      rerender(true);
    },
  });
  if (!failed) return element;
  return h(
    'div',
    { class: 'part-edit' },
    h('div', { class: 'failure' }, showErrors(ctx.refused.get(part.id)?.errors)),
    element,
  );
}

// --- the parts ------------------------------------------------------------------------------------

/** Whether this person may change or void the part: by role, and a nurse only the vital signs she
 * recorded (who recorded them is the record's own if the server sends it, else this device's). */
function mayChange(ctx, entity, part) {
  if (ctx.readOnly || part.voided_at || !canWrite(entity)) return false;
  if (entity !== 'vitals' || CLINICIANS.includes(app.user.role)) return true;
  const author = part.created_by ?? part.recorded_by;
  return author != null ? String(author) === String(app.user.id) : ctx.recordedHere.has(part.id);
}

function bmiOf(part) {
  const height = Number(part.height_cm);
  const weight = Number(part.weight_kg);
  return height && weight ? fmtNumber(weight / (height / 100) ** 2) : '';
}

function vitalsGrid(part) {
  const cells = [];
  const add = (key, value) => {
    if (value)
      cells.push(h('div', { class: 'vital', dataset: { vital: key } }, h('dt', {}, t(key)), h('dd', {}, value)));
  };
  add('temperature_c', fmtNumber(part.temperature_c));
  add('pulse', fmtNumber(part.pulse));
  add('respiratory_rate', fmtNumber(part.respiratory_rate));
  const [systolic, diastolic] = [fmtNumber(part.systolic), fmtNumber(part.diastolic)];
  add('blood_pressure', systolic || diastolic ? `${systolic || '—'}/${diastolic || '—'}` : '');
  add('spo2', fmtNumber(part.spo2));
  add('height_cm', fmtNumber(part.height_cm));
  add('weight_kg', fmtNumber(part.weight_kg));
  add('bmi', bmiOf(part));
  return cells.length ? h('dl', { class: 'vitals-grid' }, cells) : null;
}

function allergyTag(ctx, part) {
  const matches = part.voided_at ? [] : allergyMatches(ctx.patient?.allergies, part.drug);
  if (!matches.length) return null;
  const allergy = matches.map((match) => match.allergy).join(', ');
  return h('span', { class: 'state state-allergy', dataset: { allergy } }, `⚠ ${t('allergy_tag', { allergy })}`);
}

function partSummary(ctx, entity, part) {
  if (entity === 'vitals') return h('span', { class: 'part-line' }, fmtTime(part.measured_at));
  if (entity === 'diagnosis')
    return h(
      'span',
      { class: 'part-line' },
      `${part.code} ${ctx.titles.get(part.code) || part.title || ''} (${t(part.kind || 'primary')})`,
    );
  const details = [part.dose, part.frequency, part.route, part.duration, fmtNumber(part.quantity), part.instructions]
    .filter((x) => x !== null && x !== undefined && x !== '')
    .join(' · ');
  return h('span', { class: 'part-line' }, h('strong', {}, part.drug), details ? ` · ${details}` : '');
}

async function partItem(ctx, entity, part) {
  const item = h('li', { class: 'part', dataset: { id: part.id } });
  const conflicts = await conflictBoxes(part.id);
  const changeable = mayChange(ctx, entity, part);
  const failed = ctx.states(part.id) === 'failed';
  const edit = () => ctx.editor.open(item, editPartForm(ctx, entity, part), show);
  const show = () =>
    clear(
      item,
      partSummary(ctx, entity, part),
      entity === 'prescription' ? allergyTag(ctx, part) : null,
      voidedTag(part),
      stateTag(ctx.states(part.id)),
      changeable &&
        h(
          'span',
          { class: 'part-actions' },
          h('button', { type: 'button', dataset: { edit: part.id }, onclick: edit }, t(failed ? 'correct' : 'edit')),
          voidBox(entity, part),
        ),
      entity === 'vitals' ? vitalsGrid(part) : null,
      failureNote(ctx.states, part.id, ctx.refused),
      conflicts,
    );
  show();
  return item;
}

function sortParts(entity, parts) {
  const by = (key) => (a, b) => String(a[key] ?? '\uffff').localeCompare(String(b[key] ?? '\uffff'));
  if (entity === 'vitals') return parts.sort(by('measured_at'));
  if (entity === 'diagnosis') return parts.sort((a, b) => by('kind')(a, b) || by('code')(a, b));
  return parts.sort(by('created_at')); // the device's new ones (no server time yet) last
}

async function partSection(ctx, { entity, title, add }) {
  const items = await Promise.all(ctx.parts[entity].map((part) => partItem(ctx, entity, part)));
  const adder = h('div', { id: `add-${entity}-box` });
  return [
    h('h3', {}, t(title)),
    h(
      'ul',
      { class: 'list parts', id: `${entity}-list` },
      items.length ? items : h('li', { class: 'muted' }, t('no_items')),
    ),
    !ctx.readOnly && canWrite(entity)
      ? h(
          'button',
          {
            type: 'button',
            id: `add-${entity}`,
            onclick: () => ctx.editor.open(adder, newPartForm(ctx, entity), () => clear(adder)),
          },
          t(add),
        )
      : null,
    adder,
  ];
}

// --- the visit itself -----------------------------------------------------------------------------

/** A clinician's note starts an arrived visit: front desk and nurses may void a visit only while it
 * is arrived, so a visit holding a doctor's notes must not stay so. */
function soapChanges(visit, fields) {
  const starts = CLINICIANS.includes(app.user.role) && (visit.status || 'arrived') === 'arrived';
  return starts ? { ...fields, status: 'in_progress' } : fields;
}

/** The visit's own fields in its Edit form, its status offering only what the visit can still move
 * to and this person may set (only doctors and owners finish a visit; the server refuses the rest). */
function adminFields(visit) {
  const next = { arrived: ['arrived', 'in_progress', 'finished'], in_progress: ['in_progress', 'finished'] };
  const status = visit.status || 'arrived';
  const options = (next[status] || [status]).filter(
    (option) => option === status || option !== 'finished' || CLINICIANS.includes(app.user.role),
  );
  return [
    ...FIELDS.visitAdmin.map((f) =>
      f.name === 'status' ? { ...f, options: options.map((value) => ({ value, label: t(value) })) } : f,
    ),
    practitionerField(visit),
  ];
}

/** Where the visit stands in today's queue, with its number (or "pending" until the server gives it)
 * and its ticket. */
function queueLine(visit) {
  if (!visit.arrived_at) return null;
  return h(
    'p',
    { class: 'queue-line', id: 'queue-line' },
    h('span', { class: visit.queue_number ? 'queue-number' : 'queue-number pending' }, queueNumberText(visit)),
    ' ',
    t(queueState(visit)),
    ' ',
    ticketLink(visit, 'print-ticket'),
    ' ',
    h('a', { href: '#/queue' }, t('q_nav')),
  );
}

/** The practitioner's name: from the clinic's staff list, else the name the server sent with the visit. */
function practitionerName(visit) {
  return staffMember(app.user, visit.practitioner)?.full_name || visit.practitioner_name || '';
}

/** The visit's details, with Edit and Void where the server would take them: only doctors and
 * owners amend a finished visit, and void one that has started. */
function adminSection(ctx) {
  const { visit } = ctx;
  const clinician = CLINICIANS.includes(app.user.role);
  const status = visit.status || 'arrived';
  const box = h('div', { id: 'visit-admin' });
  // A refused change of these fields opens their form at once, with the server's reasons beside them.
  const refusedHere = ctx.refusals.some((m) => FIELDS.visitAdmin.some((f) => f.name in (m.fields || {})));
  const facts = () =>
    h(
      'dl',
      { class: 'facts' },
      FIELDS.visitAdmin.map((f) => [
        h('dt', {}, t(f.name)),
        h(
          'dd',
          {},
          f.type === 'datetime'
            ? fmtTime(visit[f.name])
            : f.name === 'status'
              ? t(visit.status || 'arrived')
              : visit[f.name] || '—',
        ),
      ]),
      h('dt', {}, t('practitioner')),
      h('dd', { id: 'visit-practitioner' }, practitionerName(visit) || '—'),
    );
  const editForm = () =>
    recordForm({
      entity: 'visit',
      name: 'visit-admin',
      record: visit,
      fields: adminFields(visit),
      conflicts: ctx.conflicts,
      refusals: ctx.refusals,
      reasonLabel: ctx.amend,
      standing: refusedHere,
      onCancel: ctx.editor.close,
    });
  const show = () =>
    clear(
      box,
      facts(),
      !ctx.readOnly &&
        h(
          'div',
          { class: 'actions' },
          clinician || status !== 'finished'
            ? h(
                'button',
                { type: 'button', id: 'edit-visit', onclick: () => ctx.editor.open(box, editForm(), show) },
                t('edit'),
              )
            : null,
          clinician || status === 'arrived'
            ? voidBox('visit', visit, () => {
                window.location.hash = `#/patient/${visit.patient}`;
              })
            : null,
        ),
    );
  if (refusedHere && !ctx.readOnly) ctx.editor.open(box, editForm(), show);
  else show();
  return box;
}

function soapSection(ctx) {
  const { visit } = ctx;
  const writer = !ctx.readOnly && CLINICIANS.includes(app.user.role);
  if (!writer)
    return h(
      'dl',
      { class: 'facts', id: 'soap' },
      FIELDS.soap.map((f) => [h('dt', {}, t(f.name)), h('dd', { class: 'pre' }, visit[f.name] || '—')]),
    );
  ctx.soapForm = recordForm({
    entity: 'visit',
    name: 'soap',
    standing: true,
    record: visit,
    fields: FIELDS.soap,
    conflicts: ctx.conflicts,
    refusals: ctx.refusals,
    reasonLabel: ctx.amend,
    changes: (fields) => soapChanges(visit, fields),
  });
  return h('div', { id: 'soap' }, ctx.soapForm);
}

/** The note typed but not saved, finished with the visit rather than lost to the redraw. */
function unsavedNote(ctx) {
  const changes = {};
  for (const field of FIELDS.soap) {
    const value = ctx.soapForm?.elements.namedItem(field.name)?.value;
    if (value !== undefined && value !== (ctx.visit[field.name] ?? '')) changes[field.name] = value;
  }
  return changes;
}

/** "Finish visit" for doctors and owners while the visit is open; asks first if no diagnosis is
 * recorded, and waits while another entry is open unsaved. */
function finishSection(ctx) {
  const status = ctx.visit.status || 'arrived';
  if (!CLINICIANS.includes(app.user.role) || ctx.readOnly || status === 'finished') return null;
  const box = h('div', { id: 'finish-box', class: 'finish-box' });
  const say = (text) => clear(box, button, h('p', { class: 'form-errors', role: 'alert' }, text));
  const finish = async () => {
    try {
      const fields = { ...unsavedNote(ctx), status: 'finished' };
      await save([{ entity: 'visit', id: ctx.id, op: 'update', fields }]);
      rerender(true);
    } catch (error) {
      say(error.message || String(error));
    }
  };
  const ask = () =>
    clear(
      box,
      // A question on screen holds background redraws off, as an open form does (router.busy).
      h('p', { role: 'alert', class: 'finish-ask', dataset: { asking: '1' } }, t('finish_no_diagnosis')),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'primary', id: 'finish-anyway', onclick: finish }, t('finish_anyway')),
        h('button', { type: 'button', onclick: () => clear(box, button) }, t('cancel')),
      ),
    );
  const button = h(
    'button',
    {
      type: 'button',
      class: 'primary',
      id: 'finish-visit',
      onclick: () => {
        // Any entry typed and not saved but the note's (which goes with the finish) holds it back.
        if (ctx.root.querySelector('form[data-dirty]:not([data-form=soap])')) return say(t('finish_open_forms'));
        return ctx.hasDiagnosis ? finish() : ask();
      },
    },
    t('finish_visit'),
  );
  return clear(box, button);
}

async function visitContext(id, states, visit, conflicts) {
  const clinical = CLINICAL_READERS.includes(app.user.role);
  const [patient, refused, refusals, mine, ...lists] = await Promise.all([
    visit.patient ? getRecord(app.db, visit.patient) : null,
    refusedByRecord(app.db),
    refusedOf(app.db, id),
    recordedHere(app.db),
    ...PARTS.map(({ entity }) => (clinical ? children(app.db, entity, id) : [])),
  ]);
  const parts = Object.fromEntries(PARTS.map(({ entity }, index) => [entity, sortParts(entity, lists[index])]));
  // Finished as the server will see it when this device's next change arrives: its own pending
  // changes, finishing included, go first, so after a local finish every change is an amendment.
  const finished = visit.status === 'finished';
  return {
    id,
    visit,
    patient,
    states,
    refused,
    conflicts,
    refusals: refusals.filter((m) => m.op === 'create' || m.op === 'update'),
    parts,
    clinical,
    finished,
    amend: finished ? t('amend_reason') : '',
    readOnly: Boolean(visit.voided_at),
    recordedHere: mine,
    hasDiagnosis: parts.diagnosis.some((d) => !d.voided_at),
    titles: await titlesOf(parts.diagnosis.map((d) => d.code)),
    editor: singleEditor(),
    soapForm: null,
    root: null,
  };
}

export async function visitScreen(id, states) {
  const conflicts = await openConflicts(app.db, id);
  const visit = await decidedRecord(app.db, id, conflicts);
  if (!visit) return h('p', {}, h('a', { href: '#/' }, t('back')));
  const ctx = await visitContext(id, states, visit, conflicts);
  const sections = [
    h('a', { href: `#/patient/${visit.patient}` }, t('back')),
    patientBanner(ctx.patient, visit),
    h(
      'h2',
      {},
      `${t('visit')} · ${fmtTime(visit.started_at)} `,
      stateTag(states(id)),
      ctx.finished ? h('span', { class: 'state state-finished' }, t('finished')) : null,
      voidedTag(visit),
    ),
    queueLine(visit),
    ctx.finished ? h('p', { class: 'finished-note', id: 'finished-note' }, t('finished_note')) : null,
    satusehatLine(visit),
    failureNote(states, id, ctx.refused),
    ...(await conflictBoxes(id)),
    adminSection(ctx),
    printMenu(visit), // papers to print: summary, prescription, letters
  ];
  if (ctx.clinical) {
    sections.push(h('h3', {}, t('soap')), soapSection(ctx));
    for (const part of PARTS) sections.push(...(await partSection(ctx, part)));
    sections.push(finishSection(ctx));
  }
  ctx.root = h('section', { class: 'visit-screen', dataset: { visit: id } }, sections);
  return ctx.root;
}
