// A finished visit's line "SATUSEHAT: …" on its screen: not sent yet, queued, waiting for the clinic's
// connection (amber: not a failure; when it is tried next, if known), sent (when), partly sent or failed
// (why, red), as the server knows it (GET /satusehat/api/visits/?ids=). Offline it says the state is
// shown when online. The last answer per visit is kept for the page's life, so a redraw after a sync
// shows it at once while the new one is asked.
import { t } from '../i18n.js';
import { fmtTime, h, clear } from '../ui.js';

const known = new Map(); // visit id -> the server's last answer for it

/** What the line shows: 'waiting' is a queued visit waiting for the clinic's connection. */
function shownState(state) {
  if (!state) return 'checking';
  if (state.state === 'queued' && state.waiting) return 'waiting';
  return state.state;
}

function nextTry(state) {
  return state.next_attempt_at ? ` ${t('ss_next_try', { t: fmtTime(state.next_attempt_at) })}` : '';
}

/** The line's words: a short state ("Gagal:") in the state's colour, then why, in plain text. */
function lineParts(state) {
  const shown = shownState(state);
  if (shown === 'checking') return [t('ss_checking'), ''];
  if (shown === 'waiting') return [t('ss_waiting_head'), (state.reason || t('ss_waiting_plain')) + nextTry(state)];
  if (shown === 'queued') return [t('ss_queued'), ''];
  if (shown === 'sent') return [t('ss_sent', { t: fmtTime(state.sent_at) }), ''];
  if (shown === 'failed') {
    // Sent but for the drugs without a KFA code: the reason says so itself ("Sent, except …").
    if (state.reason_code === 'no_kfa') return ['', state.reason || t('ss_partly')];
    return [t('ss_failed_head'), state.reason || t('ss_no_reason')];
  }
  return [t('ss_not_sent'), ''];
}

function draw(line, state, offline = false) {
  line.dataset.state = offline ? 'offline' : shownState(state);
  line.dataset.reason = (!offline && state?.reason_code) || '';
  if (offline) {
    clear(line, h('strong', {}, 'SATUSEHAT: '), t('ss_offline'));
    return;
  }
  const [head, why] = lineParts(state);
  clear(
    line,
    h('strong', {}, 'SATUSEHAT: '),
    head ? h('span', { class: 'ss-state' }, head) : '',
    head && why ? ' ' : '',
    why ? h('span', { class: 'ss-why' }, why) : '',
  );
}

async function ask(id) {
  const response = await fetch(`/satusehat/api/visits/?ids=${encodeURIComponent(id)}`, {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  });
  if (!response.ok) throw new Error(`satusehat: ${response.status}`);
  const body = await response.json();
  return body.visits?.find((visit) => visit.id === id) || null;
}

/** The line for a visit's screen (null unless the visit is finished); it fills itself in. */
export function satusehatLine(visit) {
  if (!visit || visit.status !== 'finished') return null;
  const line = h('p', { class: 'satusehat-line', id: 'satusehat-line', 'aria-live': 'polite' });
  const offline = () => draw(line, null, true);
  if (!navigator.onLine) {
    offline();
    return line;
  }
  draw(line, known.get(visit.id));
  ask(visit.id)
    .then((state) => {
      if (!state) return;
      known.set(visit.id, state);
      draw(line, state);
    })
    .catch(() => (known.has(visit.id) ? draw(line, known.get(visit.id)) : offline()));
  return line;
}
