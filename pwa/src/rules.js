// The checks a value must pass before the app saves it: the server's own rules (records/rules.py exports
// them from the models at build time; the build bundles them as RULES), so the app refuses what the
// server would refuse, beside the field, instead of after a sync. Pure functions: nothing here touches
// the page or imports any, so node runs them too (tests/records/test_nik_cases.py), and the caller
// passes the `t` that words each message in the person's language.

import { today, two } from './days.js';

// Replaced by the build with the exported rules (node sets globalThis.RULES before importing this).
const BUNDLED = RULES;

/** The rules of one field of a kind of record (type, required, limits), or null if it has none. */
export function fieldRules(entity, name, rules = BUNDLED) {
  return rules?.entities?.[entity]?.fields?.[name] ?? null;
}

const isEmpty = (value) => value === null || value === undefined || value === '';

/** Digits 7 to 12 of a 16-digit NIK: the day, month and year of the century of birth, 40 added to a
 * woman's day. */
function nikBirth(nik, nikRules) {
  const [start] = nikRules.birth_digits;
  const digits = (offset) => Number(nik.slice(start + offset, start + offset + 2));
  const rawDay = digits(0);
  const female = rawDay > nikRules.female_day_offset;
  return { day: female ? rawDay - nikRules.female_day_offset : rawDay, month: digits(2), year: digits(4), female };
}

/** What is wrong with a NIK's form (as records.validators.validate_nik), or null. */
function nikFormProblem(nik, rules = BUNDLED) {
  if (isEmpty(nik)) return null;
  const nikRules = rules.nik;
  if (typeof nik !== 'string' || !new RegExp(nikRules.pattern).test(nik)) return { code: 'nik_format' };
  const [low, high] = nikRules.provinces;
  const province = Number(nik.slice(0, 2));
  const { day, month } = nikBirth(nik, nikRules);
  if (province < low || province > high || day < 1 || day > 31 || month < 1 || month > 12)
    return { code: 'nik_invalid' };
  return null;
}

/** A "YYYY-MM-DD" date as its parts, or null if it is no such date. */
function dateParts(value) {
  const match = typeof value === 'string' && /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? { year, month, day } : null;
}

/** Whether a NIK's birth digits are the person's birth date, 40 added to the day exactly when the
 * person is a woman (`female` null: sex not known, only the date is compared), as
 * records.validators.validate_nik_matches_person. A NIK of the wrong form, or no birth date: null (the
 * fields' own checks say what is wrong with them). */
function nikPersonProblem(nik, birthDate, female, rules = BUNDLED) {
  const born = dateParts(birthDate);
  if (isEmpty(nik) || !born || nikFormProblem(nik, rules)) return null;
  const nikRules = rules.nik;
  const held = nikBirth(nik, nikRules);
  if (held.day !== born.day || held.month !== born.month || held.year !== born.year % 100) {
    const day = born.day + (female ? nikRules.female_day_offset : 0);
    return { code: 'nik_birth_date', params: { expected: `${two(day)}${two(born.month)}${two(born.year % 100)}` } };
  }
  if (female !== null && female !== undefined && held.female !== female)
    return { code: 'nik_sex', key: held.female ? 'rule_nik_sex_woman' : 'rule_nik_sex_man' };
  return null;
}

/** The problems of one value against its field's rules (none for an empty optional value). */
function valueProblems(rule, value, { creating, now }) {
  if (isEmpty(value)) return rule.required && !(rule.server_assigns && creating) ? [{ code: 'required' }] : [];
  if (rule.type === 'text') {
    const count = [...String(value)].length; // in characters, as the server counts them (not UTF-16 units)
    return rule.max_length && count > rule.max_length
      ? [{ code: 'too_long', params: { max: rule.max_length, count } }]
      : [];
  }
  if (rule.type === 'choice') return rule.choices.includes(value) ? [] : [{ code: 'choice' }];
  if (rule.type === 'integer' || rule.type === 'decimal') return numberProblems(rule, value);
  if (rule.type === 'date') return dateProblems(rule, value, now);
  if (rule.type === 'datetime') return dateTimeProblems(rule, value, now);
  return [];
}

function decimalPlaces(number) {
  const [, fraction = '', exponent = '0'] = /^-?\d*(?:\.(\d+))?(?:e([-+]\d+))?$/.exec(String(number)) || [];
  return Math.max(0, fraction.length - Number(exponent));
}

function numberProblems(rule, value) {
  const number = Number(value);
  if (typeof value === 'boolean' || !Number.isFinite(number)) return [{ code: 'number' }];
  if (rule.type === 'integer' && !Number.isInteger(number)) return [{ code: 'whole_number' }];
  if (rule.type === 'decimal' && decimalPlaces(number) > rule.decimal_places)
    return [{ code: 'decimal_places', params: { n: rule.decimal_places } }];
  const low = rule.min ?? -Infinity;
  const high = rule.max ?? Infinity;
  if (number < low || number > high) return [{ code: 'out_of_range', params: { low, high, rule } }];
  return [];
}

function dateProblems(rule, value, now) {
  if (!dateParts(value)) return [{ code: 'date' }];
  if (rule.min && value < rule.min) return [{ code: 'date_min', params: { min: rule.min } }];
  if (rule.not_future && value > today(now)) return [{ code: 'future' }];
  return [];
}

function dateTimeProblems(rule, value, now) {
  const time = new Date(value).getTime();
  if (Number.isNaN(time)) return [{ code: 'date' }];
  if (rule.max_days_ahead !== undefined && time > now.getTime() + rule.max_days_ahead * 86_400_000)
    return [{ code: 'days_ahead', params: { n: rule.max_days_ahead } }];
  return [];
}

/** What a check across fields finds in the values the record will have, keyed on the field it is
 * shown beside, or null. */
function crossProblem(check, values, rules) {
  if (check.rule === 'nik_matches_person') {
    const sex = values.sex;
    const female = sex === check.female ? true : sex === check.male ? false : null;
    return nikPersonProblem(values.nik, values.birth_date, female, rules);
  }
  if (check.rule === 'lower_than') {
    const [value, than] = [values[check.field], values[check.than]];
    if (isEmpty(value) || isEmpty(than) || Number(value) < Number(than)) return null;
    return { code: 'lower_than', key: `rule_lower_than_${check.field}` };
  }
  return null;
}

/**
 * The problems of a change, as codes: `{field: [{code, key?, params?}]}`. `fields`: the values the
 * change sets (each checked, an empty one too); `current`: the record as it is, or null for a new one.
 * Checks across fields run when the change sets any field they relate, on the values the record will
 * have (current + fields), as the server checks them.
 */
export function problems(entity, fields, current = null, { rules = BUNDLED, now = new Date() } = {}) {
  const kind = rules?.entities?.[entity];
  if (!kind) return {};
  const found = {};
  const add = (name, problem) => (found[name] ||= []).push(problem);
  for (const [name, value] of Object.entries(fields)) {
    const rule = kind.fields[name];
    if (!rule) continue;
    for (const problem of valueProblems(rule, value, { creating: current === null, now })) add(name, problem);
    if (rule.nik && !isEmpty(value)) {
      const problem = nikFormProblem(value, rules);
      if (problem) add(name, problem);
    }
  }
  const values = { ...(current || {}), ...fields };
  for (const check of kind.checks) {
    if (!check.fields.some((name) => name in fields) || found[check.field]) continue;
    const problem = crossProblem(check, values, rules);
    if (problem) add(check.field, problem);
  }
  return found;
}

function formatNumber(value, places, locale) {
  return new Intl.NumberFormat(locale, { minimumFractionDigits: places, maximumFractionDigits: places }).format(value);
}

function formatDate(value, locale) {
  const { year, month, day } = dateParts(value);
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(
    new Date(Date.UTC(year, month - 1, day)),
  );
}

/** One problem in words: `t(key, params)` from i18n.js, numbers and dates in the person's `locale`. */
export function describe(problem, { t = (key) => key, language = 'id' } = {}) {
  const locale = language === 'en' ? 'en-GB' : 'id-ID';
  const params = { ...problem.params };
  if (problem.code === 'out_of_range') {
    const places = params.rule.decimal_places || 0;
    params.low = formatNumber(params.low, places, locale);
    params.high = formatNumber(params.high, places, locale);
    const unit = params.rule.unit?.[language];
    params.unit = unit ? ` ${unit}` : '';
    delete params.rule;
  }
  if (problem.code === 'date_min') params.min = formatDate(params.min, locale);
  const key = problem.key || (problem.code === 'required' ? 'required' : `rule_${problem.code}`);
  return t(key, params);
}

/** The messages of a change, by field, in the person's language: `{field: [message, ...]}`.
 * `options`: `t` (i18n.js's), `language`, and for tests `rules` and `now`. */
export function checkFields(entity, fields, current = null, options = {}) {
  const messages = {};
  for (const [name, found] of Object.entries(problems(entity, fields, current, options)))
    messages[name] = found.map((problem) => describe(problem, options));
  return messages;
}
