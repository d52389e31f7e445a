// Which screen the address shows, drawing it (a background redraw never replaces a screen a person is
// using), and the chart openings that navigation makes.
import { app } from './app.js';
import { printRoute, printScreen } from './print.js';
import { patientScreen } from './screens/patient.js';
import { patientsScreen } from './screens/patients.js';
import { queueScreen } from './screens/queue.js';
import { syncScreen } from './screens/sync.js';
import { visitScreen } from './screens/visit.js';
import { chartOpened, getRecord, recordStates } from './store.js';
import { clear } from './ui.js';

export function route() {
  const [, kind, id] = (window.location.hash || '#/').slice(1).split('/');
  return { kind: kind || 'patients', id };
}

/** A person is in the middle of something: a form they opened or typed in, a question the screen
 * asks them (`data-asking`), or a field with focus. A background re-render (after a sync) waits until
 * they are done. */
export function busy() {
  const main = document.getElementById('view');
  return (
    main.querySelector('form[data-dirty], form:not([data-standing]), [data-asking]') ||
    (main.contains(document.activeElement) && document.activeElement.matches('input, textarea, select'))
  );
}

/** The patient whose chart a route shows (a visit's patient for a visit's screen or one of its
 * papers), or null. */
async function chartOf(shown) {
  const { kind, id } = shown.kind === 'print' ? { kind: 'visit', id: printRoute().visitId } : shown;
  if (!id || (kind !== 'patient' && kind !== 'visit')) return null;
  const record = await getRecord(app.db, id);
  if (!record) return null;
  return kind === 'patient' ? record.id : record.patient || null;
}

/** Reading a chart is logged for the clinic's audit trail, on navigation only (a save or a sync that
 * redraws the screen is no new reading). A patient's screen and their visits' screens are one
 * opening; leaving for the list, the Sync page or another patient and coming back is another. */
export function noteChartOpening() {
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

/** Draw the screen again from the store. A background redraw skipped while the person was busy is
 * owed (`app.stale`): it happens at the next chance, not only after a sync that changes something. */
export function rerender(force = false) {
  if (!force && busy()) {
    app.stale = true;
    return;
  }
  app.stale = false;
  render({ background: !force });
}

let renders = 0;
let shown = 0;

/** Draw the screen of the current route; when renders overlap, a screen older than the one shown is
 * never shown. A background redraw is dropped if, while it was reading the store, the person opened a
 * form or started typing: the screen under their finger stays theirs. */
export async function render({ background = false } = {}) {
  if (!app.db) return;
  const mine = ++renders;
  const drawn = window.location.hash;
  const { kind, id } = route();
  const states = await recordStates(app.db);
  let screen;
  if (kind === 'patient' && id) screen = await patientScreen(id, states);
  else if (kind === 'visit' && id) screen = await visitScreen(id, states);
  else if (kind === 'sync') screen = await syncScreen();
  else if (kind === 'print') screen = await printScreen(states);
  else if (kind === 'queue') screen = await queueScreen(states);
  else screen = await patientsScreen(states);
  // A route left while this was drawn has its own render coming from the hashchange.
  if (mine > shown && drawn === window.location.hash && !(background && busy())) {
    shown = mine;
    clear(document.getElementById('view'), screen);
    document.body.toggleAttribute('data-printing', kind === 'print'); // a paper alone, no header
    app.drawnRoute = drawn; // the address whose screen is on view (tests wait on it)
  }
  app.rendered += 1;
}
