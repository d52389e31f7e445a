// The device's store: one IndexedDB database per clinic and user (Dexie). Each record keeps the
// server's copy apart from the device's pending changes; the outbox holds every change in order, each
// written in the same transaction as the record it changes, and the charts opened (for the audit trail).
import Dexie from 'dexie';

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
          indexPatient(row);
        }),
    );
  // Version 3: the outbox by kind, so chart openings (not changes a person waits on) are counted apart.
  db.version(3).stores({ outbox: 'seq, record_id, entity' });
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

/** Sets a patient row's keys from what the person sees: `search`, and `sortName` (the name-ordered
 * index holds patients that are not voided, so the list is read in order and counted from it).
 * Call it whenever a patient row's server copy or pending values change. Other rows pass unchanged. */
export function indexPatient(row) {
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
      rows.set(change.id, indexPatient(row));
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

export function resolveConflict(db, conflict, value) {
  return enqueue(
    db,
    [db.conflicts],
    { entity: 'conflict', record_id: conflict.id, op: 'resolve', base_version: conflict.version, fields: { value } },
    () => db.conflicts.put({ ...conflict, resolving: true }),
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
export async function outboxCounts(db) {
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
    else await db.records.put(indexPatient(row));
  });
}

export async function recordStates(db) {
  const pending = new Set((await db.outbox.toArray()).filter(changesRecord).map((m) => m.record_id));
  const failed = new Map((await db.failed.toArray()).map((m) => [m.record_id, m]));
  const conflicts = new Set((await db.conflicts.toArray()).filter((c) => !c.resolved_at).map((c) => c.record_id));
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

/** The refused changes, oldest first. */
export function refusedChanges(db) {
  return db.failed.orderBy('seq').toArray();
}

/** The refused change of each record (the latest when a record has more than one). */
export async function refusedByRecord(db) {
  return new Map((await refusedChanges(db)).map((m) => [m.record_id, m]));
}

/** Conflicts not yet resolved, of one record or (without an id) of all. */
export async function openConflicts(db, recordId = null) {
  const rows = recordId
    ? await db.conflicts.where('record_id').equals(recordId).toArray()
    : await db.conflicts.toArray();
  return rows.filter((c) => !c.resolved_at);
}

/** What the header counts: changes and chart openings waiting, refused changes, conflicts the person
 * has not yet resolved, and when the device last synced. One read transaction, its requests in flight
 * together (one transaction each was most of a save's time). */
export function syncStats(db) {
  return db.transaction('r', db.outbox, db.failed, db.conflicts, db.meta, async () => {
    const [{ pending, openings }, failed, conflicts, lastSyncAt] = await Promise.all([
      outboxCounts(db),
      db.failed.count(),
      db.conflicts.toArray(),
      getMeta(db, 'lastSyncAt'),
    ]);
    return {
      pending,
      openings,
      failed,
      conflicts: conflicts.filter((c) => !c.resolved_at && !c.resolving).length,
      lastSyncAt,
    };
  });
}
