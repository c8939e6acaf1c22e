"""The phrase syntax and the one-pass matcher behind the complaint rules."""

from __future__ import annotations

import pytest

from rules.phrases import PhraseError, PhraseMatcher


def found(phrases: list[str], text: str) -> list[tuple[str, str]]:
    """(matched words, phrase) for each hit of `phrases` in `text`."""
    return PhraseMatcher((p, p) for p in phrases).find(text.lower())


@pytest.mark.parametrize(
    ("phrase", "text", "words"),
    [
        ("still waiting", "@acme still waiting!!", "still waiting"),
        ("on hold ... # hours|hrs", "on hold for over 2 hours", "on hold for over 2 hours"),
        ("on hold ... # hours|hrs", "on hold for two hrs", "on hold for two hrs"),
        ("# hrs late", "3hrs late again", "3hrs late"),
        ("# hours|hrs late", "2.5 hours late", "2.5 hours late"),
        ("cancel*", "they cancelled it", "cancelled"),
        ("can't get through", "cant get through", "cant get through"),
        ("can't get through", "can't get through", "can't get through"),
        ("log_in|login fails", "log in fails", "log in fails"),
        ("log_in|login fails", "login fails", "login fails"),
        ("never ... again", "never flying with you again", "never flying with you again"),
        ("#fail", "so slow #fail", "#fail"),
        ("^ can i", "@acme @help can i pay later", "can i"),
        ("on hold ... # hours", "on hold <!channel> for 2 hours", "on hold channel for 2 hours"),
    ],
)
def test_phrase_syntax_matches(phrase: str, text: str, words: str) -> None:
    assert found([phrase], text) == [(words, phrase)]


@pytest.mark.parametrize(
    ("phrase", "text"),
    [
        ("help", "so unhelpful"),  # whole words only
        ("help", "ask @help"),  # never a handle
        ("rude", "rudely"),  # no prefix match without '*'
        ("^ can i", "so can i pay later"),  # only at the start
        ("never ... again", "never had one, it was fine, so not once again"),  # gap is 3 words
        ("# hours late", "flight 7 late"),
    ],
)
def test_phrase_syntax_rejects(phrase: str, text: str) -> None:
    assert found([phrase], text) == []


def test_longer_phrase_wins_at_the_same_place() -> None:
    phrases = ["on hold", "on hold ... # hours"]
    assert found(phrases, "on hold for 3 hours") == [("on hold for 3 hours", phrases[1])]
    assert found(phrases, "on hold forever") == [("on hold", "on hold")]


@pytest.mark.parametrize(
    ("text", "winner"),
    [
        ("you need to follow", "you need to follow"),  # 4 words beat 3
        ("you guys need to", "you|you_guys need to"),  # only phrase that fits
        ("customer service is bad", "customer_service is bad"),  # 4 words beat 2
    ],
)
def test_length_counts_the_words_an_alternative_spans(text: str, winner: str) -> None:
    """Many `_` alternatives in one slot do not make a phrase longer than its longest one."""
    phrases = [
        "you|you_guys need to",
        "you need to follow",
        "customer_service|customer_care|call_centre|help_desk",
        "customer_service is bad",
    ]
    assert found(phrases, text) == [(text, winner)]


def test_every_hit_in_text_order_and_repeats_are_named_the_same() -> None:
    matcher = PhraseMatcher([("no refund", "refund"), ("rude", "staff")])
    text = "rude agent, no refund. rude again"
    first = matcher.find(text)
    assert first == [("rude", "staff"), ("no refund", "refund"), ("rude", "staff")]
    assert matcher.find(text) == first  # second time from the cache


@pytest.mark.parametrize("phrase", ["", "... again", "never ...", "bad(word", "a||b", "^"])
def test_bad_phrases_are_errors(phrase: str) -> None:
    with pytest.raises(PhraseError):
        PhraseMatcher([(phrase, None)])
