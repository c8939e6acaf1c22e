"""VADER with the customer-service lexicon, and phrase valences added on top."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from rules.sentiment import Sentiment, _Vader

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
STOCK = SentimentIntensityAnalyzer()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "The service was GREAT!!! :)",
        "not very good, but the staff were kind of nice",
        "😡hello 😡 😡😡 there 😍",
        "  🙂  ",
        "KIND OF bad... sort of ok??",
        "no help at all, never again!!!!",
        "I don't think it's bad",
        # the negation and idiom checks, word by word
        "never so happy, never this bad, without doubt good, without a doubt great",
        "it isn't really that good and they aren't very nice",
        "the food was the bomb, their bad ass crew, yeah right",
        "we waited at the bus stop, kind of sad, sort of ok",
        "not the shit, at least it is good, the least bad option",
        "Nobody is HAPPY, nor satisfied, cannot be pleased",
    ],
)
def test_fast_vader_scores_exactly_like_vader(text: str) -> None:
    assert _Vader().polarity_scores(text) == STOCK.polarity_scores(text)


@pytest.mark.skipif(not (SHARED / "datasets").exists(), reason="shared data sets not present")
def test_fast_vader_scores_exactly_like_vader_on_real_tweets() -> None:
    texts = []
    for name in ("airline/dev.csv", "twcs/sample.csv"):
        with (SHARED / "datasets" / name).open(encoding="utf-8", newline="") as handle:
            texts += [row["text"] or "" for row in csv.DictReader(handle)]
    fast = _Vader()
    assert [t for t in texts if fast.polarity_scores(t) != STOCK.polarity_scores(t)] == []


@pytest.mark.parametrize(
    ("lexicon", "text", "expected"),
    [
        ({"please": 0, "help": 0}, "please help", 0.0),  # removed: requests, not praise
        ({}, "please help", STOCK.polarity_scores("please help")["compound"]),
    ],
)
def test_lexicon_changes_replace_or_remove_words(
    lexicon: dict[str, float], text: str, expected: float
) -> None:
    assert Sentiment(lexicon).compound(text) == expected


def test_new_words_get_vader_negation() -> None:
    sentiment = Sentiment({"stranded": -2.2})
    assert sentiment.compound("we are stranded") < -0.4
    assert sentiment.compound("we are not stranded") > 0


def test_lexicon_is_per_instance() -> None:
    Sentiment({"great": -3.0})
    assert Sentiment().compound("great") > 0


@pytest.mark.parametrize(
    ("word_valence", "text"),
    [
        (-2.5, "it is bad"),
        (-2.5, "it is bad!!!"),
        (-2.5, "it is bad??"),
        (3.1, "it was great!"),
        (-2.5, "great food, bad service"),
    ],
)
def test_a_phrase_valence_counts_as_one_more_word(word_valence: float, text: str) -> None:
    """Scoring the text without the word plus its valence gives VADER's score with it."""
    without = text.replace("bad", "").replace("was great", "was")
    vader, shifted = Sentiment().scores(without, word_valence)
    assert vader == STOCK.polarity_scores(without)["compound"]
    assert shifted == STOCK.polarity_scores(text)["compound"]


@pytest.mark.parametrize("text", ["", "fine", "awful!!", "the best ever :)"])
def test_a_negative_valence_moves_down_and_stays_in_range(text: str) -> None:
    vader, shifted = Sentiment().scores(text, -3.0)
    assert -1.0 <= shifted < vader or shifted == vader == -1.0
    assert Sentiment().scores(text) == (vader, vader)
