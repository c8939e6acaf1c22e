"""Brand matching: terms on word boundaries, exclusions, the brand's own accounts."""

from __future__ import annotations

import pytest

from monitor.config import BrandConfig
from monitor.matching import BrandMatcher
from tests.factories import make_post

BRAND = BrandConfig(
    name="Kestrel",
    terms=["kestrel", "kestrel fibre"],
    exclude=["bird", "hovering"],
    handles={"x": ["@KestrelHelp"]},
    languages=[],
)
MATCHER = BrandMatcher.build(BRAND)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kestrel's app is down again", True),
        ("#kestrel delivery late", True),
        ("@KestrelHelp are you there?", True),
        ("KESTREL   fibre dropped", True),
        ("kestrelfan99 posted a meme", False),
        ("𝐊𝐞𝐬𝐭𝐫𝐞𝐥 broke my router", True),
        ("Ｋｅｓｔｒｅｌ refund please", True),
        ("K̶e̶s̶t̶r̶e̶l̶ support is a joke", True),
        ("A kestrel hovering over the motorway", False),
        ("that bird from kestrel", False),
        ("nothing to see", False),
    ],
)
def test_terms_and_exclusions(text: str, expected: bool) -> None:
    assert MATCHER.matches(make_post("1", text)) is expected


def test_own_accounts_are_recognised_per_network() -> None:
    assert MATCHER.is_own_post(make_post("1", "sorry!", handle="kestrelhelp"))
    assert not MATCHER.is_own_post(make_post("1", "sorry!", handle="kestrelhelp", network="reddit"))


def test_language_filter() -> None:
    german_only = BrandMatcher.build(BRAND.model_copy(update={"languages": ["de"]}))
    post = make_post("1", "Kestrel ist kaputt")
    assert german_only.matches(post)  # no lang known: kept
    assert not german_only.matches(post.__class__(**{**_fields(post), "lang": "en"}))


def _fields(post: object) -> dict:
    return {f: getattr(post, f) for f in post.__slots__}  # type: ignore[attr-defined]
