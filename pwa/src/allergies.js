// Whether a drug matches a patient's recorded allergies: a pure function (no page, no store), so it is
// tested alone. It helps the doctor notice; it decides nothing and knows only a few drug groups.
//
// A match is either direct (a word of an allergy, such as "amoksisilin", is a word of the drug's name)
// or through a group: an allergy naming a group, or one drug of it, matches every drug of that group.
// The groups are the three drug allergies a clinic meets most, kept small on purpose:
// - penicillins: "patients who are allergic to one penicillin will be allergic to all" (BNF,
//   Penicillins, cautions); a penicillin's international name ends in -cillin (WHO, "The use of stems
//   in the selection of INN", 2018: -cillin, 6-aminopenicillanic acid derivatives);
// - sulfonamides: sulfa- names them (the same WHO list); co-trimoxazole holds sulfamethoxazole;
// - NSAIDs: contra-indicated after hypersensitivity to aspirin or any other NSAID (BNF, NSAIDs);
//   stems -profen, -fenac, -xicam and -fenamic acid (the same WHO list), and a few without a stem.
// Names are compared after folding English spelling into Indonesian (amoxicillin and amoksisilin,
// piroxicam and piroksikam), and the Indonesian names are those of the Formularium Nasional.

const GROUPS = [
  {
    key: 'penicillin',
    names: ['penisilin'],
    suffixes: ['silin'],
    members: ['amoksiklav'],
  },
  {
    key: 'sulfa',
    names: ['sulfa', 'sulfonamid', 'sulfonamida'],
    // sulfa- and at least four letters more: not "sulfat" nor "sulfas" (ferrous sulfate, a salt).
    prefixes: [{ start: 'sulfa', minLength: 9 }],
    members: ['kotrimoksazol', 'trimoksazol'],
  },
  {
    key: 'nsaid',
    names: ['nsaid', 'nsaids', 'oains', 'ains', 'nonsteroid', 'nonsteroidal'],
    suffixes: ['profen', 'fenak', 'ksikam', 'fenamat', 'fenamik'],
    members: ['asetosal', 'aspirin', 'asetilsalisilat', 'asetilsalisilik', 'ketorolak', 'naproksen'],
  },
];

// Words that say nothing of which drug it is (salts, forms, "obat", "alergi"): never a match alone.
const GENERIC = new Set([
  'alergi',
  'alergik',
  'obat',
  'drug',
  'golongan',
  'asam',
  'asid',
  'natrium',
  'sodium',
  'kalium',
  'potasium',
  'kalsium',
  'magnesium',
  'sulfat',
  'sulfas',
  'hidroklorida',
  'hidroklorid',
  'klorida',
  'tablet',
  'kapsul',
  'kaplet',
  'sirup',
  'sirop',
  'salep',
  'krim',
  'injeksi',
  'infus',
  'tetes',
  'drops',
  'forte',
  'plus',
  'oral',
]);

/** A word in one spelling: lower case, no accents, English spelling folded into Indonesian
 * (ph f, th t, x ks, c s before e/i/y and k otherwise, y i, no doubled letters, no final e). */
function fold(word) {
  let folded = word
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .replace(/ph/g, 'f')
    .replace(/th/g, 't')
    .replace(/qu/g, 'kw')
    .replace(/x/g, 'ks')
    .replace(/c(?=[eiy])/g, 's')
    .replace(/c/g, 'k')
    .replace(/y/g, 'i')
    .replace(/(.)\1+/g, '$1');
  if (folded.length > 4 && folded.endsWith('e')) folded = folded.slice(0, -1);
  return folded;
}

/** The folded words of a text that can name a drug or an allergen. */
function wordsOf(text) {
  return String(text || '')
    .split(/[^\p{L}\p{N}]+/u)
    .map(fold)
    .filter((word) => word.length >= 4 && !GENERIC.has(word));
}

/** The separate allergies of a recorded text ("Penisilin, udang; sulfa" is three), as written. */
export function allergyItems(text) {
  return String(text || '')
    .split(/[,;/+&\n]|\b(?:dan|and|serta)\b/i)
    .map((item) => item.trim())
    .filter(Boolean);
}

function isMember(group, word) {
  return (
    group.members.includes(word) ||
    (group.suffixes || []).some((suffix) => word.endsWith(suffix)) ||
    (group.prefixes || []).some(({ start, minLength }) => word.startsWith(start) && word.length >= minLength)
  );
}

/** The groups a drug's name belongs to. */
function groupsOfDrug(words) {
  return GROUPS.filter((group) => words.some((word) => isMember(group, word)));
}

/** The groups an allergy names, by the group's name or one of its drugs. */
function groupsOfAllergy(words) {
  return GROUPS.filter((group) => words.some((word) => group.names.includes(word) || isMember(group, word)));
}

/**
 * The patient's allergies that `drug` matches: `[{allergy, group}]`, `allergy` as written in the
 * record, `group` the drug group they share ('penicillin', 'sulfa', 'nsaid') or null for a direct
 * match. Empty when nothing matches.
 */
export function allergyMatches(allergies, drug) {
  const drugWords = wordsOf(drug);
  if (!drugWords.length) return [];
  const drugGroups = groupsOfDrug(drugWords);
  const matches = [];
  for (const allergy of allergyItems(allergies)) {
    const words = wordsOf(allergy);
    if (words.some((word) => drugWords.includes(word))) {
      matches.push({ allergy, group: null });
      continue;
    }
    const shared = groupsOfAllergy(words).find((group) => drugGroups.includes(group));
    if (shared) matches.push({ allergy, group: shared.key });
  }
  return matches;
}
