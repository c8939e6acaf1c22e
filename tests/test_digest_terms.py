"""Trending terms: words whose share of posts at least doubled, brand terms and fillers left out."""

from __future__ import annotations

from monitor.digest.terms import trending_terms


def test_a_rising_word_trends_and_a_steady_one_does_not() -> None:
    this = ["Kestrel app crash again"] * 6 + ["Kestrel parcel late"] * 4
    last = ["Kestrel parcel late"] * 5 + ["Kestrel app is fine"] * 5
    terms = {t.term: t for t in trending_terms(this, last, ignore=["Kestrel"])}
    assert list(terms) == ["again", "crash"]  # new: rose from none; "app" only 0.5 -> 0.6
    assert (terms["crash"].posts, terms["crash"].sampled, terms["crash"].previous_share) == (
        6,
        10,
        0,
    )


def test_too_few_posts_is_noise() -> None:
    assert trending_terms(["outage now"] * 4, ["fine"] * 4) == []
    assert trending_terms([], ["fine"]) == []
