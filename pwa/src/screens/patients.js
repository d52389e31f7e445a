// The patient list: search on the device (name, record number, NIK) and registering a patient, who is
// first looked for among the patients on the device (same NIK, or same name and birth date).
import { app } from '../app.js';
import { FIELDS } from '../fields.js';
import { t } from '../i18n.js';
import { findDuplicatePatients, randomId, searchPatients } from '../store.js';
import { save } from '../syncloop.js';
import { clear, fmtDate, form, h } from '../ui.js';
import { stateTag } from './parts.js';

/** The patients who may be the one being registered, each with a link to open them, and the choice to
 * register a new patient anyway. */
function duplicatesBox(found, registerAnyway) {
  const title = h('strong', { id: 'duplicates-title', tabindex: '-1' }, t('dup_title'));
  return h(
    'div',
    { id: 'duplicates', class: 'conflict', role: 'group', 'aria-labelledby': 'duplicates-title' },
    title,
    h('p', {}, t('dup_note')),
    h(
      'ul',
      { class: 'list' },
      found.map((patient) =>
        h(
          'li',
          { dataset: { duplicate: patient.id } },
          h(
            'div',
            {},
            h('strong', {}, patient.full_name),
            ` · ${t('mrn')} ${patient.medical_record_number || t('mrn_pending')}`,
            ` · ${t('birth_date')} ${fmtDate(patient.birth_date)}`,
            ` · ${t('nik')} ${patient.nik || '—'} `,
            h('span', { class: 'state' }, t(patient.sameNik ? 'dup_same_nik' : 'dup_same_name')),
          ),
          h(
            'a',
            { href: `#/patient/${patient.id}`, class: 'button', dataset: { duplicateId: patient.id } },
            t('dup_open'),
          ),
        ),
      ),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', id: 'register-anyway', onclick: registerAnyway }, t('dup_register')),
    ),
  );
}

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
                ` · ${p.medical_record_number || t('mrn_pending')} · ${fmtDate(p.birth_date)}`,
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
  const openRegister = () => {
    const duplicates = h('div', { id: 'duplicates-box' });
    let anyway = false; // the person saw the likely duplicates and chose to register a new patient
    const register = form({
      name: 'register',
      fields: FIELDS.patient,
      creating: true,
      submitLabel: t('register'),
      onCancel: () => clear(registerBox),
      onSave: async (fields) => {
        const found = anyway ? [] : await findDuplicatePatients(app.db, fields);
        if (found.length) {
          const box = duplicatesBox(found, () => {
            anyway = true;
            register.requestSubmit();
          });
          clear(duplicates, box);
          // Centred, clear of the header: the whole box when it fits, else its title.
          const fits = box.offsetHeight < window.innerHeight * 0.6;
          (fits ? box : box.querySelector('#duplicates-title')).scrollIntoView({ block: 'center' });
          box.querySelector('#duplicates-title').focus({ preventScroll: true });
          return false; // nothing saved: the entry stays until they choose
        }
        const patientId = randomId();
        await save([{ entity: 'patient', id: patientId, op: 'create', fields }]);
        window.location.hash = `#/patient/${patientId}`;
      },
    });
    // What they chose was for what they had typed: a change is looked up again.
    register.addEventListener('input', () => {
      anyway = false;
      clear(duplicates);
    });
    clear(registerBox, register, duplicates);
  };
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
