// Choosing a diagnosis: ICD-10 search on the device, the code picked, primary or secondary.
import { searchIcd10 } from '../icd10.js';
import { t } from '../i18n.js';
import { clear, h } from '../ui.js';

export function diagnosisForm(onSave, onCancel, amend) {
  const results = h('ul', { class: 'icd-results', id: 'icd-results' });
  const chosen = { code: '', title: '' };
  const picked = h('div', { class: 'picked', id: 'icd-picked' });
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
  const kind = h(
    'select',
    { id: 'f-kind' },
    ['primary', 'secondary'].map((k) => h('option', { value: k }, t(k))),
  );
  const reason = amend ? h('input', { id: 'f-reason', type: 'text', maxlength: 300 }) : null;
  const errors = h('div', { class: 'form-errors', role: 'alert' });
  const element = h(
    'form',
    { class: 'record-form', dataset: { form: 'diagnosis' } },
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
    try {
      await onSave({ code: chosen.code, kind: kind.value }, reason ? reason.value.trim() : '', chosen.title);
    } catch (error) {
      clear(errors, error.message);
    }
  });
  return element;
}
