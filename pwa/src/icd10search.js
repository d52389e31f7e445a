// ICD-10 search rules on the device, pure (no fetch, no DOM), so node runs them in the tests beside the
// server's (records/icd10.py): the same words, the same order, the same codes.
// A query that starts like a code lists the codes it begins; then the Indonesian table's entries whose
// title or search words hold every word of it; then the codes whose English title does. A query word
// matches the beginning of a word, without case or accents ("ispa" finds ISPA, not Epispadias). Within
// each list: the title begins with the query, then holds it, then matches through the search words (or,
// in English, the code); ties in the table's order (commonest first) or code order.

/** Lower case, accents off, split at anything not a letter or digit (Python's `words_of`). */
export function wordsOf(text) {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

const asText = (text) =>
  wordsOf(text)
    .map((word) => ` ${word}`)
    .join('');

/** The exported table ({codes: [[code, title]...] in code order, id: [[code, title_id, words]...]}) made
 * ready to search: each entry {code, key, title, titleId} with its words. */
export function buildIndex(table) {
  const byCode = new Map();
  const entries = table.codes.map(([code, title]) => {
    const key = code.replace('.', '');
    const entry = { code, key, title, titleId: null, enText: asText(title) };
    entry.enAll = `${entry.enText} ${key.toLowerCase()}`;
    byCode.set(code, entry);
    return entry;
  });
  const indonesian = table.id.map(([code, titleId, words]) => {
    const entry = byCode.get(code);
    entry.titleId = titleId;
    entry.idText = asText(titleId);
    entry.idAll = asText(`${titleId} ${words}`);
    return entry;
  });
  return { entries, indonesian, byCode };
}

function tier(needles, title) {
  if (needles.every((needle) => title.includes(needle))) return title.startsWith(needles[0]) ? 0 : 1;
  return 2;
}

function ranked(list, needles, field, allField, seen) {
  const found = [];
  list.forEach((entry, position) => {
    if (!seen.has(entry.key) && needles.every((needle) => entry[allField].includes(needle))) {
      found.push({ tier: tier(needles, entry[field]), position, entry });
    }
  });
  found.sort((a, b) => a.tier - b.tier || a.position - b.position);
  return found.map(({ entry }) => entry);
}

/** The first `limit` entries for the query, by the rules above. */
export function searchIndex(index, query, limit) {
  const words = wordsOf(query);
  if (!words.length) return [];
  const prefix = /^[a-z][0-9]/i.test(query.trim()) ? query.toUpperCase().replace(/[^A-Z0-9]/g, '') : '';
  const byCode = prefix ? index.entries.filter((entry) => entry.key.startsWith(prefix)).slice(0, limit) : [];
  if (byCode.length >= limit) return byCode;
  const needles = words.map((word) => ` ${word}`);
  const seen = new Set(byCode.map((entry) => entry.key));
  const inIndonesian = ranked(index.indonesian, needles, 'idText', 'idAll', seen);
  for (const entry of inIndonesian) seen.add(entry.key);
  const inEnglish = ranked(index.entries, needles, 'enText', 'enAll', seen);
  return [...byCode, ...inIndonesian, ...inEnglish].slice(0, limit);
}
