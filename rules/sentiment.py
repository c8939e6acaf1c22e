"""Sentiment: VADER with a customer-service lexicon, plus phrase valences on top.

Plain VADER misses how customers complain: "on hold for 2 hours" and "flight delayed" carry
no negative word, and "please help" reads as positive. Two fixes, both cheap per call:

- word valences are changed once, in this analyzer's own copy of VADER's lexicon, so
  negation and boosters apply to them as to any VADER word ("not delayed");
- phrase valences found by the complaint rules are added to VADER's sum of word valences,
  as if each phrase were one more word of that valence (`Sentiment.scores`), so VADER
  runs once per text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    SentimentIntensityAnalyzer,
    SentiText,
    normalize,
)


class _Vader(SentimentIntensityAnalyzer):  # type: ignore[misc]
    """VADER 3.3.2's scoring with shortcuts that keep its scores and save its time.

    - Stock VADER rebuilds the text one character at a time to swap emojis for their
      descriptions; one `str.translate` does it here (only single-character emojis can match
      there, and the extra spaces it leaves never change how VADER splits words).
    - Words outside the lexicon get their 0 directly instead of through
      `sentiment_valence`, which does nothing else for them.
    - The "but" rule runs only when the text contains "but" at all.
    Everything else is VADER's own methods; tests compare the results on real tweets.
    """

    def __init__(self) -> None:
        super().__init__()
        self._emoji_words = {ord(e): " " + words for e, words in self.emojis.items() if len(e) == 1}

    def valences(self, text: str) -> tuple[list[float], str]:
        """Per-word valences and the text VADER scored them in (emojis spelled out)."""
        text = text.translate(self._emoji_words).strip()
        sentitext = SentiText(text)
        words = sentitext.words_and_emoticons
        sentiments: list[float] = []
        for i, word in enumerate(words):
            lowered = word.lower()
            if (
                lowered not in self.lexicon
                or lowered in BOOSTER_DICT
                or (lowered == "kind" and i + 1 < len(words) and words[i + 1].lower() == "of")
            ):
                sentiments.append(0)  # not a sentiment word, or only a modifier
                continue
            sentiments = self.sentiment_valence(0, sentitext, word, i, sentiments)
        if "but" in text.lower():
            sentiments = self._but_check(words, sentiments)
        return sentiments, text

    def polarity_scores(self, text: str) -> dict[str, float]:
        return self.score_valence(*self.valences(text))  # type: ignore[no-any-return]


def _compound(total: float, emphasis: float) -> float:
    """VADER's compound from the summed word valences and the punctuation emphasis."""
    if not total:
        return 0.0
    return round(normalize(total + math.copysign(emphasis, total)), 4)


class Sentiment:
    """VADER with its lexicon updated by `lexicon` (word -> valence, about -4..4; 0 removes).

    Removing words that carry no sentiment in customer-service talk ("please", "help",
    "like") also makes VADER faster: it does its negation and idiom checks per lexicon word.
    """

    def __init__(self, lexicon: Mapping[str, float] | None = None) -> None:
        self._vader = _Vader()
        words = dict(self._vader.lexicon)
        for word, valence in (lexicon or {}).items():
            if valence:
                words[word.lower()] = valence
            else:
                words.pop(word.lower(), None)
        self._vader.lexicon = words

    def scores(self, text: str, valence: float = 0.0) -> tuple[float, float]:
        """VADER's compound for `text`, and the compound with `valence` added to it.

        The valence is added to VADER's sum of word valences before its punctuation emphasis
        and normalisation, exactly as if one more word of that valence were in the text.
        """
        sentiments, text = self._vader.valences(text)
        total = float(sum(sentiments))
        emphasis = self._vader._punctuation_emphasis(text) if total or valence else 0.0
        return _compound(total, emphasis), _compound(total + valence, emphasis)

    def compound(self, text: str) -> float:
        """VADER's compound score in [-1, 1] with the updated lexicon."""
        return self.scores(text)[0]
