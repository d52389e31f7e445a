// The fields each form shows, in order, with how they are entered (input type, rows, keyboard). What a
// value must be (required, lengths, ranges, choices) is the server's rules (rules.js), never copied here.
import { app, CLINICAL_READERS, CLINICIANS } from './app.js';
import { t } from './i18n.js';

/** Each field with the kind of record it belongs to, whose rules the form checks it by. */
const of = (entity, fields) => fields.map((field) => ({ ...field, entity }));

export const FIELDS = {
  patient: of('patient', [
    { name: 'full_name' },
    { name: 'nik', inputmode: 'numeric' },
    { name: 'birth_date', type: 'date' },
    { name: 'sex', type: 'select' },
    { name: 'phone', inputmode: 'tel' },
    { name: 'address', type: 'textarea', rows: 2 },
    { name: 'allergies', type: 'textarea', rows: 2 },
  ]),
  visitAdmin: of('visit', [
    { name: 'started_at', type: 'datetime' },
    { name: 'status', type: 'select' },
    { name: 'chief_complaint', type: 'textarea', rows: 2 },
  ]),
  soap: of(
    'visit',
    ['subjective', 'objective', 'assessment', 'plan'].map((name) => ({ name, type: 'textarea', rows: 3 })),
  ),
  vitals: of(
    'vitals',
    ['temperature_c', 'pulse', 'respiratory_rate', 'systolic', 'diastolic', 'spo2', 'height_cm', 'weight_kg'].map(
      (name) => ({ name, type: 'number' }),
    ),
  ),
  prescription: of('prescription', [
    { name: 'drug' },
    { name: 'dose' },
    { name: 'frequency' },
    { name: 'route' },
    { name: 'duration' },
    { name: 'quantity', type: 'number' },
    { name: 'instructions', type: 'textarea', rows: 2 },
  ]),
};

/** Whether the signed-in person's role writes this kind of record (the server decides; this only
 * hides what would be refused). */
export function canWrite(entity, fields = []) {
  const role = app.user.role;
  if (entity === 'patient') return true;
  if (entity === 'visit')
    return fields.some((f) => FIELDS.soap.some((s) => s.name === f)) ? CLINICIANS.includes(role) : true;
  if (entity === 'vitals') return CLINICAL_READERS.includes(role);
  return CLINICIANS.includes(role);
}

/** A person of the clinic's staff as cached on the device (by id), or null. */
export function staffMember(user, id) {
  if (id === null || id === undefined || id === '') return null;
  return (user.staff || []).find((person) => String(person.id) === String(id)) || null;
}

/** Who a visit is for: one of the clinic's doctors (or owners), from the staff list the device keeps;
 * the visit's own practitioner stays a choice when no longer listed (deactivated, or newer than the
 * device's list), so saving the visit's form never drops them. */
export function practitionerField(visit = {}) {
  const doctors = (app.user.staff || []).filter((person) => CLINICIANS.includes(person.role));
  const current = visit.practitioner;
  const listed = current == null || doctors.some((person) => person.id === current);
  const kept = listed ? [] : [{ id: current, full_name: visit.practitioner_name || `#${current}` }];
  return {
    entity: 'visit',
    name: 'practitioner',
    type: 'select',
    numeric: true,
    blank: t('practitioner_none'),
    options: [...doctors, ...kept].map((person) => ({ value: person.id, label: person.full_name })),
  };
}
