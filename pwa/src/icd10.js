// ICD-10 search on the device: the table (WHO 2019, the 2010 codes Indonesia still uses, Indonesian titles
// and search words) ships with the app, precached, so diagnosis search works offline. The rules are the
// server's (icd10search.js); the titles come in the app's language.
import { lang } from './i18n.js';
import { buildIndex, searchIndex, wordsOf } from './icd10search.js';

let index = null; // the promise of the table, shared by searches that overlap while it loads

function load() {
  index ||= fetch(ICD10_URL)
    .then((response) => response.json())
    .then(buildIndex)
    .catch((error) => {
      index = null; // offline before install: the next search tries again
      throw error;
    });
  return index;
}

/** Up to `limit` codes for the query, each {code, title, title_en, title_id}: `title` is the Indonesian
 * title when the app speaks Indonesian and the code has one, the English (WHO) title otherwise. */
export async function searchIcd10(query, limit = 12) {
  if (!wordsOf(query).length) return [];
  const indonesian = lang() === 'id';
  return searchIndex(await load(), query, limit).map((entry) => ({
    code: entry.code,
    title: (indonesian && entry.titleId) || entry.title,
    title_en: entry.title,
    title_id: entry.titleId,
  }));
}

/** Each code's title in the app's language (Indonesian where the table has one, else WHO's English):
 * a diagnosis stores WHO's title, and is shown in the words of the person reading it. */
export async function titlesOf(codes) {
  if (!codes.length) return new Map();
  // Without the table (offline before the app was installed) the stored titles are shown instead.
  const { byCode } = await load().catch(() => ({ byCode: new Map() }));
  const indonesian = lang() === 'id';
  return new Map(
    codes.map((code) => {
      const entry = byCode.get(code);
      return [code, entry && ((indonesian && entry.titleId) || entry.title)];
    }),
  );
}
