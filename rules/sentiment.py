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
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    SentiText,
    normalize,
)

_NEGATIONS = frozenset(NEGATE)


def _negated(word: str) -> bool:
    """VADER's `negated` for one lowercase word, without rebuilding its word list."""
    return word in _NEGATIONS or "n't" in word


class _Vader(SentimentIntensityAnalyzer):  # type: ignore[misc]
    """VADER 3.3.2's scoring with shortcuts that keep its scores and save its time.

    - Stock VADER rebuilds the text one character at a time to swap emojis for their
      descriptions; one `str.translate` does it here (only single-character emojis can match
      there, and the extra spaces it leaves never change how VADER splits words).
    - Words outside the lexicon get their 0 directly instead of through
      `sentiment_valence`, which does nothing else for them.
    - The "but" rule runs only when the text contains "but" at all.
    - The negation and idiom checks lowercase the few words they read, where stock VADER
      lowercases the whole post for every sentiment word it checks.
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

    @staticmethod
    def _negation_check(valence: float, words: list[str], start_i: int, i: int) -> float:
        if start_i == 0:
            if _negated(words[i - 1].lower()):
                valence = valence * N_SCALAR
        elif start_i == 1:
            w2, w1 = words[i - 2].lower(), words[i - 1].lower()
            if w2 == "never" and (w1 == "so" or w1 == "this"):
                valence = valence * 1.25
            elif w2 == "without" and w1 == "doubt":
                pass
            elif _negated(w2):
                valence = valence * N_SCALAR
        elif start_i == 2:
            w3, w2, w1 = words[i - 3].lower(), words[i - 2].lower(), words[i - 1].lower()
            if (w3 == "never" and (w2 == "so" or w2 == "this")) or (w1 == "so" or w1 == "this"):
                valence = valence * 1.25
            elif w3 == "without" and (w2 == "doubt" or w1 == "doubt"):
                pass
            elif _negated(w3):
                valence = valence * N_SCALAR
        return valence

    @staticmethod
    def _special_idioms_check(valence: float, words: list[str], i: int) -> float:
        w3, w2, w1, w0 = (words[k].lower() for k in range(i - 3, i + 1))  # VADER: i >= 3
        twoone, threetwo, threetwoone = f"{w2} {w1}", f"{w3} {w2}", f"{w3} {w2} {w1}"
        for seq in (f"{w1} {w0}", f"{w2} {w1} {w0}", twoone, threetwoone, threetwo):
            if seq in SPECIAL_CASES:
                valence = SPECIAL_CASES[seq]
                break
        if len(words) - 1 > i:
            after = words[i + 1].lower()
            if f"{w0} {after}" in SPECIAL_CASES:
                valence = SPECIAL_CASES[f"{w0} {after}"]
            if len(words) - 1 > i + 1:
                seq = f"{w0} {after} {words[i + 2].lower()}"
                if seq in SPECIAL_CASES:
                    valence = SPECIAL_CASES[seq]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in BOOSTER_DICT:
                valence = valence + BOOSTER_DICT[n_gram]
        return valence

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
