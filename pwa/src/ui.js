// Small DOM helpers: elements built with text nodes only (no innerHTML, so a patient's name is never
// markup), and a form builder that reports only the fields a person changed.
import { lang, t } from './i18n.js';

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(key, '');
    else element.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function clear(element, ...children) {
  element.replaceChildren(...children.flat(Infinity).filter(Boolean));
  return element;
}

export function fmtTime(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString(lang() === 'en' ? 'en-GB' : 'id-ID');
}

function localDateTime(value) {
  const date = value ? new Date(value) : new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function inputFor(field, value) {
  const common = { name: field.name, id: `f-${field.name}`, required: field.required, disabled: field.disabled };
  if (field.type === 'textarea')
    return h('textarea', { ...common, rows: field.rows || 3, maxlength: field.max }, value ?? '');
  if (field.type === 'select') {
    return h(
      'select',
      common,
      field.options.map((option) => h('option', { value: option, selected: option === value }, t(option))),
    );
  }
  if (field.type === 'datetime') return h('input', { ...common, type: 'datetime-local', value: localDateTime(value) });
  if (field.type === 'date') return h('input', { ...common, type: 'date', min: field.min, value: value ?? '' });
  if (field.type === 'number')
    return h('input', { ...common, type: 'number', step: field.step || '1', inputmode: 'decimal', value: value ?? '' });
  return h('input', {
    ...common,
    type: 'text',
    value: value ?? '',
    maxlength: field.max,
    pattern: field.pattern,
    inputmode: field.inputmode,
  });
}

function readValue(field, element) {
  const raw = element.value;
  if (field.type === 'number') return raw === '' ? null : Number(raw);
  if (field.type === 'datetime') return raw ? new Date(raw).toISOString() : null;
  if (field.type === 'date') return raw || null;
  return raw;
}

function same(field, a, b) {
  if (field.type === 'number') return (a === null || a === undefined || a === '' ? null : Number(a)) === (b ?? null);
  if (field.type === 'datetime') return a && b && new Date(a).getTime() === new Date(b).getTime();
  return (a ?? '') === (b ?? '');
}

/**
 * A form over `fields`; `onSave(changed, reason)` gets only the fields that differ from `current`
 * (all of them when creating). A thrown error is shown in the form and the entry stays on screen.
 */
export function form({
  fields,
  current = {},
  creating = false,
  reasonLabel = '',
  submitLabel,
  onSave,
  onCancel,
  name,
  standing = false,
}) {
  const errors = h('div', { class: 'form-errors', role: 'alert' });
  const reason = reasonLabel ? h('input', { name: 'reason', id: 'f-reason', type: 'text', maxlength: 300 }) : null;
  const element = h(
    'form',
    {
      class: 'record-form',
      dataset: standing ? { form: name || '', standing: '1' } : { form: name || '' },
      novalidate: true,
    },
    fields.map((field) =>
      h(
        'label',
        { for: `f-${field.name}`, class: field.type === 'textarea' ? 'wide' : '' },
        t(field.label || field.name),
        inputFor(field, current[field.name]),
      ),
    ),
    reason && h('label', { for: 'f-reason', class: 'wide' }, reasonLabel, reason),
    errors,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, submitLabel || t('save')),
      onCancel && h('button', { type: 'button', onclick: onCancel }, t('cancel')),
    ),
  );
  element.addEventListener('input', () => {
    element.dataset.dirty = '1';
  });
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    const changed = {};
    const missing = [];
    for (const field of fields) {
      if (field.disabled) continue;
      const input = element.elements.namedItem(field.name);
      const value = readValue(field, input);
      if (field.required && (value === null || value === '')) missing.push(t(field.label || field.name));
      if (creating ? value !== null && value !== '' : !same(field, current[field.name], value))
        changed[field.name] = value;
    }
    if (missing.length) {
      clear(errors, `${missing.join(', ')}: ${t('required')}`);
      return;
    }
    if (reason && !reason.value.trim()) {
      clear(errors, t('reason_required'));
      return;
    }
    try {
      await onSave(changed, reason ? reason.value.trim() : '');
      delete element.dataset.dirty;
    } catch (error) {
      clear(errors, error.message || String(error));
    }
  });
  return element;
}

const NON_FIELD = new Set(['non_field_errors', '__all__']); // DRF's and Django's names for errors of no one field

export function showErrors(errors) {
  return h(
    'ul',
    { class: 'errors' },
    Object.entries(errors || {}).map(([field, messages]) =>
      h('li', {}, NON_FIELD.has(field) ? '' : `${t(field)}: `, [].concat(messages).join(' ')),
    ),
  );
}
