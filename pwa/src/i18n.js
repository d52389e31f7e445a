// Every string of the app in Bahasa Indonesia and English; the language follows the user's choice
// (shared with the server's language cookie), then the browser, then Indonesian.
const STRINGS = {
  id: {
    online: 'Daring', offline: 'Luring', syncing: 'Menyinkronkan…', waiting: '{n} perubahan menunggu', refused_n: '{n} ditolak', conflicts_n: '{n} konflik',
    all_synced: 'Semua tersinkron', last_sync: 'Sinkron terakhir: {t}', never: 'belum pernah', sync_now: 'Sinkronkan',
    logout: 'Keluar', patients: 'Pasien', sync_panel: 'Sinkronisasi', search: 'Cari nama, No. RM atau NIK',
    register: 'Daftarkan pasien', save: 'Simpan', cancel: 'Batal', edit: 'Ubah', void: 'Batalkan (void)',
    void_reason: 'Alasan pembatalan', amend_reason: 'Alasan amandemen (kunjungan sudah selesai)',
    reason_required: 'Alasan wajib diisi.', no_patients: 'Tidak ada pasien yang cocok.', more: '…dan {n} lainnya',
    full_name: 'Nama lengkap', nik: 'NIK', birth_date: 'Tanggal lahir', sex: 'Jenis kelamin', F: 'Perempuan',
    M: 'Laki-laki', phone: 'Telepon', address: 'Alamat', allergies: 'Alergi', mrn: 'No. RM', mrn_pending: 'menunggu sinkron',
    visits: 'Kunjungan', new_visit: 'Kunjungan baru', started_at: 'Waktu', status: 'Status', arrived: 'Datang',
    in_progress: 'Diperiksa', finished: 'Selesai', chief_complaint: 'Keluhan utama', subjective: 'Subjektif (S)',
    objective: 'Objektif (O)', assessment: 'Asesmen (A)', plan: 'Rencana (P)', soap: 'Catatan SOAP',
    vitals: 'Tanda vital', temperature_c: 'Suhu (°C)', pulse: 'Nadi (/menit)', respiratory_rate: 'Napas (/menit)',
    systolic: 'Sistolik (mmHg)', diastolic: 'Diastolik (mmHg)', spo2: 'SpO2 (%)', height_cm: 'Tinggi (cm)',
    weight_kg: 'Berat (kg)', add_vitals: 'Tambah tanda vital', diagnoses: 'Diagnosis', add_diagnosis: 'Tambah diagnosis',
    icd_search: 'Cari ICD-10 (kode atau kata)', kind: 'Jenis', primary: 'Utama', secondary: 'Sekunder',
    prescriptions: 'Resep', add_prescription: 'Tambah resep', drug: 'Obat', dose: 'Dosis', route: 'Rute',
    frequency: 'Frekuensi', duration: 'Lama', quantity: 'Jumlah', instructions: 'Aturan pakai',
    state_pending: 'menunggu', state_synced: 'tersinkron', state_failed: 'gagal', state_conflict: 'konflik',
    voided: 'dibatalkan', failed_title: 'Perubahan yang ditolak server', conflicts_title: 'Konflik yang perlu diputuskan',
    none: 'Tidak ada.', discard: 'Buang perubahan ini', keep_server: 'Pakai nilai server', keep_device: 'Pakai nilai perangkat',
    conflict_on: '{field} diubah di dua tempat', server_value: 'Server', device_value: 'Perangkat ({who})',
    downloading: 'Mengunduh data klinik… {n} dari {total}', saved_offline: 'Tersimpan di perangkat.',
    quota: 'Penyimpanan perangkat penuh: perubahan ini BELUM tersimpan. Kosongkan ruang lalu coba lagi; isian Anda tetap di layar.',
    save_error: 'Tidak dapat menyimpan di perangkat: {e}', signed_out: 'Sesi Anda berakhir. Data tetap aman di perangkat.',
    sign_in: 'Masuk lagi', refused: 'Server menolak sinkronisasi: {e}', server_error: 'Server sedang bermasalah; dicoba lagi otomatis.',
    update_ready: 'Versi baru aplikasi tersedia.', database_upgraded: 'Aplikasi diperbarui di tab lain. Muat ulang tab ini untuk melanjutkan; perubahan yang belum terkirim tetap aman.', reload: 'Muat ulang', logout_pending: 'Ada {n} perubahan yang belum tersinkron. Sinkronkan dulu sebelum keluar.',
    logout_offline: 'Anda sedang luring: perubahan belum bisa dikirim. Keluar nanti saat daring.',
    logout_needs_server: 'Keluar perlu terhubung ke server. Tidak ada yang dihapus; coba lagi saat daring.',
    quota_sync: 'Penyimpanan perangkat penuh: data terbaru klinik belum bisa disimpan. Tidak ada yang hilang; kosongkan ruang, sinkronisasi dicoba lagi otomatis.',
    sync_device_error: 'Sinkronisasi terhenti di perangkat ini: {e}. Perubahan Anda aman; dicoba lagi otomatis.',
    sync_then_logout: 'Sinkronkan lalu keluar', still_pending: 'Masih ada {n} perubahan yang belum terkirim; Anda belum dikeluarkan.',
    need_login: 'Masuk sekali secara daring untuk memakai aplikasi ini.', back: '← Kembali', required: 'Wajib diisi.',
    no_visits: 'Belum ada kunjungan.', no_items: 'Belum ada.', errors_fix: 'Perbaiki lalu simpan lagi untuk mengirim ulang.',
    language: 'Bahasa', finished_note: 'Kunjungan selesai: perubahan adalah amandemen dan perlu alasan.',
    save_first: 'Simpan atau batalkan isian Anda dulu, lalu muat ulang.',
    out_of_step: 'Urutan perubahan perangkat ini tidak cocok dengan server (server menunggu nomor {n}). Hubungi admin klinik; perubahan tetap aman di perangkat.',
    storage_persisted: 'Penyimpanan perangkat: permanen', storage_not_persisted: 'Penyimpanan perangkat: dapat dihapus browser',
    medical_record_number: 'No. RM', patient: 'Pasien', practitioner: 'Tenaga kesehatan', visit: 'Kunjungan',
    measured_at: 'Waktu pengukuran', code: 'Kode ICD-10', reason: 'Alasan', op: 'Operasi', record_id: 'ID rekam',
    value: 'Nilai', fields: 'Isian',
    role_owner: 'Pemilik', role_doctor: 'Dokter', role_nurse: 'Perawat', role_frontdesk: 'Pendaftaran',
    entity_patient: 'Pasien', entity_visit: 'Kunjungan', entity_vitals: 'Tanda vital', entity_diagnosis: 'Diagnosis',
    entity_prescription: 'Resep', entity_conflict: 'Konflik', entity_chart: 'Rekam medis',
    op_create: 'baru', op_update: 'perubahan', op_void: 'pembatalan', op_resolve: 'keputusan konflik', op_open: 'dibuka',
    logout_openings: 'Catatan rekam medis yang Anda buka belum terkirim ke server (wajib untuk jejak audit klinik). Tidak ada yang dihapus; keluar lagi saat terhubung.',
  },
  en: {
    online: 'Online', offline: 'Offline', syncing: 'Syncing…', waiting: '{n} change waiting|{n} changes waiting', refused_n: '{n} refused',
    conflicts_n: '{n} conflict|{n} conflicts',
    all_synced: 'All synced', last_sync: 'Last sync: {t}', never: 'never', sync_now: 'Sync now',
    logout: 'Log out', patients: 'Patients', sync_panel: 'Sync', search: 'Search name, MRN or NIK',
    register: 'Register patient', save: 'Save', cancel: 'Cancel', edit: 'Edit', void: 'Void',
    void_reason: 'Reason for voiding', amend_reason: 'Reason for the amendment (the visit is finished)',
    reason_required: 'A reason is required.', no_patients: 'No matching patients.', more: '…and {n} more',
    full_name: 'Full name', nik: 'NIK', birth_date: 'Birth date', sex: 'Sex', F: 'Female',
    M: 'Male', phone: 'Phone', address: 'Address', allergies: 'Allergies', mrn: 'MRN', mrn_pending: 'waiting for sync',
    visits: 'Visits', new_visit: 'New visit', started_at: 'Date and time', status: 'Status', arrived: 'Arrived',
    in_progress: 'In progress', finished: 'Finished', chief_complaint: 'Chief complaint', subjective: 'Subjective (S)',
    objective: 'Objective (O)', assessment: 'Assessment (A)', plan: 'Plan (P)', soap: 'SOAP note',
    vitals: 'Vital signs', temperature_c: 'Temperature (°C)', pulse: 'Pulse (/min)', respiratory_rate: 'Respiratory rate (/min)',
    systolic: 'Systolic (mmHg)', diastolic: 'Diastolic (mmHg)', spo2: 'SpO2 (%)', height_cm: 'Height (cm)',
    weight_kg: 'Weight (kg)', add_vitals: 'Add vital signs', diagnoses: 'Diagnoses', add_diagnosis: 'Add diagnosis',
    icd_search: 'Search ICD-10 (code or words)', kind: 'Kind', primary: 'Primary', secondary: 'Secondary',
    prescriptions: 'Prescriptions', add_prescription: 'Add prescription', drug: 'Drug', dose: 'Dose', route: 'Route',
    frequency: 'Frequency', duration: 'Duration', quantity: 'Quantity', instructions: 'Instructions',
    state_pending: 'pending', state_synced: 'synced', state_failed: 'failed', state_conflict: 'conflict',
    voided: 'voided', failed_title: 'Changes the server refused', conflicts_title: 'Conflicts to resolve',
    none: 'None.', discard: 'Discard this change', keep_server: 'Keep the server value', keep_device: 'Keep the device value',
    conflict_on: '{field} was changed in two places', server_value: 'Server', device_value: 'Device ({who})',
    downloading: 'Downloading the clinic’s records… {n} of {total}', saved_offline: 'Saved on this device.',
    quota: 'This device’s storage is full: this change was NOT saved. Free some space and try again; your entry stays on screen.',
    save_error: 'Could not save on this device: {e}', signed_out: 'Your session ended. Your data is safe on this device.',
    sign_in: 'Sign in again', refused: 'The server refused to sync: {e}', server_error: 'The server is having trouble; retrying by itself.',
    update_ready: 'A new version of the app is ready.', database_upgraded: 'The app was updated in another tab. Reload this tab to go on; changes not yet sent are safe.', reload: 'Reload to update', logout_pending: '{n} changes are not synced yet. Sync them before logging out.',
    logout_offline: 'You are offline: the changes cannot be sent yet. Log out later, when online.',
    logout_needs_server: 'Logging out needs the server. Nothing was deleted; try again when online.',
    quota_sync: 'This device’s storage is full: the clinic’s latest records could not be stored. Nothing was lost; free some space, sync retries by itself.',
    sync_device_error: 'Sync stopped on this device: {e}. Your changes are safe; retrying by itself.',
    sync_then_logout: 'Sync, then log out', still_pending: '{n} changes are still unsent; you were not logged out.',
    need_login: 'Sign in once while online to use this app.', back: '← Back', required: 'Required.',
    no_visits: 'No visits yet.', no_items: 'None yet.', errors_fix: 'Fix it and save again to resend.',
    language: 'Language', finished_note: 'This visit is finished: changes are amendments and need a reason.',
    save_first: 'Save or cancel your entry first, then reload.',
    out_of_step: 'This device’s changes are out of step with the server (it expects number {n}). Tell the clinic’s admin; the changes stay safe on this device.',
    storage_persisted: 'Device storage: persistent', storage_not_persisted: 'Device storage: may be cleared by the browser',
    medical_record_number: 'MRN', patient: 'Patient', practitioner: 'Practitioner', visit: 'Visit',
    measured_at: 'Measured at', code: 'ICD-10 code', reason: 'Reason', op: 'Operation', record_id: 'Record id',
    value: 'Value', fields: 'Fields',
    role_owner: 'Owner', role_doctor: 'Doctor', role_nurse: 'Nurse', role_frontdesk: 'Front desk',
    entity_patient: 'Patient', entity_visit: 'Visit', entity_vitals: 'Vital signs', entity_diagnosis: 'Diagnosis',
    entity_prescription: 'Prescription', entity_conflict: 'Conflict', entity_chart: 'Chart',
    op_create: 'new', op_update: 'change', op_void: 'void', op_resolve: 'conflict decision', op_open: 'opened',
    logout_openings: 'The record of the charts you opened has not reached the server yet (the clinic’s audit trail needs it). Nothing was deleted; log out again when connected.',
  },
};

function cookie(name) {
  const match = document.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
  return match ? decodeURIComponent(match[1]) : '';
}

export function currentLanguage() {
  const chosen = localStorage.getItem('emr.lang') || cookie('django_language');
  if (chosen === 'en' || chosen === 'id') return chosen;
  return (navigator.language || 'id').toLowerCase().startsWith('en') ? 'en' : 'id';
}

let language = currentLanguage();

export function setLanguage(value) {
  language = value === 'en' ? 'en' : 'id';
  localStorage.setItem('emr.lang', language);
  document.cookie = `django_language=${language}; path=/; SameSite=Lax`;
  document.documentElement.lang = language;
}

const PLURAL_RULES = new Map();

function pluralRules(language) {
  if (!PLURAL_RULES.has(language)) PLURAL_RULES.set(language, new Intl.PluralRules(language));
  return PLURAL_RULES.get(language);
}

/** A string with `{name}` filled in. One with forms for one and for more ("1 change|{n} changes")
 * picks its form by `params.n` and the language's plural rules (Indonesian has one form). */
export function t(key, params = {}) {
  let text = STRINGS[language][key] ?? STRINGS.en[key] ?? key;
  if (text.includes('|') && typeof params.n === 'number') {
    const [one, other] = text.split('|');
    text = pluralRules(language).select(params.n) === 'one' ? one : other;
  }
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ''));
}

export function lang() {
  return language;
}
