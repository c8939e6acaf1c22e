"""Where an incident is: the places its posts name.

People say where they are when something breaks: "down in Leeds", "Cardiff CF10",
"Reading RG1", "LS6". A place is a capitalised name after in/at/near/around/across, a
capitalised name right before a UK postcode district, or a postcode district alone. Words the
brand's posts share (its terms) are never places. Counted once per post, most named first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence

_NAME = r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?"
_DISTRICT = r"[A-Z]{1,2}[0-9][0-9A-Z]?"
_AFTER_WORD = re.compile(rf"\b(?:in|at|near|around|across)\s+({_NAME})\b")
_BEFORE_DISTRICT = re.compile(rf"\b({_NAME})\s+({_DISTRICT})\b")
_DISTRICT_ALONE = re.compile(rf"\b({_DISTRICT})\b")
_NOT_PLACES = frozenset(
    {"the", "my", "our", "your", "their", "this", "that", "all", "work", "home", "school"}
)


def places_in(text: str, *, ignore: Collection[str] = ()) -> set[str]:
    """The places one post names."""
    skip = {w.casefold() for w in ignore} | _NOT_PLACES
    found: set[str] = set()
    covered: set[str] = set()
    for name, district in _BEFORE_DISTRICT.findall(text):
        if name.split()[-1].casefold() not in skip:
            found.add(name.split()[-1])
            covered.add(district)
    for name in _AFTER_WORD.findall(text):
        if not {w.casefold() for w in re.split(r"[ -]", name)} & skip:
            found.add(name)
    for district in _DISTRICT_ALONE.findall(text):
        if district not in covered and any(c.isdigit() for c in district):
            found.add(district)
    return found


def places_named(
    texts: Sequence[str], *, ignore: Collection[str] = (), top: int = 8
) -> list[tuple[str, int]]:
    """(place, posts naming it), most named first."""
    counted: Counter[str] = Counter()
    for text in texts:
        counted.update(places_in(text, ignore=ignore))
    return counted.most_common(top)
