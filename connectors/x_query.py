"""Recent-search queries built from a brand's config, split to fit the API's length limit.

One query per brand is cheapest (one request brings up to 100 mentions), so every way of
naming the brand goes into one OR group: its terms, `@handle` mentions, and the brand's own
replies (`from:handle is:reply`, so response times can be measured without a second feed).
Only when that exceeds the plan's limit (512 characters on most plans) is the OR group packed
into as few queries as fit, each repeating the shared filters (exclusions, language,
retweets).
"""

from __future__ import annotations

import re

from core.settings import BrandTerms

_BARE = re.compile(r"[\w#$@]+")


def quote(term: str) -> str:
    """A term as a search keyword: bare when it is one word, else an exact "phrase".

    Double quotes inside a term cannot be escaped in the search syntax, so they are dropped.
    """
    term = term.replace('"', "").strip()
    return term if _BARE.fullmatch(term) else f'"{term}"'


def pack(clauses: list[str], suffix: str, limit: int, *, joiner: str = " OR ") -> list[str]:
    """Pack clauses greedily into `(a OR b ...) suffix` strings no longer than `limit`.

    Raises ValueError when a single clause with the suffix cannot fit: that is a config
    problem (too many exclusions for the plan), better reported at start-up than ignored.
    """
    tail = f" {suffix}" if suffix else ""
    queries: list[str] = []
    group: list[str] = []
    for clause in clauses:
        candidate = [*group, clause]
        if len(f"({joiner.join(candidate)}){tail}") <= limit:
            group = candidate
            continue
        if not group:
            raise ValueError(f"query clause {clause!r} with filters {suffix!r} exceeds {limit}")
        queries.append(f"({joiner.join(group)}){tail}")
        group = [clause]
        if len(f"({clause}){tail}") > limit:
            raise ValueError(f"query clause {clause!r} with filters {suffix!r} exceeds {limit}")
    if group:
        queries.append(f"({joiner.join(group)}){tail}")
    return queries


def brand_queries(brand: BrandTerms, *, include_retweets: bool, limit: int) -> list[str]:
    """The recent-search queries that together find every mention of `brand` on X."""
    handles = brand.handles.get("x", [])
    clauses = list(
        dict.fromkeys(
            [quote(t) for t in brand.terms]
            + [f"@{h}" for h in handles]
            + [f"(from:{h} is:reply)" for h in handles]
        )
    )
    filters = [f"-{quote(t)}" for t in brand.exclude]
    if brand.languages:
        langs = [f"lang:{lang}" for lang in brand.languages]
        filters.append(langs[0] if len(langs) == 1 else f"({' OR '.join(langs)})")
    if not include_retweets:
        filters.append("-is:retweet")
    return pack(clauses, " ".join(filters), limit)
