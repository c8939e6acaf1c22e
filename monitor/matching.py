"""Does a post mention one of our brands, and is it the brand speaking?

Terms match on word boundaries, case-insensitively, after the text has been normalised
(so "Kestrel's", "#kestrel" and "@Kestrel" match, "kestrelfan99" does not). A post containing any
exclusion is off-topic for that brand ("kestrel hovering over the field").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from core.records import Post
from monitor.config import BrandConfig

_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Compatibility-fold styled letters (𝐊𝐞𝐬𝐭𝐫𝐞𝐥, Ｋｅｓｔｒｅｌ, K̶e̶s̶t̶r̶e̶l̶) for matching only."""
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def _alternation(words: Sequence[str]) -> re.Pattern[str] | None:
    cleaned = [w.strip().strip('"').lstrip("@#") for w in words]
    cleaned = [w for w in cleaned if w]
    if not cleaned:
        return None
    escaped = (re.escape(w).replace(r"\ ", r"\s+") for w in sorted(cleaned, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + "|".join(escaped) + r")(?!\w)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class BrandMatcher:
    """Compiled matching rules of one brand."""

    brand: BrandConfig
    terms: re.Pattern[str] | None
    exclusions: re.Pattern[str] | None
    own_handles: dict[str, frozenset[str]]

    @classmethod
    def build(cls, brand: BrandConfig) -> BrandMatcher:
        handles = list({h for hs in brand.handles.values() for h in hs})
        return cls(
            brand=brand,
            terms=_alternation([*brand.terms, *handles]),
            exclusions=_alternation(brand.exclude),
            own_handles={
                net: frozenset(h.lower() for h in hs) for net, hs in brand.handles.items()
            },
        )

    def is_own_post(self, post: Post) -> bool:
        """The brand's own accounts (any network listed under `handles`, or `all`)."""
        handle = post.author.handle.lstrip("@").lower()
        own = self.own_handles
        return handle in own.get(post.network, ()) or handle in own.get("all", ())

    def matches(self, post: Post, *, addressed: bool = False) -> bool:
        """The post is about the brand: it names it (or is `addressed` to it, written on its
        own channel or page), in a wanted language, and names nothing excluded."""
        languages = self.brand.languages
        if languages and post.lang and post.lang not in languages:
            return False
        text = post.text if post.text.isascii() else fold(post.text)
        if not addressed and (self.terms is None or not self.terms.search(text)):
            return False
        return not (self.exclusions and self.exclusions.search(text))


def build_matchers(brands: Sequence[BrandConfig]) -> list[BrandMatcher]:
    return [BrandMatcher.build(b) for b in brands]
