// The device's store: one IndexedDB database per clinic and user (Dexie). Each record keeps the
// server's copy apart from the device's pending changes; the outbox holds every change in order, each
// written in the same transaction as the record it changes, and the charts opened (for the audit trail).
import Dexie from 'dexie';
import { localDay } from './days.js';

export const PARENT = { patient: null, visit: 'patient', vitals: 'visit', diagnosis: 'visit', prescription: 'visit' };

export function databaseName(clinic, userId) {
  return `emr:${clinic}:${userId}`;
}

export function storeExists(clinic, userId) {
  return Dexie.exists(databaseName(clinic, userId));
}

export function openStore(clinic, userId) {
  const db = new Dexie(databaseName(clinic, userId));
  db.version(1).stores({
    records: 'id, entity, [entity+parent]',
    outbox: 'seq, record_id',
    failed: 'seq, record_id',
    conflicts: 'id, record_id',
    meta: 'key',
  });
  // Version 2: patients in name order (the list the app opens on), without reading every patient.
  db.version(2)
    .stores({ records: 'id, entity, [entity+parent], [entity+sortName]' })
    .upgrade((tx) =>
      tx
        .table('records')
        .where('entity')
        .equals('patient')
        .modify((row) => {
          indexRow(row);
        }),
    );
  // Version 3: the outbox by kind, so chart openings (not changes a person waits on) are counted apart.
  db.version(3).stores({ outbox: 'seq, record_id, entity' });
  // Version 4: checked-in visits by the day of their queue, so the day's queue is read without every visit.
  db.version(4)
    .stores({ records: 'id, entity, [entity+parent], [entity+sortName], queueDay' })
    .upgrade((tx) =>
      tx
        .table('records')
        .where('entity')
        .equals('visit')
        .modify((row) => {
          indexRow(row);
        }),
    );
  return db;
}

export async function getMeta(db, key, fallback = null) {
  const row = await db.meta.get(key);
  return row ? row.value : fallback;
}

export function setMeta(db, key, value) {
  return db.meta.put({ key, value });
}

export function randomId() {
  return crypto.randomUUID();
}

/** The record as the person sees it: the server's copy with the device's pending changes on top. */
export function view(row) {
  if (!row) return null;
  return { ...(row.server || {}), ...(row.local || {}), id: row.id };
}

/** What patient search matches: name, medical record number and NIK, lower-cased. */
function searchText(data) {
  return [data.full_name, data.medical_record_number, data.nik].filter(Boolean).join(' ').toLowerCase();
}

/** A visit row's `queueDay`: the day it was checked in, while it is in the queue (not voided). */
function indexVisit(row) {
  const shown = view(row);
  if (shown.arrived_at && !shown.voided_at) row.queueDay = localDay(shown.arrived_at);
  else delete row.queueDay;
  return row;
}

/** Sets a row's index keys from what the person sees: a visit's `queueDay`; a patient's `search`, and
 * `sortName` (the name-ordered index holds patients that are not voided, so the list is read in order
 * and counted from it). Call it whenever a row's server copy or pending values change. */
export function indexRow(row) {
  if (row.entity === 'visit') return indexVisit(row);
  if (row.entity !== 'patient') return row;
  const shown = view(row);
  row.search = searchText(shown);
  if (shown.voided_at) delete row.sortName;
  else
    row.sortName = (shown.full_name || '')
      .normalize('NFD')
      .replace(/\p{Diacritic}/gu, '')
      .toLowerCase();
  return row;
}

/**
 * Write several changes in ONE IndexedDB transaction (a visit with its vitals, say): each record and
 * its outbox mutation commit together or not at all. `changes`: [{entity, id, op, fields, reason,
 * display}]; `display` holds values shown on the device only (a diagnosis's title), never sent.
 */
export async function writeChanges(db, changes) {
  return db.transaction('rw', db.records, db.outbox, db.failed, db.meta, async () => {
    // All reads at once, then all writes at once: each awaited request is a round trip to the
    // browser's database, and a save waits for them one after another otherwise.
    const ids = [...new Set(changes.map((change) => change.id))];
    const [firstSeq, existing, failed] = await Promise.all([
      getMeta(db, 'nextSeq', 1),
      db.records.bulkGet(ids),
      db.failed.where('record_id').anyOf(ids).toArray(),
    ]);
    const rows = new Map(ids.map((id, index) => [id, existing[index]]));
    // Changes the server refused are replaced by the next change of their record (their entries are
    // deleted below), so it carries what they held: the person sees those values and saved again
    // on top of them. A refused new record goes again as a create with every field it had.
    const refused = new Map();
    for (const m of failed.sort((a, b) => a.seq - b.seq)) {
      if (m.op !== 'create' && m.op !== 'update') continue;
      const earlier = refused.get(m.record_id);
      refused.set(m.record_id, {
        create: earlier?.create || m.op === 'create',
        fields: { ...earlier?.fields, ...m.fields },
      });
    }
    const entries = changes.map((original, index) => {
      const earlier = original.op === 'update' && refused.get(original.id);
      const change = earlier
        ? { ...original, op: earlier.create ? 'create' : 'update', fields: { ...earlier.fields, ...original.fields } }
        : original;
      if (earlier) refused.delete(original.id);
      const row = rows.get(change.id) || {
        id: change.id,
        entity: change.entity,
        parent: null,
        server: null,
        version: 0,
        local: null,
      };
      if (change.op === 'void') {
        row.local = { ...(row.local || {}), voided_at: new Date().toISOString(), void_reason: change.reason };
      } else {
        row.local = { ...(row.local || {}), ...change.fields, ...change.display };
      }
      const parentField = PARENT[change.entity];
      if (parentField && change.fields && change.fields[parentField]) row.parent = change.fields[parentField];
      rows.set(change.id, indexRow(row));
      return {
        seq: firstSeq + index,
        entity: change.entity,
        record_id: change.id,
        op: change.op,
        base_version: row.version || 0,
        fields: change.op === 'void' ? {} : change.fields,
        reason: change.reason || '',
        at: Date.now(),
        ...(change.display && change.op !== 'void' ? { display: change.display } : {}),
      };
    });
    await Promise.all([
      db.records.bulkPut([...rows.values()]),
      db.outbox.bulkAdd(entries),
      db.failed.where('record_id').anyOf(ids).delete(),
      setMeta(db, 'nextSeq', firstSeq + changes.length),
    ]);
  });
}

/** One outbox entry under the next seq, with `alsoWrite` in the same transaction over `tables`. */
function enqueue(db, tables, entry, alsoWrite = async () => {}) {
  return db.transaction('rw', db.outbox, db.meta, ...tables, async () => {
    const seq = await getMeta(db, 'nextSeq', 1);
    await db.outbox.add({ seq, base_version: 0, fields: {}, reason: '', at: Date.now(), ...entry });
    await alsoWrite();
    await setMeta(db, 'nextSeq', seq + 1);
  });
}

/** Keep `value` for a conflicted field (one of `openConflicts`; the server closes every open conflict
 * of the field with it; `reason`: an amendment's, else the server says "Conflict resolved"). A refused
 * earlier decision of it is replaced. `display` names the record and field on this device only. */
export function resolveConflict(db, conflict, value, reason = '') {
  const ids = conflict.ids || [conflict.id];
  return enqueue(
    db,
    [db.failed],
    {
      entity: 'conflict',
      record_id: conflict.id,
      op: 'resolve',
      base_version: conflict.version,
      fields: { value },
      reason,
      display: { entity: conflict.entity, record_id: conflict.record_id, field: conflict.field },
    },
    () => db.failed.where('record_id').anyOf(ids).delete(),
  );
}

/** A chart opened on this device, for the clinic's audit trail: an outbox entry that changes no
 * record, sent with the next push (offline, it waits there). */
export function chartOpened(db, patientId) {
  return enqueue(db, [], {
    entity: 'chart',
    record_id: patientId,
    op: 'open',
    fields: { opened_at: new Date().toISOString() },
  });
}

/** A chart opening is in the outbox but is no change of a record. */
export function changesRecord(mutation) {
  return mutation.entity !== 'chart';
}

/** What the outbox holds: changes waiting (`pending`) and chart openings waiting (`openings`). */
async function outboxCounts(db) {
  const [all, openings] = await Promise.all([db.outbox.count(), db.outbox.where('entity').equals('chart').count()]);
  return { pending: all - openings, openings };
}

/** The values a mutation gives its record (a void sets the void fields; display-only values are
 * the device's own). */
export function mutationValues(mutation) {
  if (mutation.op === 'void') return { voided_at: new Date(mutation.at).toISOString(), void_reason: mutation.reason };
  return { ...mutation.fields, ...mutation.display };
}

/** The device's pending values of a record, rebuilt from what is still in the outbox or refused. */
export async function rebuildLocal(db, recordId) {
  const waiting = [
    ...(await db.outbox.where('record_id').equals(recordId).toArray()).filter(changesRecord),
    ...(await db.failed.where('record_id').equals(recordId).toArray()),
  ].sort((a, b) => a.seq - b.seq);
  if (!waiting.length) return null;
  const local = {};
  for (const mutation of waiting) {
    Object.assign(local, mutationValues(mutation));
  }
  return local;
}

/** Drop a refused change: the record goes back to the server's copy (or away, if it never got there). */
export async function discardFailed(db, seq) {
  await db.transaction('rw', db.records, db.outbox, db.failed, async () => {
    const mutation = await db.failed.get(seq);
    if (!mutation) return;
    await db.failed.delete(seq);
    const row = await db.records.get(mutation.record_id);
    if (!row) return;
    row.local = await rebuildLocal(db, row.id);
    if (!row.server && !row.local) await db.records.delete(row.id);
    else await db.records.put(indexRow(row));
  });
}

export async function recordStates(db) {
  const pending = new Set((await db.outbox.toArray()).filter(changesRecord).map((m) => m.record_id));
  const failed = new Map((await db.failed.toArray()).map((m) => [m.record_id, m]));
  const open = await openConflicts(db);
  const conflicts = new Set(open.filter((c) => !c.resolving).map((c) => c.record_id));
  for (const c of open) if (c.resolving) pending.add(c.record_id); // decided here, not yet sent
  return (id) => {
    if (failed.has(id)) return 'failed';
    if (conflicts.has(id)) return 'conflict';
    if (pending.has(id)) return 'pending';
    return 'synced';
  };
}

export async function children(db, entity, parentId) {
  return (await db.records.where('[entity+parent]').equals([entity, parentId]).toArray()).map(view);
}

export async function searchPatients(db, query, limit = 50) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const name = (row) => row.local?.full_name ?? row.server?.full_name ?? '';
  if (!words.length) {
    const listed = () =>
      db.records.where('[entity+sortName]').between(['patient', Dexie.minKey], ['patient', Dexie.maxKey]);
    const [first, total] = await Promise.all([listed().limit(limit).toArray(), listed().count()]);
    return { matches: first.sort((a, b) => name(a).localeCompare(name(b))).map(view), total };
  }
  const matches = [];
  await db.records
    .where('entity')
    .equals('patient')
    .each((row) => {
      if (row.local?.voided_at || row.server?.voided_at) return;
      if (words.every((word) => (row.search || '').includes(word))) matches.push(row);
    });
  matches.sort((a, b) => name(a).localeCompare(name(b)));
  return { matches: matches.slice(0, limit).map(view), total: matches.length };
}

export function isQuotaError(error) {
  const names = [error?.name, error?.inner?.name];
  return names.includes('QuotaExceededError') || /quota/i.test(String(error?.message || ''));
}

// --- what the screens read ------------------------------------------------------------------------------

/** One record as the person sees it, or null. */
export async function getRecord(db, id) {
  return view(await db.records.get(id));
}

/** Everything the server has not taken: the outbox (changes and chart openings waiting) and the
 * refused changes, oldest first (for a revoked device's export). */
export async function unsyncedChanges(db) {
  const [outbox, failed] = await Promise.all([db.outbox.orderBy('seq').toArray(), db.failed.orderBy('seq').toArray()]);
  return { outbox, failed };
}

/** The refused changes, oldest first. */
export function refusedChanges(db) {
  return db.failed.orderBy('seq').toArray();
}

/** The refused change of each record (the latest when a record has more than one). */
export async function refusedByRecord(db) {
  return new Map((await refusedChanges(db)).map((m) => [m.record_id, m]));
}

/** The records among `ids` that are voided, or whose visit is: a conflict on them has nothing left to
 * decide (the server refuses any change of them), so it is neither shown nor counted. */
async function voidedRecords(db, ids) {
  if (!ids.length) return new Set();
  const rows = (await db.records.bulkGet(ids)).filter(Boolean);
  const visitIds = rows.filter((row) => PARENT[row.entity] === 'visit' && row.parent).map((row) => row.parent);
  const visits = new Map((await db.records.bulkGet(visitIds)).filter(Boolean).map((row) => [row.id, row]));
  const voided = (row) => Boolean(row && view(row).voided_at);
  return new Set(rows.filter((row) => voided(row) || voided(visits.get(row.parent))).map((row) => row.id));
}

/** Conflicts not yet resolved (of records not voided), of one record or (without an id) of all: one
 * per field of a record and device, the latest (a device that changed a field twice offline left one
 * per change; one decision closes them all; another device's held value is shown apart), with `ids` (all of them), `resolving` ({value, seq}: decided on this
 * device, waiting to be sent) and `refusal` (the refused decision: {value, errors}). Oldest first. */
export async function openConflicts(db, recordId = null) {
  const [rows, waiting, failed] = await Promise.all([
    recordId ? db.conflicts.where('record_id').equals(recordId).toArray() : db.conflicts.toArray(),
    db.outbox.where('entity').equals('conflict').toArray(),
    db.failed.toArray(),
  ]);
  const open = rows.filter((row) => !row.resolved_at);
  const voided = await voidedRecords(db, [...new Set(open.map((c) => c.record_id))]);
  const byField = new Map();
  for (const c of open.filter((row) => !voided.has(row.record_id))) {
    const key = `${c.entity}:${c.record_id}:${c.field}:${c.device_id}`;
    const group = byField.get(key) || [];
    byField.set(key, [...group, c]);
  }
  const decision = (list, ids) => list.filter((m) => m.entity === 'conflict' && ids.includes(m.record_id)).at(-1);
  return [...byField.values()]
    .map((group) => {
      group.sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
      const ids = group.map((c) => c.id);
      const chosen = decision(waiting, ids);
      const refused = decision(failed, ids);
      return {
        ...group.at(-1),
        ids,
        resolving: chosen ? { value: chosen.fields.value, seq: chosen.seq } : null,
        refusal: refused && !chosen ? { value: refused.fields?.value, errors: refused.errors || {} } : null,
      };
    })
    .sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
}

/** What the header counts: changes and chart openings waiting, refused changes, conflicts the person
 * has not yet resolved, and when the device last synced. One read transaction, its requests in flight
 * together (one transaction each was most of a save's time). */
export function syncStats(db) {
  return db.transaction('r', db.outbox, db.failed, db.conflicts, db.records, db.meta, async () => {
    const [{ pending, openings }, failed, conflicts, lastSyncAt] = await Promise.all([
      outboxCounts(db),
      db.failed.count(),
      openConflicts(db),
      getMeta(db, 'lastSyncAt'),
    ]);
    return {
      pending,
      openings,
      failed,
      // A refused decision is counted once, as refused (its conflict shows the refusal).
      conflicts: conflicts.filter((c) => !c.resolving && !c.refusal).length,
      lastSyncAt,
    };
  });
}

/** The records this person created on this device (a store is one person's), by id: a nurse changes
 * only the vital signs she recorded, and a record not yet synced has no `created_by` from the server. */
export async function recordedHere(db) {
  return new Set(await getMeta(db, 'recordedHere', []));
}

export function noteRecordedHere(db, id) {
  return db.transaction('rw', db.meta, async () => {
    const ids = await getMeta(db, 'recordedHere', []);
    await setMeta(db, 'recordedHere', [...ids, id]);
  });
}

/** The refused changes of one record, oldest first. */
export function refusedOf(db, recordId) {
  return db.failed.where('record_id').equals(recordId).sortBy('seq');
}

/** Where a record sits in a patient's chart: the record, its visit (a visit's own, or a part's) and
 * its patient, as the person sees them (each null when not on this device). */
export async function recordPlace(db, entity, id) {
  const record = await getRecord(db, id);
  let visit = null;
  if (entity === 'visit') visit = record;
  else if (PARENT[entity] === 'visit' && record?.visit) visit = await getRecord(db, record.visit);
  let patient = null;
  if (entity === 'patient') patient = record;
  else if (visit?.patient) patient = await getRecord(db, visit.patient);
  return { record, visit, patient };
}

/** The record as the person sees it, with the values decided for its conflicts on this device and not
 * yet sent (unless a later change of that field on this device shows instead). */
export async function decidedRecord(db, id, conflicts) {
  const record = await getRecord(db, id);
  const chosen = conflicts.filter((c) => c.record_id === id && c.resolving);
  if (!record || !chosen.length) return record;
  const later = await db.outbox.where('record_id').equals(id).toArray();
  for (const c of chosen) {
    if (!later.some((m) => m.seq > c.resolving.seq && m.fields && c.field in m.fields))
      record[c.field] = c.resolving.value;
  }
  return record;
}

/** A name as duplicates are compared: case, spaces and accents aside ("Siti  Aminah" is "siti aminah"). */
function sameNameKey(name) {
  return String(name || '')
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .replace(/\s+/g, '')
    .toLowerCase();
}

/** Patients on this device (not voided, `exceptId` aside) who may be the one `fields` describe: the
 * same NIK, or the same name and birth date. Each comes with `sameNik` (true: the NIK matched). */
export async function findDuplicatePatients(db, fields, exceptId = null) {
  const nik = fields.nik || '';
  const name = sameNameKey(fields.full_name);
  const found = [];
  await db.records
    .where('entity')
    .equals('patient')
    .each((row) => {
      if (row.id === exceptId) return;
      const patient = view(row);
      if (patient.voided_at) return;
      const sameNik = Boolean(nik) && patient.nik === nik;
      const sameName =
        Boolean(name) && sameNameKey(patient.full_name) === name && patient.birth_date === fields.birth_date;
      if (sameNik || sameName) found.push({ ...patient, sameNik });
    });
  return found.sort((a, b) => String(a.full_name).localeCompare(String(b.full_name)));
}

/** The day's queue as this device holds it: each checked-in visit of `day` with its patient. */
export async function queueOfDay(db, day) {
  const visits = (await db.records.where('queueDay').equals(day).toArray()).map(view);
  const patients = await db.records.bulkGet([...new Set(visits.map((visit) => visit.patient))]);
  const byId = new Map(patients.filter(Boolean).map((row) => [row.id, view(row)]));
  return visits.map((visit) => ({ visit, patient: byId.get(visit.patient) || null }));
}
