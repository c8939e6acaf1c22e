"""What the intent model reads in a post: words, word pairs, pieces of words, and evidence.

Training (`rules/train.py`) and judging read posts through this one module, so the model
sees at run time exactly what it was trained on.

- Words and word pairs, lowercased, with handles, links and numbers replaced by one token
  each (`@KestrelHelp` and `@united` mean the same thing to the model: "addressed to
  someone"), so the model learns how people complain, not which brands they name.
- Character 3- and 4-grams of each word ("refund", "refunds", "Rückerstattung"): spelling
  mistakes, inflection and compounds in German or Dutch share pieces even when the whole
  word was never seen in training.
- Named evidence from the hand-written rules (English only: they are English phrases and
  VADER is an English lexicon) and the post's shape (a question mark at the end, a link,
  shouting): few, readable, and what the reasons quote.

Each n-gram counts as often as it occurs, and each block is scaled by 1/sqrt(its size), so
a long post does not outweigh a short one by the count of its words alone. Counting (not
just noting) each n-gram lets the judge cache each word's rows and add them up.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping

_TOKEN = re.compile(
    r"https?://\S+|www\.\S+|@\w+|#\w+|\d+(?:[.,:/]\d+)*(?:st|nd|rd|th)?\b|"
    r"[^\W\d_]+(?:'[^\W\d_]+)*|[!?]+|[^\w\s]"
)
NUMBER = "<num>"
_EMOJI_FROM = 0x2190  # arrows, symbols, dingbats and emoji: kept as tokens of their own
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def tokens(text: str) -> list[str]:
    """The post's words as the model reads them (see the module docstring)."""
    out: list[str] = []
    append = out.append
    for token in _TOKEN.findall(text.translate(_APOSTROPHES).lower()):
        if token.isalpha():  # most tokens: a plain word (links hold ':' or '.')
            append(token)
            continue
        first = token[0]
        if first.isalpha() and not token.startswith(("http", "www.")):
            append(token)  # a word with an apostrophe
        elif first == "@":
            continue  # who a post is addressed to says nothing about what it says
        elif first == "#" and len(token) > 1:
            out.append(token)
            out.append(token[1:])
        elif first.isdigit():
            out.append(NUMBER)
        elif first.isalpha():
            continue  # a link: photos in complaints, offers in spam; no evidence either way
        elif first in "!?" or ord(first) >= _EMOJI_FROM:
            out.append(first)
    return out


def char_grams(word: str) -> list[str]:
    """Character 3- and 4-grams of one word, with its edges marked ("#ref", "und#")."""
    padded = f"#{word}#"
    size = len(padded)
    return [padded[i : i + n] for n in (4,) for i in range(size - n + 1)]


_LETTER = re.compile(r"[^\W\d_]")
_SHOUTED = re.compile(r"\b[^\W\d_a-z]{3,}\b")  # a word of three or more capitals


def shape(text: str, words: list[str]) -> dict[str, float]:
    """Features of the post's form, not its words."""
    shouted = len(_SHOUTED.findall(text)) if not text.islower() else 0
    return {
        "shape:ends_question": 1.0 if text.rstrip().endswith("?") else 0.0,
        "shape:starts_handle": 1.0 if text.lstrip().startswith("@") else 0.0,
        "shape:shouting": min(shouted / (len(words) or 1) * 2.0, 1.0),
        "shape:no_words": 0.0 if _LETTER.search(text) else 1.0,
    }


def dense(text: str, words: list[str], evidence: Mapping[str, float]) -> dict[str, float]:
    """The post's shape, the rules' evidence, and where they meet.

    A linear model cannot see that a question asked in anger ("do you have any pride in
    your service?") is a complaint while a calm one is not, nor that a negative post
    addressed to an account differs from a negative post about Mondays: the products of
    shape and sentiment say it.
    """
    out = shape(text, words)
    out.update(evidence)
    negative = evidence.get("rule:sentiment_neg", 0.0)
    if negative:
        out["mix:question_negative"] = negative * out["shape:ends_question"]
        out["mix:addressed_negative"] = negative * out["shape:starts_handle"]
    return out


def sparse_names(words: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Unigram, bigram and character n-gram feature names of a tokenised post.

    A number alone is no evidence (dates, scores, prices are everywhere); "<num> hours" is.
    """
    unigrams = ["u:" + w for w in words if w != NUMBER]
    padded = ["<s>", *words]
    bigrams = [f"b:{a} {b}" for a, b in itertools.pairwise(padded)]
    chars = ["c:" + gram for w in words if len(w) > 1 and w[0].isalpha() for gram in char_grams(w)]
    return unigrams, bigrams, chars


def featurise(text: str, lang: str, evidence: Mapping[str, float]) -> dict[str, float]:
    """Every feature of one post with its value: the training side of the model.

    `evidence` holds the rules' named figures for the post (empty for languages the rules
    do not cover). Judging uses `rules.model.IntentModel`, which computes the same values
    with its caches.
    """
    words = tokens(text)
    features: dict[str, float] = {}
    for block in sparse_names(words):
        if block:
            weight = 1.0 / math.sqrt(len(block))
            for name in block:
                features[name] = features.get(name, 0.0) + weight
    features.update({k: v for k, v in dense(text, words, evidence).items() if v})
    features["lang:" + lang] = 1.0
    return features
