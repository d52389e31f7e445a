// ICD-10 (WHO 2019) search on the device: the table ships with the app (precached), so diagnosis
// search works offline. Same rules as the server: code prefix first, then every word in the title.
let table = null;

async function load() {
  if (!table) {
    // eslint-disable-next-line no-undef
    const rows = await (await fetch(ICD10_URL)).json();
    table = rows.map(([code, title]) => ({ code, title, key: code.replace('.', ''), text: `${code} ${code.replace('.', '')} ${title}`.toLowerCase() }));
  }
  return table;
}

export async function searchIcd10(query, limit = 12) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const entries = await load();
  const key = /^[a-z]\d/i.test(query.trim()) ? query.toUpperCase().replace(/[^A-Z0-9]/g, '') : '';
  const byCode = key ? entries.filter((entry) => entry.key.startsWith(key)) : [];
  if (byCode.length >= limit) return byCode.slice(0, limit);
  const seen = new Set(byCode.map((entry) => entry.code));
  const byWords = entries.filter((entry) => !seen.has(entry.code) && words.every((word) => entry.text.includes(word)));
  return [...byCode, ...byWords].slice(0, limit);
}
