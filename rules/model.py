"""The shipped intent model: linear heads over `rules.features`, loaded from one small file.

`rules/data/intent_model.npz` (written by `python -m rules.train`) holds the feature names
and, per head, a weight matrix and biases: intent (six classes), category, severity (for
complaints) and one yes/no column per risk flag. Judging needs only NumPy: a post's
features become row numbers, and each head's scores are a weighted sum of those rows.

Word features are cached per word (a stream repeats its words all day), so most posts cost
a few dictionary lookups and one NumPy gather per head.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rules.features import NUMBER, char_grams, dense, tokens

MODEL_FILE = Path(__file__).resolve().parent / "data" / "intent_model.npz"
HEADS = ("intent", "category", "severity", "risk")
_CACHE_LIMIT = 200_000

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Head:
    """One linear classifier over the shared features: columns of the model's weights."""

    classes: tuple[str, ...]
    columns: slice  # this head's columns in the model's weight matrix
    multilabel: bool  # independent yes/no per class (risks) instead of one of the classes


Encoded = tuple[list[int], list[float]]  # one post's feature rows (may repeat) and values


@dataclass(frozen=True, slots=True)
class Scored:
    """Every head's raw scores for a batch of posts, from one gather of weight rows.

    Scoring a batch at once keeps NumPy's per-call cost (microseconds, as much as the
    arithmetic for one post) to a few calls per batch.
    """

    logits: list[list[float]]  # per post, the intent head's raw scores
    rows: npt.NDArray[np.intp]  # all posts' feature rows, post after post
    values: Floats
    owner: npt.NDArray[np.intp]  # the post each row belongs to
    gathered: Floats  # the intent head's weight rows of `rows`
    starts: list[int]  # where each post's rows begin
    model: IntentModel

    def all_heads(self, posts: Sequence[int]) -> dict[int, list[float]]:
        """Every head's raw scores for some posts (the other heads are needed for few)."""
        if not posts:
            return {}
        spans = [(self.starts[p], self.starts[p + 1]) for p in posts]
        pick = np.concatenate([np.arange(a, b) for a, b in spans])
        weighted = self.values[pick, None] * self.model.rest_weights[self.rows[pick]]
        offsets = list(itertools.accumulate((b - a for a, b in spans), initial=0))[:-1]
        rest = (np.add.reduceat(weighted, offsets, axis=0) + self.model.rest_bias).tolist()
        return {p: self.logits[p] + r for p, r in zip(posts, rest, strict=True)}


class IntentModel:
    """Loads the model file once; `features` then `probabilities` per post."""

    def __init__(
        self,
        vocabulary: Sequence[str],
        heads: Mapping[str, tuple[Sequence[str], Floats, Floats]],
        meta: dict,
    ) -> None:
        """`heads`: name -> (classes, weights features x classes, biases)."""
        self.vocabulary = tuple(vocabulary)
        self.index = {name: i for i, name in enumerate(self.vocabulary)}
        self.meta = meta
        self.heads: dict[str, Head] = {}
        start = 0
        for name, (classes, weights, _) in heads.items():
            stop = start + weights.shape[1]
            self.heads[name] = Head(tuple(classes), slice(start, stop), name == "risk")
            start = stop
        self.weights = np.ascontiguousarray(
            np.concatenate([w for _, w, _ in heads.values()], axis=1), dtype=np.float32
        )
        self.bias = np.concatenate([b for _, _, b in heads.values()]).astype(np.float32)
        # The intent head is read for every post, the others for few: two matrices, so the
        # gather for every post moves a quarter of the bytes.
        intent = self.heads["intent"].columns
        self.intent_weights = np.ascontiguousarray(self.weights[:, intent])
        self.intent_bias = self.bias[intent]
        self.rest_weights = np.ascontiguousarray(self.weights[:, intent.stop :])
        self.rest_bias = self.bias[intent.stop :]
        self.readable = np.array([_is_readable(n) for n in self.vocabulary], dtype=bool)
        # Word pairs by their two words: looked up without building "b:a b" for every pair.
        self._bigrams = {
            tuple(name[2:].split(" ", 1)): row
            for name, row in self.index.items()
            if name.startswith("b:")
        }
        self._words: dict[str, tuple[int, int, tuple[int, ...]]] = {}

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> IntentModel:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            vocabulary = bytes(data["vocabulary"]).decode("utf-8").split("\n")
            heads = {
                name: (
                    meta["classes"][name],
                    data[f"{name}_weights"].astype(np.float32),
                    data[f"{name}_bias"].astype(np.float32),
                )
                for name in HEADS
                if f"{name}_weights" in data
            }
        return cls(vocabulary, heads, meta)

    def _word_rows(self, word: str) -> tuple[int, int, tuple[int, ...]]:
        """A word's character n-gram count, unigram row (-1: unknown) and known n-gram rows."""
        index = self.index
        grams = char_grams(word) if len(word) > 1 and word[0].isalpha() else []
        found = tuple(r for g in grams if (r := index.get("c:" + g, -1)) >= 0)
        rows = (len(grams), index.get("u:" + word, -1), found)
        if len(self._words) >= _CACHE_LIMIT:
            self._words.clear()
        self._words[word] = rows
        return rows

    def encode(self, text: str, lang: str, evidence: Mapping[str, float]) -> Encoded:
        """The same features and values as `rules.features.featurise`, as row numbers."""
        words = tokens(text)
        index = self.index
        rows: list[int] = []
        values: list[float] = []
        if words:
            cache = self._words
            unigrams: list[int] = []
            chars: list[int] = []
            char_count = 0
            for word in words:
                count, unigram, grams = cache.get(word) or self._word_rows(word)
                char_count += count
                if unigram >= 0 and word != NUMBER:
                    unigrams.append(unigram)
                chars.extend(grams)
            pairs = self._bigrams
            bigrams = [
                r for pair in itertools.pairwise(["<s>", *words]) if (r := pairs.get(pair, -1)) >= 0
            ]
            counted = len(words) - words.count(NUMBER)  # numbers are no unigram (features.py)
            rows = unigrams + bigrams
            values = [1.0 / math.sqrt(counted)] * len(unigrams) if counted else []
            values += [1.0 / math.sqrt(len(words))] * len(bigrams)
            if chars:
                rows += chars
                values += [1.0 / math.sqrt(char_count)] * len(chars)
        named = dense(text, words, evidence)
        named["lang:" + lang] = 1.0
        for name, value in named.items():
            if value and (row := index.get(name, -1)) >= 0:
                rows.append(row)
                values.append(value)
        return rows, values

    def score(self, encoded: Sequence[Encoded]) -> Scored:
        """The intent head's raw scores for each encoded post (`Scored.all_heads` for more)."""
        counts = [len(rows) for rows, _ in encoded]
        rows = np.fromiter(itertools.chain.from_iterable(r for r, _ in encoded), np.intp)
        values = np.fromiter(itertools.chain.from_iterable(v for _, v in encoded), np.float32)
        owner = np.repeat(np.arange(len(encoded), dtype=np.intp), counts)
        gathered = self.intent_weights[rows]
        weighted = values[:, None] * gathered
        starts = list(itertools.accumulate(counts, initial=0))
        if all(counts):  # every post has rows (its language's at least): sum runs of rows
            sums = np.add.reduceat(weighted, starts[:-1], axis=0)
        else:
            sums = np.zeros((len(encoded), gathered.shape[1]), dtype=np.float32)
            np.add.at(sums, owner, weighted)
        logits = (sums + self.intent_bias).tolist()
        return Scored(logits, rows, values, owner, gathered, starts, self)

    def probabilities(self, head: str, logits: list[float]) -> dict[str, float]:
        """Class probabilities of one head (softmax, or per-class sigmoid for risks)."""
        spec = self.heads[head]
        mine = logits[spec.columns]
        if spec.multilabel:
            probs = [1.0 / (1.0 + math.exp(-min(max(x, -60.0), 60.0))) for x in mine]
        else:
            top = max(mine)
            exps = [math.exp(x - top) for x in mine]
            total = sum(exps)
            probs = [e / total for e in exps]
        return dict(zip(spec.classes, probs, strict=True))

    def contributions(
        self,
        head: str,
        chosen: Sequence[str],
        rival: Sequence[str],
        scored: Scored,
        *,
        top: int = 6,
    ) -> list[list[tuple[str, float]]]:
        """Per post, the readable features that made it `chosen` rather than `rival`.

        A push is the feature's value times (its weight for the chosen class minus its
        weight for the rival): "why a complaint and not chatter". Only features a person can
        read count (`readable`): words, word pairs and named evidence, never n-grams.
        """
        spec = self.heads[head]
        out: list[list[tuple[str, float]]] = [[] for _ in chosen]
        if head != "intent":
            raise ValueError("reasons are given for the intent head")
        keep = self.readable[scored.rows]
        if not keep.any():
            return out
        weights = scored.gathered[keep]
        owner = scored.owner[keep]
        wanted = np.array([spec.classes.index(c) for c in chosen], dtype=np.intp)[owner]
        against = np.array([spec.classes.index(c) for c in rival], dtype=np.intp)[owner]
        picked = np.arange(len(owner))
        pushes = scored.values[keep] * (weights[picked, wanted] - weights[picked, against])
        order = np.lexsort((-pushes, owner))
        owner, pushes = owner[order], pushes[order]
        first = np.searchsorted(owner, owner)  # where each post's run begins
        pick = ((np.arange(len(owner)) - first) < top) & (pushes > 0)  # its best few only
        rows = scored.rows[keep][order][pick].tolist()
        vocabulary = self.vocabulary
        for row, post, push in zip(rows, owner[pick].tolist(), pushes[pick].tolist(), strict=True):
            out[post].append((vocabulary[row], push))
        return out


# Words too common to explain anything ("the word 'on'").
_FUNCTION_WORD_LIST = (
    # en
    "a an the and or but if of on in at to for from by with about as into is are was were be "
    "been am do does did have has had i me my we our you your he she it its they them their "
    "this that these those there here so too very just not no what when how why who which "
    "can could will would should may might must shall than then "
    # de, fr, es, nl, it, pt, pl
    "der die das und ist nicht ein eine ich du es sie wir mit von zu auf für den dem im mein "
    "le la les de des et est un une je tu il elle nous vous pas ne que qui pour avec sur dans "
    "du au mon ma el los las del y es yo en con por para mi het een en niet ik je jij met van "
    "op voor mijn dat lo gli di è io che non per mio mia o os as do da é um uma eu não em com "
    "meu minha i w z na nie to jest się że ja ty my mój moja"
)
_FUNCTION_WORDS = frozenset(_FUNCTION_WORD_LIST.split())


def _is_readable(name: str) -> bool:
    """Whether a person can read this feature as a reason: words, pairs, named evidence."""
    kind, _, rest = name.partition(":")
    if kind == "u":
        return rest[:1].isalpha() and rest not in _FUNCTION_WORDS and len(rest) > 2
    if kind == "b":
        words = rest.split(" ")
        return all(w[:1].isalpha() for w in words) and not all(w in _FUNCTION_WORDS for w in words)
    return kind in {"rule", "shape", "mix"}


@cache
def shipped_model() -> IntentModel:
    """The model file shipped in the package, loaded once per process."""
    return IntentModel.load()
