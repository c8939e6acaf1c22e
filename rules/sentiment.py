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
import string
from collections.abc import Mapping

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    normalize,
)

_NEGATIONS = frozenset(NEGATE)


def _negated(word: str) -> bool:
    """VADER's `negated` for one lowercase word, without rebuilding its word list."""
    return word in _NEGATIONS or "n't" in word


class _Vader(SentimentIntensityAnalyzer):  # type: ignore[misc]
    """VADER 3.3.2's scoring, rewritten to keep its scores and save its time.

    - Stock VADER rebuilds the text one character at a time to swap emojis for their
      descriptions; one `str.translate` does it here, and only for posts that are not plain
      ASCII (only single-character emojis can match there, and the extra spaces it leaves
      never change how VADER splits words).
    - Each word is lowercased once, where stock VADER lowercases the whole post again for
      every sentiment word it checks; the checks then read that one lowercase list.
    - Words outside the lexicon get their 0 directly instead of through
      `sentiment_valence`, which does nothing else for them.
    - The "but" rule runs only when the post has the word "but".
    The rules, their order and their arithmetic are VADER's, step for step; tests compare the
    results with stock VADER on real tweets.
    """

    def __init__(self) -> None:
        super().__init__()
        self._emoji_words = {ord(e): " " + words for e, words in self.emojis.items() if len(e) == 1}

    def valences(self, text: str) -> tuple[list[float], str]:
        """Per-word valences and the text VADER scored them in (emojis spelled out)."""
        if not text.isascii():  # emojis are never ASCII: most posts skip the translation
            text = text.translate(self._emoji_words)
        text = text.strip()
        words = [
            stripped if len(stripped := token.strip(_PUNCTUATION)) > 2 else token
            for token in text.split()
        ]  # VADER's _strip_punc_if_word: ":)" keeps its punctuation
        if not words:
            return [], text
        # One lower() for the post; words hold no spaces, so splitting at them gives the
        # words back in order, each lowercased as alone (a space bounds every case context).
        lowered = " ".join(words).lower().split(" ")
        capitals = sum(map(str.isupper, words))
        cap_diff = 0 < len(words) - capitals < len(words)  # some words shout, not all
        lexicon = self.lexicon
        last = len(words) - 1
        sentiments: list[float] = [0] * len(words)  # 0: not a sentiment word, or a modifier
        for i in [i for i, word in enumerate(lowered) if word in lexicon]:
            word = lowered[i]
            if word in BOOSTER_DICT or (word == "kind" and i < last and lowered[i + 1] == "of"):
                continue
            sentiments[i] = self._valence(words, lowered, i, cap_diff)
        if "but" in lowered:
            sentiments = self._but_check(words, sentiments)
        return sentiments, text

    def _valence(self, words: list[str], lowered: list[str], i: int, cap_diff: bool) -> float:
        """VADER's `sentiment_valence` for the lexicon word at `i`."""
        lexicon = self.lexicon
        word = lowered[i]
        valence = lexicon[word]
        if word == "no" and i != len(words) - 1 and lowered[i + 1] in lexicon:
            valence = 0.0  # "no" negates the next word instead of counting itself
        if (
            (i > 0 and lowered[i - 1] == "no")
            or (i > 1 and lowered[i - 2] == "no")
            or (i > 2 and lowered[i - 3] == "no" and lowered[i - 1] in ("or", "nor"))
        ):
            valence = lexicon[word] * N_SCALAR
        if cap_diff and words[i].isupper():
            valence = valence + C_INCR if valence > 0 else valence - C_INCR
        for start_i in range(3):
            if i <= start_i:
                continue
            before = lowered[i - (start_i + 1)]
            if before in lexicon:
                continue
            scalar = 0.0
            if before in BOOSTER_DICT:  # VADER's scalar_inc_dec
                scalar = BOOSTER_DICT[before]
                if valence < 0:
                    scalar *= -1
                if cap_diff and words[i - (start_i + 1)].isupper():
                    scalar = scalar + C_INCR if valence > 0 else scalar - C_INCR
            if start_i == 1 and scalar != 0:
                scalar = scalar * 0.95
            if start_i == 2 and scalar != 0:
                scalar = scalar * 0.9
            valence = valence + scalar
            valence = _negation_check(valence, lowered, start_i, i)
            if start_i == 2:
                valence = _special_idioms_check(valence, lowered, i)
        if i > 1 and lowered[i - 1] == "least" and "least" not in lexicon:
            if lowered[i - 2] != "at" and lowered[i - 2] != "very":
                valence = valence * N_SCALAR
        elif i > 0 and lowered[i - 1] == "least" and "least" not in lexicon:
            valence = valence * N_SCALAR
        return valence

    def polarity_scores(self, text: str) -> dict[str, float]:
        return self.score_valence(*self.valences(text))  # type: ignore[no-any-return]


_PUNCTUATION = string.punctuation


def _negation_check(valence: float, lowered: list[str], start_i: int, i: int) -> float:
    """VADER's `_negation_check`, reading the lowercase words."""
    if start_i == 0:
        if _negated(lowered[i - 1]):
            valence = valence * N_SCALAR
    elif start_i == 1:
        w2, w1 = lowered[i - 2], lowered[i - 1]
        if w2 == "never" and (w1 == "so" or w1 == "this"):
            valence = valence * 1.25
        elif w2 == "without" and w1 == "doubt":
            pass
        elif _negated(w2):
            valence = valence * N_SCALAR
    elif start_i == 2:
        w3, w2, w1 = lowered[i - 3], lowered[i - 2], lowered[i - 1]
        if (w3 == "never" and (w2 == "so" or w2 == "this")) or (w1 == "so" or w1 == "this"):
            valence = valence * 1.25
        elif w3 == "without" and (w2 == "doubt" or w1 == "doubt"):
            pass
        elif _negated(w3):
            valence = valence * N_SCALAR
    return valence


def _special_idioms_check(valence: float, lowered: list[str], i: int) -> float:
    """VADER's `_special_idioms_check`, reading the lowercase words (VADER calls it at i >= 3)."""
    w3, w2, w1, w0 = lowered[i - 3], lowered[i - 2], lowered[i - 1], lowered[i]
    twoone, threetwo, threetwoone = f"{w2} {w1}", f"{w3} {w2}", f"{w3} {w2} {w1}"
    for seq in (f"{w1} {w0}", f"{w2} {w1} {w0}", twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    if len(lowered) - 1 > i:
        after = lowered[i + 1]
        if f"{w0} {after}" in SPECIAL_CASES:
            valence = SPECIAL_CASES[f"{w0} {after}"]
        if len(lowered) - 1 > i + 1:
            seq = f"{w0} {after} {lowered[i + 2]}"
            if seq in SPECIAL_CASES:
                valence = SPECIAL_CASES[seq]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


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
