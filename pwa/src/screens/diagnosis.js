// Choosing a diagnosis: ICD-10 search on the device, the code picked, primary or secondary. A
// diagnosis is corrected in the same form: another code or kind, only what changed is sent.
import { searchIcd10 } from '../icd10.js';
import { t } from '../i18n.js';
import { clear, h } from '../ui.js';

/**
 * The form of a new diagnosis, or of `current` ({code, title, kind}) to correct. `onSave(fields,
 * reason, title)` gets the fields that differ from `current` (code and kind when new) and the code's
 * title when the code is set; `amend` asks for the reason a finished visit's change needs.
 */
export function diagnosisForm({ onSave, onCancel, amend = false, current = null, name = 'diagnosis' }) {
  const results = h('ul', { class: 'icd-results', id: 'icd-results' });
  const chosen = { code: current?.code || '', title: current?.title || '' };
  const picked = h(
    'div',
    { class: 'picked', id: 'icd-picked' },
    chosen.code ? `${chosen.code} ${chosen.title}`.trim() : '',
  );
  const search = h('input', { type: 'search', id: 'icd-search', placeholder: t('icd_search'), autocomplete: 'off' });
  search.addEventListener('input', async () => {
    const entries = await searchIcd10(search.value);
    clear(
      results,
      entries.map((entry) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              dataset: { code: entry.code },
              onclick: () => {
                Object.assign(chosen, entry);
                clear(picked, `${entry.code} ${entry.title}`);
                clear(results);
              },
            },
            `${entry.code} ${entry.title}`,
          ),
        ),
      ),
    );
  });
  const currentKind = current?.kind || 'primary';
  const kind = h(
    'select',
    { id: 'f-kind' },
    ['primary', 'secondary'].map((k) => h('option', { value: k, selected: k === currentKind }, t(k))),
  );
  const reason = amend ? h('input', { id: 'f-reason', type: 'text', maxlength: 300 }) : null;
  const errors = h('div', { class: 'form-errors', role: 'alert' });
  const element = h(
    'form',
    { class: 'record-form', dataset: { form: name } },
    h('label', { class: 'wide' }, t('icd_search'), search),
    results,
    picked,
    h('label', {}, t('kind'), kind),
    reason && h('label', { class: 'wide' }, t('amend_reason'), reason),
    errors,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, t('save')),
      h('button', { type: 'button', onclick: onCancel }, t('cancel')),
    ),
  );
  element.addEventListener('input', () => {
    element.dataset.dirty = '1';
  });
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!chosen.code) return clear(errors, `${t('icd_search')}: ${t('required')}`);
    if (reason && !reason.value.trim()) return clear(errors, t('reason_required'));
    const fields = {};
    if (!current || chosen.code !== current.code) fields.code = chosen.code;
    if (!current || kind.value !== currentKind) fields.kind = kind.value;
    try {
      await onSave(fields, reason ? reason.value.trim() : '', fields.code ? chosen.title : undefined);
    } catch (error) {
      clear(errors, error.message);
    }
  });
  return element;
}
