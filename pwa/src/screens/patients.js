// The patient list: search on the device (name, record number, NIK) and registering a patient.
import { app } from '../app.js';
import { FIELDS } from '../fields.js';
import { t } from '../i18n.js';
import { randomId, searchPatients } from '../store.js';
import { save } from '../syncloop.js';
import { clear, form, h } from '../ui.js';
import { stateTag } from './parts.js';

export async function patientsScreen(states) {
  const list = h('ul', { class: 'list', id: 'patient-list' });
  const query = h('input', {
    type: 'search',
    id: 'search',
    placeholder: t('search'),
    value: app.query || '',
    autocomplete: 'off',
  });
  const fill = async () => {
    app.query = query.value;
    const { matches, total } = await searchPatients(app.db, query.value);
    clear(
      list,
      matches.length
        ? matches.map((p) =>
            h(
              'li',
              { dataset: { id: p.id } },
              h(
                'a',
                { href: `#/patient/${p.id}` },
                h('strong', {}, p.full_name),
                ` · ${p.medical_record_number || t('mrn_pending')} · ${p.birth_date || ''}`,
              ),
              stateTag(states(p.id)),
            ),
          )
        : h('li', { class: 'muted' }, t('no_patients')),
      total > matches.length ? h('li', { class: 'muted' }, t('more', { n: total - matches.length })) : null,
    );
  };
  query.addEventListener('input', fill);
  await fill();
  const registerBox = h('div', { id: 'register' });
  const openRegister = () =>
    clear(
      registerBox,
      form({
        name: 'register',
        fields: FIELDS.patient,
        creating: true,
        submitLabel: t('register'),
        onCancel: () => clear(registerBox),
        onSave: async (fields) => {
          const patientId = randomId();
          await save([{ entity: 'patient', id: patientId, op: 'create', fields }]);
          window.location.hash = `#/patient/${patientId}`;
        },
      }),
    );
  return h(
    'section',
    {},
    h(
      'div',
      { class: 'toolbar' },
      query,
      h('button', { type: 'button', id: 'open-register', class: 'primary', onclick: openRegister }, t('register')),
    ),
    registerBox,
    list,
  );
}
