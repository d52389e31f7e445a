// The fields each form shows, in order, with how they are entered. What a value must be (required,
// lengths, ranges) comes from the server's rules; this says only how a person enters it.
import { app, CLINICAL_READERS, CLINICIANS } from './app.js';

export const FIELDS = {
  patient: [
    { name: 'full_name', required: true, max: 150 },
    { name: 'nik', max: 16, pattern: '\\d{16}', inputmode: 'numeric' },
    { name: 'birth_date', type: 'date', required: true, min: '1900-01-01' },
    { name: 'sex', type: 'select', options: ['F', 'M'], required: true },
    { name: 'phone', max: 32 },
    { name: 'address', type: 'textarea', rows: 2, max: 500 },
    { name: 'allergies', type: 'textarea', rows: 2, max: 1000 },
  ],
  visitAdmin: [
    { name: 'started_at', type: 'datetime', required: true },
    { name: 'status', type: 'select', options: ['arrived', 'in_progress', 'finished'] },
    { name: 'chief_complaint', type: 'textarea', rows: 2, max: 1000 },
  ],
  soap: ['subjective', 'objective', 'assessment', 'plan'].map((name) => ({
    name,
    type: 'textarea',
    rows: 3,
    max: 10000,
  })),
  vitals: [
    { name: 'temperature_c', type: 'number', step: '0.1' },
    { name: 'pulse', type: 'number' },
    { name: 'respiratory_rate', type: 'number' },
    { name: 'systolic', type: 'number' },
    { name: 'diastolic', type: 'number' },
    { name: 'spo2', type: 'number' },
    { name: 'height_cm', type: 'number', step: '0.1' },
    { name: 'weight_kg', type: 'number', step: '0.1' },
  ],
  prescription: [
    { name: 'drug', required: true, max: 200 },
    { name: 'dose', required: true, max: 100 },
    { name: 'frequency', required: true, max: 100 },
    { name: 'route', max: 50 },
    { name: 'duration', max: 100 },
    { name: 'quantity', type: 'number' },
    { name: 'instructions', type: 'textarea', rows: 2, max: 1000 },
  ],
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
