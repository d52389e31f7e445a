// Small DOM helpers: elements built with text nodes only (no innerHTML, so a patient's name is never
// markup), and a form builder that reports only the fields a person changed.
import { lang, t } from './i18n.js';
import { today } from './days.js';
import { checkFields, fieldRules } from './rules.js';

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

/** The locale of the person's language: Indonesian dates and decimals (7 Des 2026, 38,2), British
 * English (7 Dec 2026, 38.2), never the ambiguous US 12/07/2026. */
function locale() {
  return lang() === 'en' ? 'en-GB' : 'id-ID';
}

/** A moment as people read it: "30 Nov 2026 14.05" / "30 Nov 2026, 14:05". */
export function fmtTime(value) {
  if (!value) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(locale(), { dateStyle: 'medium', timeStyle: 'short' });
}

/** The time of day only: "14.05" (Indonesian) or "14:05". */
export function fmtClock(value) {
  if (!value) return '';
  return new Date(value).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
}

/** A day in words: "30 November 2026". */
export function fmtLongDate(value = new Date()) {
  return new Date(value).toLocaleDateString(locale(), { dateStyle: 'long' });
}

/** A calendar date (a birth date: YYYY-MM-DD, no time zone): "12 Apr 1990". */
export function fmtDate(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || '');
  if (!match) return value || '';
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toLocaleDateString(locale(), { dateStyle: 'medium', timeZone: 'UTC' });
}

/** A measured value with the person's decimal separator: 38,2 in Indonesian, 38.2 in English. */
export function fmtNumber(value) {
  if (value === null || value === undefined || value === '') return '';
  const number = Number(value);
  return Number.isFinite(number) ? number.toLocaleString(locale(), { maximumFractionDigits: 1 }) : String(value);
}

function localDateTime(value) {
  const date = value ? new Date(value) : new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** What an input takes from its field's rules (rules.js): the browser's own limits and keyboard. */
function ruleAttributes(field) {
  const rule = (field.entity && fieldRules(field.entity, field.name)) || {};
  const attributes = { required: Boolean(rule.required && !rule.server_assigns), maxlength: rule.max_length };
  if (rule.type === 'integer' || rule.type === 'decimal') {
    const places = rule.type === 'decimal' ? rule.decimal_places : 0;
    Object.assign(attributes, {
      min: rule.min,
      max: rule.max,
      step: places ? (10 ** -places).toFixed(places) : '1',
      inputmode: places ? 'decimal' : 'numeric',
      maxlength: undefined,
    });
  }
  if (rule.type === 'date') Object.assign(attributes, { min: rule.min, max: rule.not_future ? today() : undefined });
  if (rule.nik) attributes.pattern = '[0-9]{16}';
  return { attributes, choices: rule.choices || [] };
}

function inputFor(field, value) {
  const { attributes, choices } = ruleAttributes(field);
  const common = { name: field.name, id: `f-${field.name}`, required: attributes.required, disabled: field.disabled };
  if (field.type === 'textarea')
    return h('textarea', { ...common, rows: field.rows || 3, maxlength: attributes.maxlength }, value ?? '');
  if (field.type === 'select') {
    // A field's own options ({value, label}: the clinic's doctors, say) or its rule's choices; `blank`
    // is the label of choosing none.
    const options = field.options || choices.map((option) => ({ value: option, label: t(option) }));
    return h(
      'select',
      common,
      field.blank !== undefined
        ? h('option', { value: '', selected: value == null || value === '' }, field.blank)
        : null,
      options.map((option) =>
        h('option', { value: option.value, selected: String(option.value) === String(value ?? '') }, option.label),
      ),
    );
  }
  if (field.type === 'datetime') return h('input', { ...common, type: 'datetime-local', value: localDateTime(value) });
  if (field.type === 'date')
    return h('input', { ...common, type: 'date', min: attributes.min, max: attributes.max, value: value ?? '' });
  if (field.type === 'number')
    // A text field with a number keyboard, not type=number: Chromium's number field turns "38,2", as
    // Indonesians write it, into 382. Both separators are read (readValue); the range is checked by rules.js.
    return h('input', {
      ...common,
      type: 'text',
      inputmode: attributes.inputmode || 'decimal',
      autocomplete: 'off',
      value: value === null || value === undefined || value === '' ? '' : localDecimal(value),
    });
  return h('input', {
    ...common,
    type: 'text',
    value: value ?? '',
    maxlength: attributes.maxlength,
    pattern: attributes.pattern,
    inputmode: field.inputmode,
  });
}

/** A stored number as the person writes it: 38,2 in Indonesian, 38.2 in English (no grouping). */
function localDecimal(value) {
  const text = String(value);
  return lang() === 'en' ? text : text.replace('.', ',');
}

/** What a person typed as a number, with a comma or a dot before the decimals ("38,2", "38.2",
 * " 60.2 "): the number, null when empty, NaN when it is no number (rules.js says so). */
export function parseTypedNumber(raw, { whole = false } = {}) {
  const text = raw.trim().replace(',', '.');
  if (text === '') return null;
  // "1.000" is a thousand in Indonesian: in a whole-number field a separator is never read as decimals.
  if (whole && /^\d{1,3}(\.\d{3})+$/.test(text)) return NaN;
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
}

function readValue(field, element) {
  const raw = element.value;
  if (field.type === 'number') return parseTypedNumber(raw, { whole: element.inputMode === 'numeric' });
  if (field.type === 'datetime') return raw ? new Date(raw).toISOString() : null;
  if (field.type === 'date') return raw || null;
  if (field.type === 'select' && field.numeric) return raw ? Number(raw) : null;
  return raw;
}

function same(field, a, b) {
  if (field.type === 'number') return (a === null || a === undefined || a === '' ? null : Number(a)) === (b ?? null);
  if (field.type === 'datetime') return a && b && new Date(a).getTime() === new Date(b).getTime();
  return (a ?? '') === (b ?? '');
}

/** Each message beside its field (described by it, marked invalid); the first such field gets focus and
 * is scrolled into view. Messages of fields the form does not show go in the form's `errors` line. */
function markProblems(element, fields, messages, errors) {
  for (const note of element.querySelectorAll('[data-field-error]')) note.remove();
  for (const input of element.querySelectorAll('[aria-invalid]')) {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
  }
  const shown = fields.map((field) => field.name).filter((name) => messages[name]);
  const elsewhere = Object.keys(messages).filter((name) => !shown.includes(name));
  for (const name of shown) {
    const input = element.elements.namedItem(name);
    const note = h(
      'small',
      { class: 'errors', id: `e-${name}`, dataset: { fieldError: name } },
      messages[name].join(' '),
    );
    input.closest('.field').append(note);
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', note.id);
  }
  clear(
    errors,
    Object.keys(messages).length ? t('check_marked') : '',
    elsewhere.map((name) => ` ${t(name)}: ${messages[name].join(' ')}`),
  );
  if (shown.length) {
    const first = element.elements.namedItem(shown[0]);
    first.focus({ preventScroll: true });
    first.scrollIntoView({ block: 'center' });
  }
}

const isBlank = (value) => value === null || value === '';

/**
 * A form over `fields`; `onSave(changed, reason)` gets only the fields that differ from `current`
 * (all of them when creating). Before it, every value is checked with the server's rules (rules.js):
 * a refusal is shown beside its field and nothing is saved. A thrown error is shown in the form and
 * the entry stays on screen; so does an entry whose `onSave` returns false (it saved nothing yet).
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
  const entity = fields.find((field) => field.entity)?.entity;
  const element = h(
    'form',
    {
      class: 'record-form',
      dataset: standing ? { form: name || '', standing: '1' } : { form: name || '' },
      novalidate: true,
    },
    fields.map((field) =>
      h(
        'div',
        { class: field.type === 'textarea' ? 'field wide' : 'field' },
        h('label', { for: `f-${field.name}` }, t(field.label || field.name), inputFor(field, current[field.name])),
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
    const entered = {};
    const changed = {};
    for (const field of fields) {
      if (field.disabled) continue;
      const value = readValue(field, element.elements.namedItem(field.name));
      entered[field.name] = value;
      if (creating ? !isBlank(value) : !same(field, current[field.name], value)) changed[field.name] = value;
    }
    // A new record: every value the form holds is checked (a required one left empty too); a change:
    // the values it changes, as the server checks them.
    const messages = entity
      ? checkFields(entity, creating ? entered : changed, creating ? null : current, { t, language: lang() })
      : {};
    markProblems(element, fields, messages, errors);
    if (Object.keys(messages).length) return;
    if (reason && !reason.value.trim()) {
      clear(errors, t('reason_required'));
      return;
    }
    try {
      const saved = await onSave(changed, reason ? reason.value.trim() : '');
      if (saved !== false) delete element.dataset.dirty;
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
