// Papers printed from the device, offline: the visit summary, the prescription (resep), the sick-leave
// letter, the referral letter and the queue ticket. Each paper is built from what the device holds (the
// visit, its patient and parts, the clinic's letterhead and staff cached at sign-in) by a pure function
// of its data; what the server has not yet accepted is marked on the paper, and the foot of every paper
// says it was printed from the device's copy, when and by whom. Papers follow the person's language;
// the titles of Indonesian legal papers stay Indonesian in English too (with the English beside them),
// and prescription lines keep their "R/" and "S." as any Indonesian pharmacy reads them.
import { ageAt } from './age.js';
import { app, CLINICAL_READERS, CLINICIANS } from './app.js';
import { t } from './i18n.js';
import { titlesOf } from './icd10.js';
import { localDay } from './days.js';
import { staffMember } from './fields.js';
import { children, getRecord } from './store.js';
import { clear, fmtDate, fmtNumber, fmtTime, h } from './ui.js';

/** The papers a visit prints, by the name its print route uses, and who may print each. */
export const PAPERS = {
  summary: { label: 'print_summary', roles: CLINICAL_READERS },
  prescription: { label: 'print_prescription', roles: CLINICIANS },
  'sick-leave': { label: 'print_sick_leave', roles: CLINICIANS },
  referral: { label: 'print_referral', roles: CLINICIANS },
  ticket: { label: 'print_ticket', roles: null }, // anyone: front desk prints it at check-in
};

/** Paper sizes: the page (CSS `@page size`), its margins, and whether the page is a receipt roll
 * (whose length is the paper's own, measured once it is drawn). */
export const SIZES = {
  a5: { page: 'A5', margin: '10mm', width: '128mm' },
  a4: { page: 'A4', margin: '18mm', width: '174mm' },
  80: { page: '80mm', margin: '3mm', width: '74mm', receipt: true },
  58: { page: '58mm', margin: '2mm', width: '54mm', receipt: true },
};

// --- reading the device's data ---------------------------------------------------------------------

/** `day` (YYYY-MM-DD) moved by `days` calendar days. */
export function addDays(day, days) {
  const [year, month, date] = day.split('-').map(Number);
  const moved = new Date(Date.UTC(year, month - 1, date + days));
  return moved.toISOString().slice(0, 10);
}

/** Who signs a prescription or a letter: the visit's practitioner if set, else whoever wrote the
 * prescription lines (when the device knows it), else the person printing. */
export function prescriberOf(visit, prescriptions, user) {
  const writer = prescriptions.map((line) => line.created_by).find((id) => id !== null && id !== undefined);
  return (
    staffMember(user, visit.practitioner) ||
    staffMember(user, writer) ||
    staffMember(user, user.id) || { id: user.id, full_name: user.full_name, sip_number: '' }
  );
}

/** The weight of the visit's latest vital signs that have one (kg), or null. */
export function latestWeight(vitals) {
  const weighed = vitals
    .filter((v) => !v.voided_at && v.weight_kg !== null && v.weight_kg !== undefined && v.weight_kg !== '')
    .sort((a, b) => String(a.measured_at || '').localeCompare(String(b.measured_at || '')));
  return weighed.length ? weighed.at(-1).weight_kg : null;
}

/** The patient's age on the visit's day, as the app says it ("34 tahun"), or ''. */
export function ageOn(patient, visit) {
  const age = ageAt(patient?.birth_date, visit.started_at || visit.arrived_at || new Date());
  return age ? t(`age_${age.unit}`, { n: age.count }) : '';
}

/** Everything a visit's papers print, read from the device: the visit, its patient, its parts (not
 * voided), the diagnoses' titles in the person's language, the letterhead, who signs and who prints. */
export async function paperData(db, visitId, states, user = app.user) {
  const visit = await getRecord(db, visitId);
  if (!visit) return null;
  const clinical = CLINICAL_READERS.includes(user.role);
  const partsOf = async (entity) =>
    clinical ? (await children(db, entity, visitId)).filter((part) => !part.voided_at) : [];
  const [patient, vitals, diagnoses, prescriptions] = await Promise.all([
    visit.patient ? getRecord(db, visit.patient) : null,
    partsOf('vitals'),
    partsOf('diagnosis'),
    partsOf('prescription'),
  ]);
  const by = (key) => (a, b) => String(a[key] ?? '\uffff').localeCompare(String(b[key] ?? '\uffff'));
  vitals.sort(by('measured_at'));
  diagnoses.sort((a, b) => by('kind')(a, b) || by('code')(a, b));
  prescriptions.sort(by('created_at'));
  const titles = await titlesOf(diagnoses.map((d) => d.code));
  return {
    clinic: { name: user.clinic_name || '', ...(user.clinic_details || {}) },
    visit,
    patient: patient || {},
    vitals,
    diagnoses: diagnoses.map((d) => ({ ...d, title: titles.get(d.code) || d.title || '' })),
    prescriptions,
    practitioner: staffMember(user, visit.practitioner),
    prescriber: prescriberOf(visit, prescriptions, user),
    printer: user.full_name || user.email || '',
    printedAt: new Date(),
    synced: (id) => states(id) === 'synced',
  };
}

// --- pieces every paper shares ------------------------------------------------------------------------

function unsyncedTag(data, id) {
  return id && !data.synced(id)
    ? h('span', { class: 'paper-unsynced', dataset: { unsynced: id } }, t('print_unsynced'))
    : null;
}

/** Whether any record the paper prints is not yet accepted by the server. */
function anyUnsynced(data, records) {
  return records.some((record) => record?.id && !data.synced(record.id));
}

function letterhead(clinic, { compact = false } = {}) {
  const lines = [
    clinic.address,
    clinic.phone ? t('print_phone', { n: clinic.phone }) : '',
    clinic.licence_number ? t('print_licence', { n: clinic.licence_number }) : '',
  ].filter(Boolean);
  return h(
    'header',
    { class: compact ? 'paper-head compact' : 'paper-head' },
    h('div', { class: 'paper-clinic' }, clinic.name || ''),
    lines.map((line) => h('div', { class: 'paper-clinic-line' }, line)),
  );
}

function unsyncedNote(data, records) {
  return anyUnsynced(data, records)
    ? h('p', { class: 'paper-unsynced-note', id: 'paper-unsynced-note' }, `⚠ ${t('print_unsynced_note')}`)
    : null;
}

function foot(data) {
  return h(
    'footer',
    { class: 'paper-foot' },
    t('print_footer', { time: fmtTime(data.printedAt), name: data.printer || '—' }),
  );
}

/** Label–value rows; rows without a value are left out. */
function facts(rows) {
  return h(
    'dl',
    { class: 'paper-facts' },
    rows.filter(([, value]) => value).map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]),
  );
}

function patientFacts(data, { address = false, weight = false, more = [] } = {}) {
  const { patient, visit } = data;
  const kilograms = weight ? latestWeight(data.vitals) : null;
  return facts([
    [t('print_patient'), [patient.full_name || '—', ' ', unsyncedTag(data, patient.id)]],
    [t('mrn'), patient.medical_record_number || t('mrn_pending')],
    [t('print_age'), ageOn(patient, visit)],
    [t('sex'), patient.sex ? t(patient.sex) : ''],
    [t('print_weight'), kilograms !== null ? `${fmtNumber(kilograms)} kg` : ''],
    [t('address'), address ? patient.address : ''],
    ...more,
  ]);
}

/** A practice licence number as printed: "SIP 446/…", unless the number already says SIP. */
function sipText(number) {
  return /^sip\b/i.test(number) ? number : t('print_sip', { n: number });
}

function signature(data, signer = data.prescriber) {
  return h(
    'div',
    { class: 'paper-sign' },
    h('div', {}, fmtDate(localDay(data.printedAt))),
    h('div', {}, t('print_examined_by')),
    h('div', { class: 'paper-sign-space', 'aria-hidden': 'true' }),
    h('div', { class: 'paper-sign-name' }, signer?.full_name || '—'),
    signer?.sip_number ? h('div', {}, sipText(signer.sip_number)) : null,
  );
}

function paper(name, size, ...content) {
  return h('article', { class: `paper paper-${name}`, dataset: { paper: name, size } }, content);
}

function vitalsLine(part) {
  const pressure =
    part.systolic || part.diastolic
      ? `${fmtNumber(part.systolic) || '—'}/${fmtNumber(part.diastolic) || '—'} mmHg`
      : '';
  return [
    part.temperature_c ? `${t('print_temp')} ${fmtNumber(part.temperature_c)} °C` : '',
    pressure ? `${t('print_bp')} ${pressure}` : '',
    part.pulse ? `${t('print_pulse')} ${fmtNumber(part.pulse)}/${t('print_minute')}` : '',
    part.respiratory_rate ? `${t('print_rr')} ${fmtNumber(part.respiratory_rate)}/${t('print_minute')}` : '',
    part.spo2 ? `SpO₂ ${fmtNumber(part.spo2)}%` : '',
    part.height_cm ? `${t('print_height')} ${fmtNumber(part.height_cm)} cm` : '',
    part.weight_kg ? `${t('print_weight')} ${fmtNumber(part.weight_kg)} kg` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

function diagnosisList(data) {
  if (!data.diagnoses.length) return h('p', { class: 'paper-empty' }, '—');
  return h(
    'ul',
    { class: 'paper-list' },
    data.diagnoses.map((d) =>
      h(
        'li',
        { dataset: { code: d.code } },
        h('strong', {}, d.code),
        ` ${d.title} (${t(d.kind || 'primary')}) `,
        unsyncedTag(data, d.id),
      ),
    ),
  );
}

/** A prescription's signa: how often, how much, how, for how long ("S. 3x1 500 mg oral 5 hari"). */
function signa(line) {
  return [line.frequency, line.dose, line.route, line.duration].filter(Boolean).join(' ');
}

function rLines(data) {
  if (!data.prescriptions.length) return h('p', { class: 'paper-empty' }, '—');
  return h(
    'ol',
    { class: 'paper-r' },
    data.prescriptions.map((line) =>
      h(
        'li',
        { dataset: { id: line.id } },
        h(
          'div',
          { class: 'r-drug' },
          h('span', { class: 'r-mark' }, 'R/'),
          ' ',
          h('strong', {}, line.drug),
          line.quantity !== null && line.quantity !== undefined && line.quantity !== ''
            ? ` No. ${fmtNumber(line.quantity)}`
            : '',
          ' ',
          unsyncedTag(data, line.id),
        ),
        signa(line) ? h('div', { class: 'r-signa' }, `S. ${signa(line)}`) : null,
        line.instructions ? h('div', { class: 'r-signa' }, line.instructions) : null,
      ),
    ),
  );
}

function therapyList(data) {
  if (!data.prescriptions.length) return h('p', { class: 'paper-empty' }, '—');
  return h(
    'ul',
    { class: 'paper-list' },
    data.prescriptions.map((line) =>
      h(
        'li',
        {},
        h('strong', {}, line.drug),
        signa(line) ? ` · ${signa(line)}` : '',
        line.quantity ? ` · No. ${fmtNumber(line.quantity)}` : '',
        ' ',
        unsyncedTag(data, line.id),
      ),
    ),
  );
}

function section(title, ...content) {
  return h('section', { class: 'paper-section' }, h('h3', {}, title), content);
}

// --- the papers ------------------------------------------------------------------------------------------

/** The visit summary: patient, visit, the doctor's note, vital signs, diagnoses and prescriptions. */
export function summaryPaper(data, size = 'a5') {
  const { visit } = data;
  const all = [visit, data.patient, ...data.vitals, ...data.diagnoses, ...data.prescriptions];
  const note = ['chief_complaint', 'subjective', 'objective', 'assessment', 'plan'].filter((key) => visit[key]);
  return paper(
    'summary',
    size,
    letterhead(data.clinic),
    h('h2', { class: 'paper-title' }, t('paper_summary_title')),
    unsyncedNote(data, all),
    patientFacts(data, {
      weight: true,
      more: [
        [t('print_visit_date'), [fmtTime(visit.started_at), ' ', unsyncedTag(data, visit.id)]],
        [t('practitioner'), data.practitioner?.full_name || ''],
        [t('status'), t(visit.status || 'arrived')],
      ],
    }),
    note.length
      ? section(t('soap'), facts(note.map((key) => [t(key), h('span', { class: 'pre' }, visit[key])])))
      : null,
    data.vitals.length
      ? section(
          t('vitals'),
          h(
            'ul',
            { class: 'paper-list' },
            data.vitals.map((part) =>
              h('li', {}, `${fmtTime(part.measured_at)}: ${vitalsLine(part)} `, unsyncedTag(data, part.id)),
            ),
          ),
        )
      : null,
    section(t('diagnoses'), diagnosisList(data)),
    section(t('prescriptions'), therapyList(data)),
    foot(data),
  );
}

/** The prescription (resep): letterhead, the prescriber and SIP, date, R/ lines, the patient's name,
 * age and weight, and a space to sign. */
export function prescriptionPaper(data, size = 'a5') {
  const { visit, prescriber } = data;
  return paper(
    'prescription',
    size,
    letterhead(data.clinic),
    h('h2', { class: 'paper-title' }, t('paper_prescription_title')),
    unsyncedNote(data, [visit, data.patient, ...data.prescriptions]),
    facts([
      [t('print_doctor'), prescriber?.full_name || '—'],
      [t('print_sip_label'), prescriber?.sip_number || '—'],
      [t('print_date'), fmtDate(localDay(visit.started_at))],
    ]),
    rLines(data),
    h('div', { class: 'paper-pro' }, patientFacts(data, { weight: true })),
    signature(data),
    foot(data),
  );
}

/** The sick-leave letter (surat keterangan sakit): `days` of rest from `from` (YYYY-MM-DD). The
 * diagnosis stays off it: the letter goes to an employer or a school. */
export function sickLeavePaper(data, { days, from }, size = 'a5') {
  const { visit, prescriber } = data;
  const to = addDays(from, days - 1);
  return paper(
    'sick-leave',
    size,
    letterhead(data.clinic),
    h('h2', { class: 'paper-title' }, t('paper_sick_title')),
    unsyncedNote(data, [visit, data.patient]),
    h(
      'p',
      {},
      t('print_sick_intro', { name: prescriber?.full_name || '—' }),
      prescriber?.sip_number ? ` (${sipText(prescriber.sip_number)})` : '',
      t('print_sick_certifies'),
    ),
    patientFacts(data, { address: true }),
    h(
      'p',
      { class: 'paper-rest', dataset: { days: String(days) } },
      t(days === 1 ? 'print_sick_body_one' : 'print_sick_body', {
        date: fmtDate(localDay(visit.started_at)),
        days: t('age_days', { n: days }),
        from: fmtDate(from),
        to: fmtDate(to),
      }),
    ),
    h('p', {}, t('print_sick_close')),
    signature(data),
    foot(data),
  );
}

/** The referral letter (surat rujukan) to `to` (a hospital or specialist), with the visit's diagnosis,
 * findings (vital signs and the objective note) and the therapy given (its prescriptions). */
export function referralPaper(data, { to, note = '' }, size = 'a5') {
  const { visit } = data;
  const findings = [
    ...data.vitals.map((part) => h('li', {}, vitalsLine(part), ' ', unsyncedTag(data, part.id))),
    visit.objective ? h('li', { class: 'pre' }, visit.objective) : null,
  ].filter(Boolean);
  return paper(
    'referral',
    size,
    letterhead(data.clinic),
    h('h2', { class: 'paper-title' }, t('paper_referral_title')),
    unsyncedNote(data, [visit, data.patient, ...data.vitals, ...data.diagnoses, ...data.prescriptions]),
    h('p', { class: 'paper-to' }, t('print_referral_dear'), h('br'), h('strong', { id: 'paper-to' }, to)),
    h('p', {}, t('print_referral_intro')),
    patientFacts(data, { address: true, weight: true }),
    section(t('print_diagnosis'), diagnosisList(data)),
    section(t('print_findings'), findings.length ? h('ul', { class: 'paper-list' }, findings) : h('p', {}, '—')),
    section(t('print_therapy'), therapyList(data)),
    note ? section(t('print_note'), h('p', { class: 'pre' }, note)) : null,
    h('p', {}, t('print_referral_close')),
    signature(data),
    foot(data),
  );
}

/** A patient's first name, which is all a ticket shows of them (others in the waiting room read it). */
export function firstName(fullName) {
  return (
    String(fullName || '')
      .trim()
      .split(/\s+/)[0] || ''
  );
}

/**
 * The queue ticket of a visit checked in (`arrived_at`): the clinic's name, the queue number in big
 * type (or, until the server has numbered it at sync, "Number pending sync" with the arrival time),
 * the practitioner's name, the date and time of arrival and the patient's first name. `user` is the
 * person printing, as cached on the device (its clinic details and staff). Returns the paper element
 * (built with text nodes only: its `outerHTML` is the paper's HTML).
 */
export function ticketHtml(visit, patient, user, { size = '80', synced = true, printedAt = new Date() } = {}) {
  const clinic = { name: user.clinic_name || '', ...(user.clinic_details || {}) };
  const practitioner = staffMember(user, visit.practitioner);
  const numbered = visit.queue_number !== null && visit.queue_number !== undefined;
  const arrived = visit.arrived_at || visit.started_at;
  return paper(
    'ticket',
    size,
    h('div', { class: 'ticket-clinic' }, clinic.name),
    h('div', { class: 'ticket-label' }, t('print_queue_number')),
    numbered
      ? h('div', { class: 'ticket-number', id: 'ticket-number' }, String(visit.queue_number))
      : h('div', { class: 'ticket-pending', id: 'ticket-number' }, t('print_queue_pending')),
    practitioner ? h('div', { class: 'ticket-line' }, practitioner.full_name) : null,
    h('div', { class: 'ticket-line' }, `${t('print_arrived_at')}: ${fmtTime(arrived)}`),
    h('div', { class: 'ticket-name' }, firstName(patient?.full_name)),
    synced ? null : h('div', { class: 'paper-unsynced' }, t('print_unsynced')),
    h(
      'footer',
      { class: 'paper-foot' },
      t('print_footer', { time: fmtTime(printedAt), name: user.full_name || user.email || '—' }),
    ),
  );
}

// --- the print view -----------------------------------------------------------------------------------

/** The print view's address of a paper ("#/print/prescription/<visit>?size=a5"), `options` in its query. */
export function printHref(name, visitId, options = {}) {
  const query = new URLSearchParams(Object.entries(options).filter(([, value]) => value !== '' && value != null));
  return `#/print/${name}/${visitId}?${query}`;
}

/** What the print view's address asks for: the paper, the visit and the query's options. */
export function printRoute(hash = window.location.hash) {
  const [path, query = ''] = hash.replace(/^#\/print\//, '').split('?');
  const [name = '', visitId = ''] = path.split('/');
  return { name, visitId: decodeURIComponent(visitId), options: Object.fromEntries(new URLSearchParams(query)) };
}

// A receipt's length until the paper is measured (whenShown).
const RECEIPT_LENGTH = '200mm';

/** The page's print styles for a paper size: the page's size and margins, and the paper alone on it. */
export function printCss(size) {
  const { page, margin, width, receipt } = SIZES[size] || SIZES.a5;
  return `
@page { size: ${receipt ? `${page} ${RECEIPT_LENGTH}` : page}; margin: ${margin}; }
body[data-printing] { background: #e5e7eb; }
body[data-printing] #bar, body[data-printing] #notices { display: none; }
body[data-printing] main { max-width: none; padding: 0; margin: 0; overflow-wrap: anywhere; }
.paper { box-sizing: border-box; width: ${width}; margin: 1rem auto; padding: 0; background: #fff; color: #000;
  font: ${receipt ? (size === '58' ? '8.5pt' : '9.5pt') : '10pt'}/1.3 system-ui, 'Noto Sans', sans-serif; }
@media screen { .paper { padding: ${margin}; width: calc(${width} + 2 * ${margin}); box-shadow: 0 1px 4px #0003;${receipt ? '' : ' max-width: 100%;'} } }
@media print {
  body, body[data-printing] { background: #fff; }
  .no-print { display: none !important; }
  .paper { margin: 0; width: auto; box-shadow: none; }
}
.paper h2.paper-title { font-size: 1.15em; text-align: center; margin: 0.6em 0; letter-spacing: 0.03em; }
.paper h3 { font-size: 1em; margin: 0.6em 0 0.2em; border-bottom: 1px solid #999; }
.paper-head { text-align: center; border-bottom: 2px solid #000; padding-bottom: 0.4em; }
.paper-clinic { font-size: 1.3em; font-weight: 700; }
.paper-clinic-line { font-size: 0.9em; }
.paper-facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 0.8em; margin: 0.5em 0; }
.paper-facts dt { font-weight: 600; }
.paper-facts dd { margin: 0; }
.paper-list { margin: 0.2em 0; padding-left: 1.2em; }
.paper-r { list-style: none; padding: 0; margin: 0.8em 0; }
.paper-r li { margin: 0 0 0.7em; padding-bottom: 0.3em; border-bottom: 1px dashed #999; break-inside: avoid; }
.r-mark { font-family: Georgia, 'Times New Roman', serif; font-style: italic; font-weight: 700; font-size: 1.2em; }
.r-signa { padding-left: 2em; }
.paper-pro { border-top: 1px solid #000; margin-top: 0.6em; }
.paper-sign { margin: 0.6em 0 0 auto; width: 55%; text-align: center; break-inside: avoid; }
.paper-sign-space { height: 14mm; }
.paper-sign-name { font-weight: 700; text-decoration: underline; }
.paper-to { margin: 0.8em 0; }
.paper-unsynced { display: inline-block; border: 1px solid #000; padding: 0 0.3em; font-size: 0.8em;
  font-weight: 700; white-space: nowrap; }
.paper-unsynced-note { border: 2px solid #000; padding: 0.3em 0.5em; font-weight: 600; }
.paper-foot { margin-top: 1em; padding-top: 0.3em; border-top: 1px solid #999; font-size: 0.8em; color: #333; }
.paper .pre { white-space: pre-wrap; }
.paper-ticket { text-align: center; }
.ticket-clinic { font-weight: 700; font-size: 1.2em; border-bottom: 1px dashed #000; padding-bottom: 0.3em; }
.ticket-label { margin-top: 0.5em; }
.ticket-number { font-size: ${size === '58' ? '30pt' : '40pt'}; font-weight: 800; line-height: 1.1; }
.ticket-pending { font-size: 1.3em; font-weight: 800; margin: 0.4em 0; border: 2px solid #000; padding: 0.2em; }
.ticket-line { margin: 0.15em 0; }
.ticket-name { font-size: 1.3em; font-weight: 700; margin: 0.3em 0; }
.print-tools { display: flex; flex-wrap: wrap; gap: 0.5rem; justify-content: center; padding: 0.75rem; }
`;
}

/** Where the print view returns: where the person opened it from (the visit's screen, the queue),
 * else the visit. */
function leave(visitId) {
  const back = app.printFrom || `#/visit/${visitId}`;
  app.printFrom = null;
  window.location.hash = back;
}

/** Once the paper is on the page: a receipt's page is made as long as the paper, the paper is marked
 * ready (`data-ready`: tests print it then), and a print asked for from the app's menu starts, the
 * app going back where it came from when the print dialog closes. */
function whenShown(root, paperElement, size, visitId) {
  const settle = () => {
    if (!paperElement.isConnected) return requestAnimationFrame(settle);
    if (SIZES[size]?.receipt) {
      // On screen the paper is drawn with the page's margins as padding: its height is the page's length.
      const millimetres = (paperElement.getBoundingClientRect().height * 25.4) / 96;
      const style = root.querySelector('style');
      style.textContent = style.textContent.replace(RECEIPT_LENGTH, `${Math.ceil(millimetres + 1)}mm`);
    }
    paperElement.dataset.ready = '1';
    if (app.printOnOpen) {
      app.printOnOpen = false;
      window.addEventListener('afterprint', () => leave(visitId), { once: true });
      window.print();
    }
    return null;
  };
  requestAnimationFrame(settle);
}

function clampDays(value) {
  const days = Math.round(Number(value));
  return Number.isFinite(days) && days >= 1 && days <= 90 ? days : null;
}

/** The paper the print view's address asks for, or a sentence saying why there is none. */
async function buildPaper(name, visitId, options, states) {
  const size = Object.hasOwn(SIZES, options.size || '') ? options.size : name === 'ticket' ? '80' : 'a5';
  const allowed = PAPERS[name] && (!PAPERS[name].roles || PAPERS[name].roles.includes(app.user.role));
  if (!allowed) return { problem: t('print_not_allowed') };
  if (name === 'ticket') {
    const visit = await getRecord(app.db, visitId);
    if (!visit) return { problem: t('record_not_here') };
    const patient = visit.patient ? await getRecord(app.db, visit.patient) : null;
    const synced = states(visitId) === 'synced';
    return { size, element: ticketHtml(visit, patient, app.user, { size, synced }) };
  }
  const data = await paperData(app.db, visitId, states);
  if (!data) return { problem: t('record_not_here') };
  if (name === 'summary') return { size, element: summaryPaper(data, size) };
  if (name === 'prescription') return { size, element: prescriptionPaper(data, size) };
  if (name === 'sick-leave') {
    const days = clampDays(options.days);
    if (!days) return { problem: t('print_need_days') };
    const from = /^\d{4}-\d{2}-\d{2}$/.test(options.from || '') ? options.from : localDay();
    return { size, element: sickLeavePaper(data, { days, from }, size) };
  }
  const to = (options.to || '').trim();
  if (!to) return { problem: t('print_need_to') };
  return { size, element: referralPaper(data, { to, note: options.note || '' }, size) };
}

/** The print view: the paper alone (the app's header hidden), with "Print" and "Back" above it on
 * screen only. */
export async function printScreen(states) {
  const { name, visitId, options } = printRoute();
  const { size, element, problem } = await buildPaper(name, visitId, options, states);
  const tools = h(
    'div',
    { class: 'print-tools no-print' },
    h('button', { type: 'button', id: 'print-back', onclick: () => leave(visitId) }, t('print_back')),
    element
      ? h('button', { type: 'button', class: 'primary', id: 'print-again', onclick: () => window.print() }, t('print'))
      : null,
  );
  const root = h(
    'section',
    { class: 'print-view', dataset: { print: name } },
    h('style', {}, printCss(size || 'a5')),
    tools,
    element || h('p', { class: 'form-errors', role: 'alert', id: 'print-problem' }, problem),
  );
  if (element) whenShown(root, element, size, visitId);
  return root;
}

// --- the print menu on the visit's screen --------------------------------------------------------------

/** Open a paper's print view and print it, coming back to this screen afterwards. */
function openPaper(name, visitId, options) {
  app.printFrom = window.location.hash;
  app.printOnOpen = true;
  window.location.hash = printHref(name, visitId, options);
}

function sizeChoice() {
  return h(
    'label',
    { class: 'print-size' },
    t('print_size'),
    h(
      'select',
      { id: 'print-size' },
      h('option', { value: 'a5', selected: true }, 'A5'),
      h('option', { value: 'a4' }, 'A4'),
    ),
  );
}

/** "Cetak" on a visit's screen: the papers this person may print, each with what it asks first (days
 * of rest; to whom a referral goes), on A5 or A4. Null when there is nothing to print. */
export function printMenu(visit, user = app.user) {
  const may = (name) => !PAPERS[name].roles || PAPERS[name].roles.includes(user.role);
  if (visit.voided_at || !may('summary')) return null;
  const box = h('div', { class: 'print-menu-body' });
  const size = () => box.querySelector('#print-size')?.value || 'a5';
  const button = (name, options = () => ({})) =>
    h(
      'button',
      {
        type: 'button',
        dataset: { printPaper: name },
        onclick: () => openPaper(name, visit.id, { size: size(), ...options() }),
      },
      t(PAPERS[name].label),
    );
  // Forms that stand (data-standing): a background redraw waits only while the person types in them.
  const paperForm = (name, fields, options) => {
    const errors = h('p', { class: 'form-errors', role: 'alert' });
    const element = h(
      'form',
      { class: 'print-form', dataset: { printForm: name, standing: '1' }, novalidate: true },
      fields,
      errors,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, t(PAPERS[name].label))),
    );
    element.addEventListener('submit', (event) => {
      event.preventDefault();
      const { problem, values } = options(element);
      if (problem) return clear(errors, problem);
      return openPaper(name, visit.id, { size: size(), ...values });
    });
    return element;
  };
  const sick = paperForm(
    'sick-leave',
    [
      h(
        'label',
        {},
        t('print_rest_days'),
        h('input', { name: 'days', id: 'print-days', type: 'text', inputmode: 'numeric', value: '3', maxlength: 2 }),
      ),
      h(
        'label',
        {},
        t('print_rest_from'),
        h('input', { name: 'from', id: 'print-from', type: 'date', value: localDay() }),
      ),
    ],
    (element) => {
      const days = clampDays(element.elements.namedItem('days').value.trim());
      if (!days) return { problem: t('print_need_days') };
      return { values: { days, from: element.elements.namedItem('from').value || localDay() } };
    },
  );
  const referral = paperForm(
    'referral',
    [
      h('label', {}, t('print_referral_to'), h('input', { name: 'to', id: 'print-to', type: 'text', maxlength: 200 })),
      h(
        'label',
        { class: 'wide' },
        t('print_referral_note'),
        h('textarea', { name: 'note', id: 'print-note', rows: 2, maxlength: 500 }),
      ),
    ],
    (element) => {
      const to = element.elements.namedItem('to').value.trim();
      if (!to) return { problem: t('print_need_to') };
      return { values: { to, note: element.elements.namedItem('note').value.trim() } };
    },
  );
  clear(
    box,
    sizeChoice(),
    h('div', { class: 'actions' }, button('summary'), may('prescription') ? button('prescription') : null),
    may('sick-leave') ? sick : null,
    may('referral') ? referral : null,
  );
  return h(
    'details',
    { class: 'print-menu', id: 'print-menu' },
    h('summary', { id: 'open-print' }, t('print_papers')),
    box,
  );
}
