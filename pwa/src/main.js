// The app: screens that read and write the device's store, a sync loop beside them, the header with
// the sync state, the service worker's update offer, and logout that wipes the device once synced.
import { searchIcd10 } from './icd10.js';
import { lang, setLanguage, t } from './i18n.js';
import {
  chartOpened, children, discardFailed, getMeta, isQuotaError, openStore, outboxCounts, randomId, recordStates,
  resolveConflict, searchPatients, setMeta, view, writeChanges,
} from './store.js';
import { SyncError, syncOnce, whoIsSignedIn, withSyncLock } from './sync.js';
import { clear, fmtTime, form, h, showErrors } from './ui.js';

const CLINICIANS = ['owner', 'doctor'];
const CLINICAL_READERS = ['owner', 'doctor', 'nurse'];
const app = {
  user: null, db: null, deviceId: '', csrf: '', meFresh: false, syncing: false, again: false, problem: null,
  progress: null, retryDelay: 2000, retryTimer: null, stats: { pending: 0, openings: 0, failed: 0, conflicts: 0 },
  openChart: null, // the patient whose chart is on screen, its opening logged
  rendered: 0, // screens drawn or dropped so far (tests wait on it)
};
window.emr = app; // for the browser tests and support: the store and the sync state of this page

const FIELDS = {
  patient: [
    { name: 'full_name', required: true, max: 150 },
    { name: 'nik', max: 16, pattern: '\\d{16}', inputmode: 'numeric' },
    { name: 'birth_date', type: 'date', required: true, min: '1900-01-01' },
    { name: 'sex', type: 'select', options: ['F', 'M'], required: true },
    { name: 'phone', max: 32 },
    { name: 'address', type: 'textarea', rows: 2, max: 500 },
    { name: 'allergies', type: 'textarea', rows: 2, max: 1000 },
  ],
  visitAdmin: [
    { name: 'started_at', type: 'datetime', required: true },
    { name: 'status', type: 'select', options: ['arrived', 'in_progress', 'finished'] },
    { name: 'chief_complaint', type: 'textarea', rows: 2, max: 1000 },
  ],
  soap: ['subjective', 'objective', 'assessment', 'plan'].map((name) => ({ name, type: 'textarea', rows: 3, max: 10000 })),
  vitals: [
    { name: 'temperature_c', type: 'number', step: '0.1' }, { name: 'pulse', type: 'number' },
    { name: 'respiratory_rate', type: 'number' }, { name: 'systolic', type: 'number' }, { name: 'diastolic', type: 'number' },
    { name: 'spo2', type: 'number' }, { name: 'height_cm', type: 'number', step: '0.1' }, { name: 'weight_kg', type: 'number', step: '0.1' },
  ],
  prescription: [
    { name: 'drug', required: true, max: 200 }, { name: 'dose', required: true, max: 100 }, { name: 'frequency', required: true, max: 100 },
    { name: 'route', max: 50 }, { name: 'duration', max: 100 }, { name: 'quantity', type: 'number' },
    { name: 'instructions', type: 'textarea', rows: 2, max: 1000 },
  ],
};

// --- notices -------------------------------------------------------------------------------------------

function notice(key, text, ...actions) {
  const box = document.getElementById('notices');
  box.querySelector(`[data-notice="${key}"]`)?.remove();
  if (text) box.append(h('div', { class: `notice notice-${key}`, dataset: { notice: key } }, h('span', {}, text), ...actions));
}

// --- session -------------------------------------------------------------------------------------------

/** Who is signed in (null if nobody); keeps the session's CSRF token for the app's writes. */
async function fetchMe() {
  const me = await whoIsSignedIn();
  if (!me) return null;
  app.csrf = me.csrf_token;
  app.meFresh = true;
  return me;
}

function showSignedOut() {
  notice('session', t('signed_out'), h('a', { href: loginUrl(), class: 'button' }, t('sign_in')));
}

function loginUrl() {
  return `/accounts/login/?next=${encodeURIComponent('/app/')}`;
}

async function identify() {
  const cached = JSON.parse(localStorage.getItem('emr.user') || 'null');
  try {
    const me = await fetchMe();
    if (!me) {
      if (cached) {
        showSignedOut();
        return cached;
      }
      window.location.replace(loginUrl());
      return null;
    }
    const user = { id: me.id, email: me.email, full_name: me.full_name, role: me.role, clinic: me.clinic, clinic_name: me.clinic_name };
    localStorage.setItem('emr.user', JSON.stringify(user));
    return user;
  } catch {
    return cached; // offline: the last person who signed in on this device, at this clinic
  }
}

// --- writing -------------------------------------------------------------------------------------------

async function save(changes) {
  try {
    await writeChanges(app.db, changes);
  } catch (error) {
    if (isQuotaError(error)) throw new Error(t('quota'));
    throw new Error(t('save_error', { e: error.message || error }));
  }
  notice('saved', t('saved_offline'));
  setTimeout(() => notice('saved', ''), 2500);
  await refreshStats();
  scheduleSync(300);
  navigator.serviceWorker?.ready.then((registration) => registration.sync?.register('emr-sync')).catch(() => {});
}

function canWrite(entity, fields = []) {
  const role = app.user.role;
  if (entity === 'patient') return true;
  if (entity === 'visit') return fields.some((f) => FIELDS.soap.some((s) => s.name === f)) ? CLINICIANS.includes(role) : true;
  if (entity === 'vitals') return CLINICAL_READERS.includes(role);
  return CLINICIANS.includes(role);
}

// --- sync loop -----------------------------------------------------------------------------------------

async function refreshStats() {
  const { db } = app;
  // One read transaction with its four requests in flight together (four transactions one after
  // another were most of a save's time).
  const [{ pending, openings }, failed, conflicts, lastSyncAt] = await db.transaction('r', db.outbox, db.failed, db.conflicts, db.meta, () =>
    Promise.all([outboxCounts(db), db.failed.count(), db.conflicts.toArray(), getMeta(db, 'lastSyncAt')]));
  app.stats = { pending, openings, failed, conflicts: conflicts.filter((c) => !c.resolved_at && !c.resolving).length, lastSyncAt };
  renderBar();
}

/** A sync run that starts now or, if one is running, right after it. */
async function syncToEnd() {
  while (app.syncing) await new Promise((resolve) => { setTimeout(resolve, 100); });
  await runSync();
}

function scheduleSync(delay) {
  clearTimeout(app.retryTimer);
  app.retryTimer = setTimeout(runSync, delay);
}

export async function runSync() {
  if (!app.db) return;
  if (app.syncing) {
    app.again = true;
    return;
  }
  app.syncing = true;
  renderBar();
  try {
    if (!app.meFresh && !(await fetchMe().catch(() => { throw new SyncError('network', 'offline'); }))) {
      throw new SyncError('signed_out', '');
    }
    await syncOnce(app.db, { deviceId: app.deviceId, csrf: app.csrf, onProgress: onSyncProgress, batchSize: app.batchSize, batchBytes: app.batchBytes, pullLimit: app.pullLimit });
    app.problem = null;
    app.retryDelay = 2000;
    notice('session', '');
    notice('sync', '');
  } catch (error) {
    handleSyncError(error);
  } finally {
    app.syncing = false;
    app.progress = null;
    await refreshStats();
    rerender();
    if (app.again) {
      app.again = false;
      scheduleSync(50);
    }
  }
}

/** What stopped a sync: the server's answer or the network (a SyncError), the device's full storage,
 * or another error of this device. Only a network error shows the app as offline. */
function problemOf(error) {
  if (error instanceof SyncError) return error.kind;
  return isQuotaError(error) ? 'quota' : 'device';
}

function handleSyncError(error) {
  const kind = problemOf(error);
  app.problem = kind;
  if (kind === 'signed_out') {
    app.meFresh = false;
    showSignedOut();
    return;
  }
  if (kind === 'refused') {
    app.meFresh = false; // a stale CSRF token after signing in again is refreshed on the next try
    notice('sync', t('refused', { e: error.message }));
  } else if (kind === 'server') {
    notice('sync', t('server_error'));
  } else if (kind === 'gap') {
    notice('sync', t('out_of_step', { n: error.message }));
  } else if (kind === 'quota') {
    notice('sync', t('quota_sync'));
  } else if (kind === 'device') {
    notice('sync', t('sync_device_error', { e: error?.message || String(error) }));
  } else if (kind !== 'network') {
    notice('sync', t('refused', { e: error.message }));
  }
  scheduleSync(app.retryDelay);
  app.retryDelay = Math.min(app.retryDelay * 2, 60000);
}

function onSyncProgress(progress) {
  if (progress.phase === 'pull' && progress.hasMore) app.progress = progress;
  else app.progress = null;
  renderBar();
}

// --- header --------------------------------------------------------------------------------------------

function renderBar() {
  const bar = document.getElementById('bar');
  if (!app.user) return clear(bar);
  const online = navigator.onLine && app.problem !== 'network';
  const { pending, failed, conflicts, lastSyncAt } = app.stats;
  const progress = app.progress
    ? h('div', { class: 'progress', role: 'progressbar', 'aria-valuenow': app.progress.received, 'aria-valuemax': app.progress.total },
      t('downloading', { n: app.progress.received, total: app.progress.total }),
      h('progress', { value: app.progress.received, max: app.progress.total || 1 }))
    : null;
  clear(bar,
    h('div', { class: 'brand' }, h('strong', {}, app.user.clinic_name || app.user.clinic), h('span', { class: 'muted' }, ` · ${app.user.full_name || app.user.email} (${t(`role_${app.user.role}`)})`)),
    h('nav', {}, h('a', { href: '#/' }, t('patients')), h('a', { href: '#/sync' }, t('sync_panel'),
      failed || conflicts ? h('span', { class: 'badge bad', id: 'attention' }, String(failed + conflicts)) : null)),
    h('div', { class: 'sync-state', id: 'sync-state', dataset: { online: online ? '1' : '0', pending: String(pending), syncing: app.syncing ? '1' : '0' } },
      h('span', { class: `dot ${online ? 'on' : 'off'}`, id: 'online-state' }, online ? t('online') : t('offline')),
      // What needs the person links to where they act on it.
      failed || conflicts
        ? h('a', { id: 'pending-count', class: 'attention', href: '#/sync' }, syncState(pending, failed, conflicts))
        : h('span', { id: 'pending-count' }, syncState(pending, failed, conflicts)),
      h('span', { class: 'muted', id: 'last-sync' }, t('last_sync', { t: lastSyncAt ? fmtTime(lastSyncAt) : t('never') })),
      h('button', { type: 'button', id: 'sync-now', onclick: () => runSync() }, t('sync_now')),
      h('select', { id: 'language', 'aria-label': t('language'), onchange: (event) => { setLanguage(event.target.value); renderBar(); rerender(true); } },
        h('option', { value: 'id', selected: lang() === 'id' }, 'Bahasa Indonesia'), h('option', { value: 'en', selected: lang() === 'en' }, 'English')),
      h('button', { type: 'button', id: 'logout', onclick: logout }, t('logout'))),
    progress);
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

// --- screens -------------------------------------------------------------------------------------------

function stateTag(state) {
  return h('span', { class: `state state-${state}`, dataset: { state } }, t(`state_${state}`));
}

function route() {
  const [, kind, id] = (window.location.hash || '#/').slice(1).split('/');
  return { kind: kind || 'patients', id };
}

/** A person is in the middle of something: a form they opened or typed in, or a field with focus. A
 * background re-render (after a sync attempt) waits until they are done. */
function busy() {
  const main = document.getElementById('view');
  return main.querySelector('form[data-dirty], form:not([data-standing])')
    || (main.contains(document.activeElement) && document.activeElement.matches('input, textarea, select'));
}

/** The patient whose chart a route shows (a visit's patient for a visit's screen), or null. */
async function chartOf({ kind, id }) {
  if (!id || (kind !== 'patient' && kind !== 'visit')) return null;
  const shown = view(await app.db.records.get(id));
  if (!shown) return null;
  return kind === 'patient' ? shown.id : shown.patient || null;
}

/** Reading a chart is logged for the clinic's audit trail, on navigation only (a save or a sync that
 * redraws the screen is no new reading). A patient's screen and their visits' screens are one
 * opening; leaving for the list, the Sync page or another patient and coming back is another. */
function noteChartOpening() {
  // One after another, so quick navigations are noted in the order they happened.
  app.notingChart = (app.notingChart || Promise.resolve()).then(async () => {
    const patientId = await chartOf(route());
    const opened = patientId && patientId !== app.openChart;
    app.openChart = patientId;
    // Not shown to the person: they can do nothing about it, and a full disk is said when they save.
    if (opened) await chartOpened(app.db, patientId).catch(() => {});
  });
  return app.notingChart;
}

function rerender(force = false) {
  if (!force && busy()) return;
  render({ background: !force });
}

let renders = 0;
let shown = 0;

/** Draw the screen of the current route; when renders overlap, a screen older than the one shown is
 * never shown. A background redraw is dropped if, while it was reading the store, the person opened a
 * form or started typing: the screen under their finger stays theirs. */
async function render({ background = false } = {}) {
  if (!app.db) return;
  const mine = ++renders;
  const drawn = window.location.hash;
  const { kind, id } = route();
  const states = await recordStates(app.db);
  let screen;
  if (kind === 'patient' && id) screen = await patientScreen(id, states);
  else if (kind === 'visit' && id) screen = await visitScreen(id, states);
  else if (kind === 'sync') screen = await syncScreen();
  else screen = await patientsScreen(states);
  // A route left while this was drawn has its own render coming from the hashchange.
  if (mine > shown && drawn === window.location.hash && !(background && busy())) {
    shown = mine;
    clear(document.getElementById('view'), screen);
  }
  app.rendered += 1;
}

async function patientsScreen(states) {
  const list = h('ul', { class: 'list', id: 'patient-list' });
  const query = h('input', { type: 'search', id: 'search', placeholder: t('search'), value: app.query || '', autocomplete: 'off' });
  const fill = async () => {
    app.query = query.value;
    const { matches, total } = await searchPatients(app.db, query.value);
    clear(list, matches.length ? matches.map((p) => h('li', { dataset: { id: p.id } },
      h('a', { href: `#/patient/${p.id}` }, h('strong', {}, p.full_name), ` · ${p.medical_record_number || t('mrn_pending')} · ${p.birth_date || ''}`),
      stateTag(states(p.id)))) : h('li', { class: 'muted' }, t('no_patients')),
    total > matches.length ? h('li', { class: 'muted' }, t('more', { n: total - matches.length })) : null);
  };
  query.addEventListener('input', fill);
  await fill();
  const registerBox = h('div', { id: 'register' });
  const openRegister = () => clear(registerBox, form({
    name: 'register', fields: FIELDS.patient, creating: true, submitLabel: t('register'),
    onCancel: () => clear(registerBox),
    onSave: async (fields) => {
      const patientId = randomId();
      await save([{ entity: 'patient', id: patientId, op: 'create', fields }]);
      window.location.hash = `#/patient/${patientId}`;
    },
  }));
  return h('section', {}, h('div', { class: 'toolbar' }, query, h('button', { type: 'button', id: 'open-register', class: 'primary', onclick: openRegister }, t('register'))), registerBox, list);
}

function voidBox(entity, record, afterVoid) {
  const box = h('span', { class: 'void-box' });
  const open = () => clear(box, form({
    name: `void-${entity}`, fields: [], reasonLabel: t('void_reason'), submitLabel: t('void'), onCancel: () => clear(box, button),
    onSave: async (_changed, reason) => {
      await save([{ entity, id: record.id, op: 'void', reason }]);
      afterVoid ? afterVoid() : rerender(true);
    },
  }));
  const button = h('button', { type: 'button', class: 'danger', dataset: { void: record.id }, onclick: open }, t('void'));
  return clear(box, button);
}

function failureNote(states, id, failedByRecord) {
  if (states(id) !== 'failed') return null;
  const failed = failedByRecord.get(id);
  return h('div', { class: 'failure' }, showErrors(failed?.errors), h('small', {}, t('errors_fix')));
}

async function failedByRecordMap() {
  return new Map((await app.db.failed.toArray()).map((m) => [m.record_id, m]));
}

async function patientScreen(id, states) {
  const row = await app.db.records.get(id);
  if (!row) return h('p', {}, h('a', { href: '#/' }, t('back')));
  const patient = view(row);
  const failed = await failedByRecordMap();
  const details = h('div', { id: 'patient-details' });
  const showDetails = () => clear(details,
    h('h2', {}, patient.full_name, ' ', stateTag(states(id)), patient.voided_at ? h('span', { class: 'state state-voided' }, t('voided')) : null),
    failureNote(states, id, failed),
    h('dl', { class: 'facts' }, ['medical_record_number', 'nik', 'birth_date', 'sex', 'phone', 'address', 'allergies'].map((name) =>
      [h('dt', {}, t(name === 'medical_record_number' ? 'mrn' : name)), h('dd', {}, name === 'sex' ? t(patient.sex) : patient[name] || (name === 'medical_record_number' ? t('mrn_pending') : '—'))])),
    patient.voided_at ? null : h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'edit-patient', onclick: () => clear(details, form({
        name: 'patient', fields: FIELDS.patient, current: patient, onCancel: showDetails,
        onSave: async (fields) => {
          if (Object.keys(fields).length) await save([{ entity: 'patient', id, op: 'update', fields }]);
          rerender(true);
        },
      })) }, t('edit')),
      voidBox('patient', patient)));
  showDetails();
  const visits = (await children(app.db, 'visit', id)).sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)));
  const newVisit = h('div', { id: 'new-visit' });
  const openNewVisit = () => clear(newVisit, form({
    name: 'new-visit', fields: FIELDS.visitAdmin, creating: true, current: { started_at: new Date().toISOString(), status: 'arrived' },
    submitLabel: t('new_visit'), onCancel: () => clear(newVisit),
    onSave: async (fields) => {
      const visitId = randomId();
      await save([{ entity: 'visit', id: visitId, op: 'create', fields: { patient: id, ...fields } }]);
      window.location.hash = `#/visit/${visitId}`;
    },
  }));
  return h('section', {},
    h('a', { href: '#/' }, t('back')), details,
    h('h3', {}, t('visits')),
    patient.voided_at ? null : h('button', { type: 'button', id: 'open-new-visit', class: 'primary', onclick: openNewVisit }, t('new_visit')),
    newVisit,
    h('ul', { class: 'list', id: 'visit-list' }, visits.length ? visits.map((v) => h('li', { dataset: { id: v.id } },
      h('a', { href: `#/visit/${v.id}` }, `${fmtTime(v.started_at)} · ${t(v.status || 'arrived')}`, v.chief_complaint ? ` · ${v.chief_complaint}` : ''),
      v.voided_at ? h('span', { class: 'state state-voided' }, t('voided')) : null, stateTag(states(v.id)))) : h('li', { class: 'muted' }, t('no_visits'))));
}

function partLine(entity, part) {
  if (entity === 'vitals') {
    return FIELDS.vitals.filter((f) => part[f.name] !== null && part[f.name] !== undefined && part[f.name] !== '')
      .map((f) => `${t(f.name)} ${part[f.name]}`).join(' · ') + (part.bmi ? ` · BMI ${part.bmi}` : '');
  }
  if (entity === 'diagnosis') return `${part.code} ${part.title || ''} (${t(part.kind || 'primary')})`;
  return [part.drug, part.dose, part.frequency, part.route, part.duration, part.quantity, part.instructions].filter((x) => x !== null && x !== undefined && x !== '').join(' · ');
}

function diagnosisForm(onSave, onCancel, amend) {
  const results = h('ul', { class: 'icd-results', id: 'icd-results' });
  const chosen = { code: '', title: '' };
  const picked = h('div', { class: 'picked', id: 'icd-picked' });
  const search = h('input', { type: 'search', id: 'icd-search', placeholder: t('icd_search'), autocomplete: 'off' });
  search.addEventListener('input', async () => {
    const entries = await searchIcd10(search.value);
    clear(results, entries.map((entry) => h('li', {}, h('button', { type: 'button', dataset: { code: entry.code }, onclick: () => {
      Object.assign(chosen, entry);
      clear(picked, `${entry.code} ${entry.title}`);
      clear(results);
    } }, `${entry.code} ${entry.title}`))));
  });
  const kind = h('select', { id: 'f-kind' }, ['primary', 'secondary'].map((k) => h('option', { value: k }, t(k))));
  const reason = amend ? h('input', { id: 'f-reason', type: 'text', maxlength: 300 }) : null;
  const errors = h('div', { class: 'form-errors', role: 'alert' });
  const element = h('form', { class: 'record-form', dataset: { form: 'diagnosis' } },
    h('label', { class: 'wide' }, t('icd_search'), search), results, picked,
    h('label', {}, t('kind'), kind), reason && h('label', { class: 'wide' }, t('amend_reason'), reason), errors,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('save')), h('button', { type: 'button', onclick: onCancel }, t('cancel'))));
  element.addEventListener('input', () => { element.dataset.dirty = '1'; });
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!chosen.code) return clear(errors, `${t('icd_search')}: ${t('required')}`);
    if (reason && !reason.value.trim()) return clear(errors, t('reason_required'));
    try {
      await onSave({ code: chosen.code, kind: kind.value }, reason ? reason.value.trim() : '', chosen.title);
    } catch (error) {
      clear(errors, error.message);
    }
  });
  return element;
}

async function conflictBoxes(recordId) {
  const open = (await app.db.conflicts.where('record_id').equals(recordId).toArray()).filter((c) => !c.resolved_at);
  return open.map((conflict) => h('div', { class: 'conflict', dataset: { conflict: conflict.id, field: conflict.field } },
    h('strong', {}, t('conflict_on', { field: t(conflict.field) })),
    conflict.resolving ? h('span', { class: 'muted' }, ` ${t('state_pending')}`) : null,
    h('div', {}, `${t('server_value')}: `, h('q', {}, String(conflict.server_value ?? ''))),
    h('div', {}, `${t('device_value', { who: conflict.user_name })}: `, h('q', {}, String(conflict.device_value ?? ''))),
    conflict.resolving ? null : h('div', { class: 'actions' },
      h('button', { type: 'button', dataset: { keep: 'server' }, onclick: async () => { await resolveConflict(app.db, conflict, conflict.server_value); await afterResolve(); } }, t('keep_server')),
      h('button', { type: 'button', dataset: { keep: 'device' }, onclick: async () => { await resolveConflict(app.db, conflict, conflict.device_value); await afterResolve(); } }, t('keep_device')))));
}

async function afterResolve() {
  await refreshStats();
  scheduleSync(100);
  rerender(true);
}

/** A clinician's note starts an arrived visit: front desk and nurses may void a visit only while it
 * is arrived, so a visit holding a doctor's notes must not stay so. */
function soapChanges(visit, fields) {
  const starts = CLINICIANS.includes(app.user.role) && (visit.status || 'arrived') === 'arrived';
  return starts ? { ...fields, status: 'in_progress' } : fields;
}

async function visitScreen(id, states) {
  const row = await app.db.records.get(id);
  if (!row) return h('p', {}, h('a', { href: '#/' }, t('back')));
  const visit = view(row);
  const role = app.user.role;
  // Finished as the server will see it when this device's next change arrives: its own pending
  // changes, finishing included, go first, so after a local finish every change is an amendment.
  const finished = visit.status === 'finished';
  const amend = finished ? t('amend_reason') : '';
  const failed = await failedByRecordMap();
  const readOnly = Boolean(visit.voided_at);
  const adminBox = h('div', { id: 'visit-admin' });
  const showAdmin = () => clear(adminBox,
    h('dl', { class: 'facts' }, FIELDS.visitAdmin.map((f) => [h('dt', {}, t(f.name)), h('dd', {}, f.type === 'datetime' ? fmtTime(visit[f.name]) : f.name === 'status' ? t(visit.status || 'arrived') : visit[f.name] || '—')])),
    readOnly ? null : h('div', { class: 'actions' }, h('button', { type: 'button', id: 'edit-visit', onclick: () => clear(adminBox, form({
      name: 'visit-admin', fields: FIELDS.visitAdmin, current: visit, reasonLabel: amend, onCancel: showAdmin,
      onSave: async (fields, reason) => {
        if (Object.keys(fields).length) await save([{ entity: 'visit', id, op: 'update', fields, reason }]);
        rerender(true);
      },
    })) }, t('edit')), voidBox('visit', visit, () => { window.location.hash = `#/patient/${visit.patient}`; })));
  showAdmin();
  const sections = [
    h('a', { href: `#/patient/${visit.patient}` }, t('back')),
    h('h2', {}, `${t('visit')} · ${fmtTime(visit.started_at)} `, stateTag(states(id)), finished ? h('span', { class: 'state' }, t('finished')) : null,
      visit.voided_at ? h('span', { class: 'state state-voided' }, t('voided')) : null),
    finished ? h('p', { class: 'muted' }, t('finished_note')) : null,
    failureNote(states, id, failed),
    ...(await conflictBoxes(id)),
    adminBox,
  ];
  if (CLINICAL_READERS.includes(role)) {
    const soapBox = h('div', { id: 'soap' });
    const soapForm = () => form({
      name: 'soap', standing: true, fields: FIELDS.soap.map((f) => ({ ...f, disabled: !CLINICIANS.includes(role) })), current: visit, reasonLabel: amend,
      onSave: async (fields, reason) => {
        if (Object.keys(fields).length) await save([{ entity: 'visit', id, op: 'update', fields: soapChanges(visit, fields), reason }]);
        rerender(true);
      },
    });
    clear(soapBox, readOnly || !CLINICIANS.includes(role)
      ? h('dl', { class: 'facts' }, FIELDS.soap.map((f) => [h('dt', {}, t(f.name)), h('dd', { class: 'pre' }, visit[f.name] || '—')]))
      : soapForm());
    sections.push(h('h3', {}, t('soap')), soapBox);
    for (const [entity, title, addLabel] of [['vitals', 'vitals', 'add_vitals'], ['diagnosis', 'diagnoses', 'add_diagnosis'], ['prescription', 'prescriptions', 'add_prescription']]) {
      const parts = await children(app.db, entity, id);
      const adder = h('div', { id: `add-${entity}-box` });
      const close = () => clear(adder);
      const onSave = async (fields, reason, title) => {
        const extra = entity === 'vitals' ? { measured_at: new Date().toISOString() } : {};
        const display = title ? { title } : undefined; // a diagnosis's title: shown here, the server names codes itself
        await save([{ entity, id: randomId(), op: 'create', fields: { visit: id, ...extra, ...fields }, reason, display }]);
        rerender(true);
      };
      const open = () => clear(adder, entity === 'diagnosis'
        ? diagnosisForm(onSave, close, finished)
        : form({ name: entity, fields: FIELDS[entity], creating: true, reasonLabel: amend, onCancel: close, onSave }));
      sections.push(h('h3', {}, t(title)),
        h('ul', { class: 'list', id: `${entity}-list` }, parts.length ? parts.map((part) => h('li', { dataset: { id: part.id } },
          h('span', {}, partLine(entity, part)), part.voided_at ? h('span', { class: 'state state-voided' }, t('voided')) : null,
          stateTag(states(part.id)), failureNote(states, part.id, failed),
          !part.voided_at && !readOnly && canWrite(entity) ? voidBox(entity, part) : null)) : h('li', { class: 'muted' }, t('no_items'))),
        !readOnly && canWrite(entity) ? h('button', { type: 'button', id: `add-${entity}`, onclick: open }, t(addLabel)) : null, adder);
    }
  }
  return h('section', {}, sections);
}

async function syncScreen() {
  const failed = await app.db.failed.orderBy('seq').toArray();
  const conflicts = (await app.db.conflicts.toArray()).filter((c) => !c.resolved_at);
  const persisted = await navigator.storage?.persisted?.();
  return h('section', {},
    h('h2', {}, t('failed_title')),
    h('ul', { class: 'list', id: 'failed-list' }, failed.length ? failed.map((m) => h('li', { dataset: { seq: m.seq } },
      h('a', { href: m.entity === 'patient' ? `#/patient/${m.record_id}` : m.entity === 'visit' ? `#/visit/${m.record_id}` : '#/sync' }, `${t(`entity_${m.entity}`)} · ${t(`op_${m.op}`)}`),
      showErrors(m.errors),
      h('button', { type: 'button', onclick: async () => { await discardFailed(app.db, m.seq); await refreshStats(); rerender(true); } }, t('discard')))) : h('li', { class: 'muted' }, t('none'))),
    h('h2', {}, t('conflicts_title')),
    h('ul', { class: 'list', id: 'conflict-list' }, conflicts.length ? conflicts.map((c) => h('li', {},
      h('a', { href: c.entity === 'visit' ? `#/visit/${c.record_id}` : `#/patient/${c.record_id}` }, `${t(`entity_${c.entity}`)} · ${t(c.field)}`))) : h('li', { class: 'muted' }, t('none'))),
    h('p', { class: 'muted' }, persisted ? t('storage_persisted') : t('storage_not_persisted'), ` · ${app.deviceId}`));
}

// --- logout --------------------------------------------------------------------------------------------

async function logout() {
  await refreshStats();
  const unsynced = app.stats.pending + app.stats.failed;
  if (unsynced) {
    if (!navigator.onLine) return notice('logout', t('logout_offline'));
    return notice('logout', t('logout_pending', { n: unsynced }), h('button', { type: 'button', id: 'sync-then-logout', onclick: async () => {
      await runSync();
      await refreshStats();
      if (app.stats.pending + app.stats.failed) notice('logout', t('still_pending', { n: app.stats.pending + app.stats.failed }));
      else await leaveOnceOpeningsSent();
    } }, t('sync_then_logout')));
  }
  return leaveOnceOpeningsSent();
}

/** Chart openings still waiting are the clinic's audit trail: they are sent before the device's
 * database is deleted, and if they cannot be, nothing is deleted. */
async function leaveOnceOpeningsSent() {
  if (app.stats.openings) {
    await syncToEnd();
    await refreshStats();
    // Only the network is waited for: a device the server refuses (revoked, signed out) is wiped all
    // the same, as the person asked, since nothing it holds would ever be taken.
    if (app.stats.openings && app.problem === 'network') return notice('logout', t('logout_openings'));
  }
  return wipeAndLeave();
}

async function wipeAndLeave() {
  if (!app.meFresh) await fetchMe().catch(() => null);
  // Signed out on the server before anything is deleted: a device wiped while its session lives on
  // would let the next person at this device in as this one.
  const signedOut = await fetch('/accounts/logout/', {
    method: 'POST', credentials: 'same-origin', headers: { 'X-CSRFToken': app.csrf, 'Content-Type': 'application/x-www-form-urlencoded' }, body: '',
  }).then((response) => response.ok, () => false);
  if (!signedOut) return notice('logout', t('logout_needs_server'));
  const name = app.db.name;
  const { default: Dexie } = await import('dexie');
  // Under the sync lock: a sync still running (this page's or the service worker's) ends first, and
  // none can write (and so re-create the database) after it is deleted.
  await withSyncLock(name, async () => {
    app.db.close();
    app.db = null;
    await Dexie.delete(name);
  });
  localStorage.removeItem('emr.user');
  window.location.replace('/accounts/login/');
}

// --- service worker ------------------------------------------------------------------------------------

async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' });
  const offer = (worker, text = t('update_ready')) => {
    notice('update', text, h('button', { type: 'button', id: 'reload-update', onclick: () => {
      if (busy()) return offer(worker, t('save_first')); // a half-written entry is never cut off
      app.reloading = true;
      worker.postMessage({ type: 'SKIP_WAITING' });
    } }, t('reload')));
  };
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker);
    });
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (app.reloading) window.location.reload();
  });
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type === 'SYNC_NOW') runSync();
  });
  app.registration = registration;
}

// --- start ---------------------------------------------------------------------------------------------

async function start() {
  setLanguage(lang());
  // A device's first visit fetches the app's files for offline use after its first download, so on a
  // slow link they do not share it with the records; an installed app checks for an update at once.
  const installed = Boolean(navigator.serviceWorker?.controller);
  const install = () => registerServiceWorker().catch(() => {});
  if (installed) install();
  const user = await identify();
  if (!user) {
    if (!navigator.onLine) clear(document.getElementById('view'), h('p', {}, t('need_login')));
    if (!installed) install();
    return;
  }
  app.user = user;
  document.title = user.clinic_name || 'Klinik';
  app.db = openStore(user.clinic, user.id);
  // A newer app in another tab is upgrading this database: this tab's code is the older one, so it
  // offers a reload (its pending changes are in the database, untouched).
  app.db.on('versionchange', (event) => {
    if (!event.newVersion) return; // deleted (another tab logged out), not upgraded
    notice('update', t('database_upgraded'), h('button', { type: 'button', id: 'reload-upgraded', onclick: () => window.location.reload() }, t('reload')));
  });
  app.deviceId = await getMeta(app.db, 'deviceId');
  if (!app.deviceId) {
    app.deviceId = `d-${randomId()}`;
    await setMeta(app.db, 'deviceId', app.deviceId);
  }
  navigator.storage?.persist?.().catch(() => {});
  await refreshStats();
  noteChartOpening();
  await render();
  window.addEventListener('hashchange', () => { noteChartOpening(); render(); });
  window.addEventListener('online', () => { app.problem = null; renderBar(); app.registration?.update().catch(() => {}); runSync(); });
  window.addEventListener('offline', () => renderBar());
  setInterval(() => { if (navigator.onLine) runSync(); }, 30000);
  app.ready = true;
  app.readyAt = performance.now(); // ms from navigation to a working app (the cold-start benchmark reads it)
  const firstSync = navigator.onLine ? runSync() : Promise.resolve();
  if (!installed) firstSync.finally(install);
}

app.runSync = runSync;
app.save = save; // the screens' one write path (records + outbox in one transaction)
app.randomId = randomId;
start();
