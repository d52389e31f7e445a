// A patient's screen: their details (edit, void), conflicts and refused changes, and their visits.
import { app } from '../app.js';
import { FIELDS } from '../fields.js';
import { t } from '../i18n.js';
import { rerender } from '../router.js';
import { children, getRecord, randomId, refusedByRecord } from '../store.js';
import { save } from '../syncloop.js';
import { clear, fmtTime, form, h } from '../ui.js';
import { failureNote, stateTag, voidBox, voidedTag } from './parts.js';

export async function patientScreen(id, states) {
  const patient = await getRecord(app.db, id);
  if (!patient) return h('p', {}, h('a', { href: '#/' }, t('back')));
  const refused = await refusedByRecord(app.db);
  const details = h('div', { id: 'patient-details' });
  const showDetails = () =>
    clear(
      details,
      h('h2', {}, patient.full_name, ' ', stateTag(states(id)), voidedTag(patient)),
      failureNote(states, id, refused),
      h(
        'dl',
        { class: 'facts' },
        ['medical_record_number', 'nik', 'birth_date', 'sex', 'phone', 'address', 'allergies'].map((name) => [
          h('dt', {}, t(name === 'medical_record_number' ? 'mrn' : name)),
          h(
            'dd',
            {},
            name === 'sex'
              ? t(patient.sex)
              : patient[name] || (name === 'medical_record_number' ? t('mrn_pending') : '—'),
          ),
        ]),
      ),
      patient.voided_at
        ? null
        : h(
            'div',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                id: 'edit-patient',
                onclick: () =>
                  clear(
                    details,
                    form({
                      name: 'patient',
                      fields: FIELDS.patient,
                      current: patient,
                      onCancel: showDetails,
                      onSave: async (fields) => {
                        if (Object.keys(fields).length) await save([{ entity: 'patient', id, op: 'update', fields }]);
                        rerender(true);
                      },
                    }),
                  ),
              },
              t('edit'),
            ),
            voidBox('patient', patient),
          ),
    );
  showDetails();
  const visits = (await children(app.db, 'visit', id)).sort((a, b) =>
    String(b.started_at).localeCompare(String(a.started_at)),
  );
  const newVisit = h('div', { id: 'new-visit' });
  const openNewVisit = () =>
    clear(
      newVisit,
      form({
        name: 'new-visit',
        fields: FIELDS.visitAdmin,
        creating: true,
        current: { started_at: new Date().toISOString(), status: 'arrived' },
        submitLabel: t('new_visit'),
        onCancel: () => clear(newVisit),
        onSave: async (fields) => {
          const visitId = randomId();
          await save([{ entity: 'visit', id: visitId, op: 'create', fields: { patient: id, ...fields } }]);
          window.location.hash = `#/visit/${visitId}`;
        },
      }),
    );
  return h(
    'section',
    {},
    h('a', { href: '#/' }, t('back')),
    details,
    h('h3', {}, t('visits')),
    patient.voided_at
      ? null
      : h('button', { type: 'button', id: 'open-new-visit', class: 'primary', onclick: openNewVisit }, t('new_visit')),
    newVisit,
    h(
      'ul',
      { class: 'list', id: 'visit-list' },
      visits.length
        ? visits.map((v) =>
            h(
              'li',
              { dataset: { id: v.id } },
              h(
                'a',
                { href: `#/visit/${v.id}` },
                `${fmtTime(v.started_at)} · ${t(v.status || 'arrived')}`,
                v.chief_complaint ? ` · ${v.chief_complaint}` : '',
              ),
              voidedTag(v),
              stateTag(states(v.id)),
            ),
          )
        : h('li', { class: 'muted' }, t('no_visits')),
    ),
  );
}
