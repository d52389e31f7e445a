// A visit's screen: its details and status, the doctor's note (SOAP), vital signs, diagnoses and
// prescriptions; after the visit is finished every change is an amendment with a reason.
import { app, CLINICAL_READERS, CLINICIANS } from '../app.js';
import { canWrite, FIELDS } from '../fields.js';
import { t } from '../i18n.js';
import { rerender } from '../router.js';
import { children, getRecord, randomId, refusedByRecord } from '../store.js';
import { save } from '../syncloop.js';
import { clear, fmtTime, form, h } from '../ui.js';
import { diagnosisForm } from './diagnosis.js';
import { conflictBoxes, failureNote, stateTag, voidBox, voidedTag } from './parts.js';

function partLine(entity, part) {
  if (entity === 'vitals') {
    return (
      FIELDS.vitals
        .filter((f) => part[f.name] !== null && part[f.name] !== undefined && part[f.name] !== '')
        .map((f) => `${t(f.name)} ${part[f.name]}`)
        .join(' · ') + (part.bmi ? ` · BMI ${part.bmi}` : '')
    );
  }
  if (entity === 'diagnosis') return `${part.code} ${part.title || ''} (${t(part.kind || 'primary')})`;
  return [part.drug, part.dose, part.frequency, part.route, part.duration, part.quantity, part.instructions]
    .filter((x) => x !== null && x !== undefined && x !== '')
    .join(' · ');
}

/** A clinician's note starts an arrived visit: front desk and nurses may void a visit only while it
 * is arrived, so a visit holding a doctor's notes must not stay so. */
function soapChanges(visit, fields) {
  const starts = CLINICIANS.includes(app.user.role) && (visit.status || 'arrived') === 'arrived';
  return starts ? { ...fields, status: 'in_progress' } : fields;
}

export async function visitScreen(id, states) {
  const visit = await getRecord(app.db, id);
  if (!visit) return h('p', {}, h('a', { href: '#/' }, t('back')));
  const role = app.user.role;
  // Finished as the server will see it when this device's next change arrives: its own pending
  // changes, finishing included, go first, so after a local finish every change is an amendment.
  const finished = visit.status === 'finished';
  const amend = finished ? t('amend_reason') : '';
  const refused = await refusedByRecord(app.db);
  const readOnly = Boolean(visit.voided_at);
  const adminBox = h('div', { id: 'visit-admin' });
  const showAdmin = () =>
    clear(
      adminBox,
      h(
        'dl',
        { class: 'facts' },
        FIELDS.visitAdmin.map((f) => [
          h('dt', {}, t(f.name)),
          h(
            'dd',
            {},
            f.type === 'datetime'
              ? fmtTime(visit[f.name])
              : f.name === 'status'
                ? t(visit.status || 'arrived')
                : visit[f.name] || '—',
          ),
        ]),
      ),
      readOnly
        ? null
        : h(
            'div',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                id: 'edit-visit',
                onclick: () =>
                  clear(
                    adminBox,
                    form({
                      name: 'visit-admin',
                      fields: FIELDS.visitAdmin,
                      current: visit,
                      reasonLabel: amend,
                      onCancel: showAdmin,
                      onSave: async (fields, reason) => {
                        if (Object.keys(fields).length)
                          await save([{ entity: 'visit', id, op: 'update', fields, reason }]);
                        rerender(true);
                      },
                    }),
                  ),
              },
              t('edit'),
            ),
            voidBox('visit', visit, () => {
              window.location.hash = `#/patient/${visit.patient}`;
            }),
          ),
    );
  showAdmin();
  const sections = [
    h('a', { href: `#/patient/${visit.patient}` }, t('back')),
    h(
      'h2',
      {},
      `${t('visit')} · ${fmtTime(visit.started_at)} `,
      stateTag(states(id)),
      finished ? h('span', { class: 'state' }, t('finished')) : null,
      voidedTag(visit),
    ),
    finished ? h('p', { class: 'muted' }, t('finished_note')) : null,
    failureNote(states, id, refused),
    ...(await conflictBoxes(id)),
    adminBox,
  ];
  if (CLINICAL_READERS.includes(role)) {
    const soapBox = h('div', { id: 'soap' });
    const soapForm = () =>
      form({
        name: 'soap',
        standing: true,
        fields: FIELDS.soap.map((f) => ({ ...f, disabled: !CLINICIANS.includes(role) })),
        current: visit,
        reasonLabel: amend,
        onSave: async (fields, reason) => {
          if (Object.keys(fields).length)
            await save([{ entity: 'visit', id, op: 'update', fields: soapChanges(visit, fields), reason }]);
          rerender(true);
        },
      });
    clear(
      soapBox,
      readOnly || !CLINICIANS.includes(role)
        ? h(
            'dl',
            { class: 'facts' },
            FIELDS.soap.map((f) => [h('dt', {}, t(f.name)), h('dd', { class: 'pre' }, visit[f.name] || '—')]),
          )
        : soapForm(),
    );
    sections.push(h('h3', {}, t('soap')), soapBox);
    for (const [entity, title, addLabel] of [
      ['vitals', 'vitals', 'add_vitals'],
      ['diagnosis', 'diagnoses', 'add_diagnosis'],
      ['prescription', 'prescriptions', 'add_prescription'],
    ]) {
      const parts = await children(app.db, entity, id);
      const adder = h('div', { id: `add-${entity}-box` });
      const close = () => clear(adder);
      const onSave = async (fields, reason, title) => {
        const extra = entity === 'vitals' ? { measured_at: new Date().toISOString() } : {};
        const display = title ? { title } : undefined; // a diagnosis's title: shown here, the server names codes itself
        await save([
          { entity, id: randomId(), op: 'create', fields: { visit: id, ...extra, ...fields }, reason, display },
        ]);
        rerender(true);
      };
      const open = () =>
        clear(
          adder,
          entity === 'diagnosis'
            ? diagnosisForm(onSave, close, finished)
            : form({
                name: entity,
                fields: FIELDS[entity],
                creating: true,
                reasonLabel: amend,
                onCancel: close,
                onSave,
              }),
        );
      sections.push(
        h('h3', {}, t(title)),
        h(
          'ul',
          { class: 'list', id: `${entity}-list` },
          parts.length
            ? parts.map((part) =>
                h(
                  'li',
                  { dataset: { id: part.id } },
                  h('span', {}, partLine(entity, part)),
                  voidedTag(part),
                  stateTag(states(part.id)),
                  failureNote(states, part.id, refused),
                  !part.voided_at && !readOnly && canWrite(entity) ? voidBox(entity, part) : null,
                ),
              )
            : h('li', { class: 'muted' }, t('no_items')),
        ),
        !readOnly && canWrite(entity)
          ? h('button', { type: 'button', id: `add-${entity}`, onclick: open }, t(addLabel))
          : null,
        adder,
      );
    }
  }
  return h('section', {}, sections);
}
