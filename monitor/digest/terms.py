"""Trending terms: the words that rose most in share of posts since the week before.

Counted in Python over a bounded, evenly spread sample of each week's posts (figures.py
reads at most a few thousand texts), with the hours of spikes left out: a spike is explained
on its own, and trending terms should say what changed in the ordinary conversation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rules.spike import STOPWORDS

MIN_POSTS = 5  # in this week's sample: fewer is noise
MIN_RISE = 2.0  # share of posts at least doubled
SHOWN = 5
_URL = re.compile(r"https?://\S+|www\.\S+|@\w+")
_WORD = re.compile(r"[^\W\d_][\w'’-]{2,}")


@dataclass(frozen=True, slots=True)
class Term:
    """A word with the share of sampled posts that used it, this week and the week before."""

    term: str
    posts: int
    sampled: int
    share: float
    previous_share: float


def _words(text: str, ignore: frozenset[str]) -> set[str]:
    words = _WORD.findall(_URL.sub(" ", text.lower()))
    return {w for w in words if w not in STOPWORDS and w not in ignore}


def _posts_using(texts: Iterable[str], ignore: frozenset[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_words(text, ignore))
    return counts


def trending_terms(
    this_week: Sequence[str], last_week: Sequence[str], *, ignore: Sequence[str] = ()
) -> list[Term]:
    """Terms used by at least MIN_POSTS sampled posts whose share rose at least MIN_RISE-fold.

    A term absent the week before rose from zero: it ranks by its share alone, after none.
    """
    if not this_week:
        return []
    skip = frozenset(w.lower() for term in ignore for w in term.split())
    now, before = _posts_using(this_week, skip), _posts_using(last_week, skip)
    terms = []
    for word, posts in now.items():
        share = posts / len(this_week)
        previous = before[word] / len(last_week) if last_week else 0.0
        if posts >= MIN_POSTS and share >= MIN_RISE * previous:
            terms.append(Term(word, posts, len(this_week), share, previous))
    # Rise first (a new term beats any old one), then how widely it is used.
    terms.sort(
        key=lambda t: (-(t.share / t.previous_share if t.previous_share else 1e9), -t.posts, t.term)
    )
    return terms[:SHOWN]
