// A finished visit's line "SATUSEHAT: …" on its screen: not sent yet, queued, sent (when) or failed
// (why), as the server knows it (GET /satusehat/api/visits/?ids=). Offline it says the state is shown
// when online. The last answer per visit is kept for the page's life, so a redraw after a sync shows
// it at once while the new one is asked.
import { t } from '../i18n.js';
import { fmtTime, h, clear } from '../ui.js';

const known = new Map(); // visit id -> the server's last answer for it

function lineText(state) {
  if (!state) return t('ss_checking');
  if (state.state === 'queued') return t('ss_queued');
  if (state.state === 'sent') return t('ss_sent', { t: fmtTime(state.sent_at) });
  if (state.state === 'failed') return t('ss_failed', { reason: state.reason || t('ss_no_reason') });
  return t('ss_not_sent');
}

function draw(line, state, offline = false) {
  line.dataset.state = offline ? 'offline' : state?.state || 'checking';
  clear(line, h('strong', {}, 'SATUSEHAT: '), offline ? t('ss_offline') : lineText(state));
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
