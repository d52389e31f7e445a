// The sync client (SYNC-PROTOCOL.md): push the outbox in order, then pull until `has_more` is false.
// Retries resend the same seqs (the server answers "duplicate"); a pull never overwrites a pending edit;
// one sync at a time per database (Web Locks), so two tabs never interleave.
import { PARENT, changesRecord, getMeta, indexRow, mutationValues, rebuildLocal, setMeta } from './store.js';

const BATCH = 500;
// A push's body stays under this many bytes (the server takes 4 MiB; a slow link sends less per try).
const BATCH_BYTES = 256 * 1024;
const PULL_LIMIT = 1000;
const FINAL = new Set(['applied', 'merged', 'conflict', 'rejected', 'duplicate']);

export class SyncError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // network | signed_out | suspended | revoked | refused | server | gap (message: the seq expected) | too_large | bad_request
  }
}

/** Who is signed in at this clinic (the /api/me/ answer), or null if nobody; throws if the server
 * cannot say (no network: fetch's own error; a server error: its status). Shared by the page and the
 * service worker. */
export async function whoIsSignedIn() {
  const response = await fetch('/api/me/', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (response.status === 403) await throwIfSuspended(response);
  if (response.status === 401 || response.status === 403) return null;
  if (!response.ok) throw new Error(`me: ${response.status}`);
  return response.json();
}

/** A clinic suspended on the platform answers every API call 403 `{"code": "clinic_suspended",
 * "clinic_name", "detail"}`: said as such, never as "signed out" (the person can do nothing by signing
 * in again, and nothing on the device is lost). */
async function throwIfSuspended(response) {
  const body = await response
    .clone()
    .json()
    .catch(() => null);
  if (body?.code === 'clinic_suspended') {
    const error = new SyncError('suspended', body.detail || '');
    error.clinicName = body.clinic_name;
    throw error;
  }
}

/** The server's response once its headers are in (a SyncError for any answer but 2xx). */
async function send(url, options, csrf) {
  let response;
  try {
    response = await fetch(url, {
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrf || '' },
      ...options,
    });
  } catch (error) {
    throw new SyncError('network', String(error?.message || error));
  }
  if (response.ok) return response;
  if (response.status === 403) await throwIfSuspended(response);
  let detail = '';
  let code = '';
  try {
    const body = await response.json();
    code = body.code || '';
    detail =
      body.detail ||
      Object.values(body.errors || {})
        .flat()
        .join(' ');
  } catch {
    /* not JSON */
  }
  if (response.status === 401) throw new SyncError('signed_out', detail);
  // The owner revoked this device: never retried (the person is told, and keeps the unsent changes).
  if (response.status === 403 && code === 'device_revoked') throw new SyncError('revoked', detail);
  if (response.status === 403) throw new SyncError('refused', detail);
  if (response.status === 413) throw new SyncError('too_large', detail);
  if (response.status >= 500) throw new SyncError('server', `${response.status}`);
  throw new SyncError('bad_request', detail || `${response.status}`);
}

async function readJson(response) {
  try {
    return await response.json();
  } catch (error) {
    throw new SyncError('network', String(error?.message || error)); // the answer was cut off on the way
  }
}

async function applyPushResults(db, batch, results) {
  const bySeq = new Map(results.map((result) => [result.seq, result]));
  await db.transaction('rw', db.records, db.outbox, db.failed, db.conflicts, async () => {
    const touched = new Map(); // each record a result touches: read once, written once at the end
    for (const mutation of batch) {
      const result = bySeq.get(mutation.seq);
      if (!result || !FINAL.has(result.status)) continue;
      const status = result.status === 'duplicate' ? result.original_status || 'applied' : result.status;
      await db.outbox.delete(mutation.seq);
      if (!changesRecord(mutation)) continue; // a chart opening; one refused is dropped (nobody could act on it)
      if (mutation.entity === 'conflict') {
        if (status === 'rejected') await db.failed.put({ ...mutation, errors: result.errors || {} });
        else await closeDecided(db, mutation, touched);
        continue;
      }
      if (!touched.has(mutation.record_id)) touched.set(mutation.record_id, await db.records.get(mutation.record_id));
      const row = touched.get(mutation.record_id);
      if (status === 'rejected') {
        await db.failed.put({ ...mutation, errors: result.errors || {} });
      } else if (row && (status === 'applied' || status === 'merged') && result.version) {
        row.server = { ...(row.server || {}), ...mutationValues(mutation) };
        // `merged`: the server's copy also holds others' changes this device has not seen, so it keeps
        // the version its change was based on until a pull brings the whole record.
        if (status === 'applied') row.version = Math.max(row.version || 0, result.version);
      }
    }
    const rows = [];
    for (const [id, row] of touched) {
      if (!row) continue;
      row.local = await rebuildLocal(db, id);
      rows.push(indexRow(row));
    }
    await db.records.bulkPut(rows);
  });
}

/** A conflict decision the server applied: the open conflicts of that field from the same device
 * closed (another device's stays open, as on the server), and the value in
 * the record's server copy, so no screen offers the decision again or shows the old value before the
 * pull brings the server's own copies. */
async function closeDecided(db, mutation, touched) {
  const decided = await db.conflicts.get(mutation.record_id);
  if (!decided) return;
  const value = mutation.fields.value;
  const resolvedAt = new Date().toISOString();
  const open = await db.conflicts
    .where('record_id')
    .equals(decided.record_id)
    .filter((c) => c.field === decided.field && c.device_id === decided.device_id && !c.resolved_at)
    .toArray();
  await db.conflicts.bulkPut(open.map((c) => ({ ...c, resolved_at: resolvedAt, resolved_value: value })));
  if (!touched.has(decided.record_id)) touched.set(decided.record_id, await db.records.get(decided.record_id));
  const row = touched.get(decided.record_id);
  if (row) row.server = { ...(row.server || {}), [decided.field]: value };
}

const ENCODER = new TextEncoder();

/** The push body for the longest run from the start of `queued` whose JSON stays within `maxBytes`
 * (at least one mutation; display-only values stay on the device): each mutation is serialised once,
 * for its size and for the body. */
function pushBody(deviceId, queued, maxBytes) {
  const head = `{"device_id":${JSON.stringify(deviceId)},"mutations":[`;
  let size = ENCODER.encode(head).length + 2;
  const parts = [];
  for (const { display: _display, ...mutation } of queued) {
    const json = JSON.stringify(mutation);
    size += ENCODER.encode(json).length + 1;
    if (parts.length && size > maxBytes) break;
    parts.push(json);
  }
  return { count: parts.length, json: `${head}${parts.join(',')}]}` };
}

async function push(db, deviceId, csrf, onProgress, batchSize = BATCH, batchBytes = BATCH_BYTES) {
  for (;;) {
    const queued = await db.outbox.orderBy('seq').limit(batchSize).toArray();
    if (!queued.length) return;
    const { count, json } = pushBody(deviceId, queued, batchBytes);
    const batch = queued.slice(0, count);
    const body = await readJson(await send('/api/sync/push', { method: 'POST', body: json }, csrf));
    const gap = body.results.find((result) => result.status === 'gap');
    await applyPushResults(db, batch, body.results);
    onProgress?.({ phase: 'push' });
    if (gap) throw new SyncError('gap', String(gap.last_seq + 1));
    if (!body.results.some((result) => FINAL.has(result.status))) return;
  }
}

async function resetCopy(db) {
  await db.transaction('rw', db.records, db.conflicts, db.meta, async () => {
    await db.conflicts.clear();
    const rows = await db.records.toArray();
    await db.records.bulkDelete(rows.filter((row) => !row.local).map((row) => row.id));
    await db.records.bulkPut(rows.filter((row) => row.local).map((row) => indexRow({ ...row, server: null })));
    await setMeta(db, 'cursor', 0);
  });
}

async function applyPullPage(db, body, seen) {
  await db.transaction('rw', db.records, db.conflicts, db.meta, async () => {
    const conflicts = [];
    const ids = [];
    const changes = [];
    for (const change of body.changes) {
      if (change.entity === 'conflict') conflicts.push(change.data);
      else {
        ids.push(change.record_id);
        changes.push(change);
      }
    }
    // A device that held nothing when this download began has nothing to keep for records it has not
    // received yet (what it writes meanwhile is not on the server: push runs before pull), so a fresh
    // download reads rows back only for records it received before (someone may have edited them since).
    const mustRead = !seen || ids.some((id) => seen.has(id));
    const existing = mustRead ? await db.records.bulkGet(ids) : [];
    if (seen) for (const id of ids) seen.add(id);
    const rows = changes.map((change, index) => {
      const row = existing[index] || { id: change.record_id, entity: change.entity, local: null };
      row.server = change.data;
      row.version = change.version;
      const parentField = PARENT[change.entity];
      row.parent = parentField ? change.data[parentField] : null;
      return indexRow(row);
    });
    await db.records.bulkPut(rows);
    if (conflicts.length) await db.conflicts.bulkPut(conflicts);
    await setMeta(db, 'cursor', body.cursor);
  });
}

/** A pull page once its headers are in: `ahead`, where the next page starts (from the headers, so it
 * can be asked for while this body still downloads: on a slow link the two overlap instead of the
 * link idling for a round trip per page), and `body`, the page itself. */
async function pullPage(deviceId, csrf, cursor, limit, count) {
  const query = `cursor=${cursor}&limit=${limit}&count=${count ? 1 : 0}&device_id=${encodeURIComponent(deviceId)}`;
  const response = await send(`/api/sync/pull?${query}`, { method: 'GET' }, csrf);
  const header = response.headers.get('X-Sync-Cursor');
  const more = response.headers.get('X-Sync-More') === '1' && /^\d{1,15}$/.test(header || '');
  // Only a cursor past this page's start is followed early; anything else waits for the body's.
  const ahead = more && Number(header) > cursor ? Number(header) : null;
  const body = readJson(response);
  body.catch(() => {}); // its failure is reported when it is awaited
  return { ahead, body };
}

async function pull(db, deviceId, csrf, onProgress, limit = PULL_LIMIT) {
  const cursor = await getMeta(db, 'cursor', 0);
  let seen = cursor === 0 && (await db.records.count()) === 0 ? new Set() : null; // a fresh download
  let received = 0;
  let total = null; // from the first page's count; later pages are not counted (the server would read the rest of the log each time)
  let next = pullPage(deviceId, csrf, cursor, limit, true);
  for (;;) {
    const page = await next;
    next = page.ahead === null ? null : pullPage(deviceId, csrf, page.ahead, limit, false);
    next?.catch(() => {}); // its failure is reported when it is awaited
    const body = await page.body;
    if (body.reset) {
      await resetCopy(db);
      seen = null;
      received = 0;
      total = null;
      next = pullPage(deviceId, csrf, 0, limit, true);
      continue;
    }
    // The next page downloads while this one is written (the server's cursor is already known).
    if (!next && body.has_more) {
      next = pullPage(deviceId, csrf, body.cursor, limit, false);
      next.catch(() => {});
    }
    await applyPullPage(db, body, seen);
    received += body.changes.length;
    if (body.remaining != null) total = received + body.remaining;
    total = Math.max(total ?? received, received); // changes made meanwhile may outgrow the first count
    onProgress?.({ phase: 'pull', received, total: body.has_more ? total : received, hasMore: body.has_more });
    if (!body.has_more) return;
  }
}

/** Runs `work` holding the database's sync lock (Web Locks, shared by the tabs and the service
 * worker): one sync at a time, and no sync while logout deletes the database. */
export function withSyncLock(dbName, work) {
  if (navigator.locks) return navigator.locks.request(`sync:${dbName}`, work);
  return work();
}

/** One sync run, push then pull, by a caller that holds the sync lock. */
export async function syncRun(db, { deviceId, csrf, onProgress, batchSize, batchBytes, pullLimit }) {
  await push(db, deviceId, csrf, onProgress, batchSize, batchBytes);
  await pull(db, deviceId, csrf, onProgress, pullLimit);
  await setMeta(db, 'lastSyncAt', new Date().toISOString());
}

/** One sync run: push, then pull. Serialised per database across tabs and the service worker. */
export function syncOnce(db, options) {
  return withSyncLock(db.name, () => syncRun(db, options));
}
