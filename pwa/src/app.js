// The page's shared state (who is signed in, the device's store, the sync state) and the notices line.
import { h } from './ui.js';

export const CLINICIANS = ['owner', 'doctor'];
export const CLINICAL_READERS = ['owner', 'doctor', 'nurse'];

export const app = {
  user: null,
  db: null,
  deviceId: '',
  csrf: '',
  meFresh: false,
  syncing: false,
  again: false,
  problem: null,
  progress: null,
  retryDelay: 2000,
  retryTimer: null,
  stats: { pending: 0, openings: 0, failed: 0, conflicts: 0 },
  openChart: null, // the patient whose chart is on screen, its opening logged
  rendered: 0, // screens drawn or dropped so far (tests wait on it)
};
window.emr = app; // for the browser tests and support: the store and the sync state of this page

/** A line above the screen, one per key: a new text replaces the old, an empty one removes it. */
export function notice(key, text, ...actions) {
  const box = document.getElementById('notices');
  box.querySelector(`[data-notice="${key}"]`)?.remove();
  if (text)
    box.append(h('div', { class: `notice notice-${key}`, dataset: { notice: key } }, h('span', {}, text), ...actions));
}
