"""Hand-written phrases compiled into one fast regular expression.

Rules are written as plain phrases so that an operator can add their own in config.yaml
without learning regular expressions. A phrase is lowercase words separated by spaces, with
a few marks:

- `a|b`   either word in this slot (`hour|hours|hrs`); `_` joins words within one
          alternative (`log_in|login|sign_in`)
- `word*` any word starting with `word` (`cancel*`: cancel, cancelled, cancellation)
- `#`     a number, in digits or words (`2`, `2.5`, `two`, `an`, `several`); `2hrs` counts
- `...`   up to three words of anything (`never ... again`)
- `^`     as the first mark: only at the start of the post, after leading @handles
- `'`     optional (`can't` also matches `cant`)

All phrases go into one compiled pattern shaped as a character trie ("no one", "no reply"
and "not working" share "no"), because a flat alternation of hundreds of phrases makes the
regex engine try every phrase at every word and costs more than VADER itself. The pattern
has no capturing groups (with hundreds of groups the engine copies its group marks at every
branch); which phrase matched is looked up afterwards, once per distinct matched text.
Longer phrases are tried first, so "on hold for 2 hours" wins over "on hold".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DIGITS = r"\d+(?:[.,:]\d+)?\+?"
NUMBER_WORDS = (  # noqa: SIM905 - a word list reads better as one string
    "an one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty "
    "forty fifty sixty ninety several few couple multiple many"
).split()
NUMBER = "(?:" + "|".join([DIGITS, *NUMBER_WORDS]) + ")"
# Word-initial letters of English, most frequent first: trie branches are tried in this
# order, and literal branches never overlap, so the order changes speed, not results.
_LETTERS = {c: i for i, c in enumerate("tasowicbpmhfdrlnegyuvkjqzx")}
GAP = r"(?:[\w'@#]+\W+){0,3}?"
START = r"^(?:\W*@\w+\b)*\W*"
_WORD = re.compile(r"[\w'#@$%&+/.!?-]+\*?")


class PhraseError(ValueError):
    """A phrase that cannot be compiled, with the phrase in the message."""


def _word(word: str) -> str:
    """One literal word: escaped, `'` optional, a trailing `*` allows any ending."""
    prefix = word.endswith("*")
    body = re.escape(word.rstrip("*")).replace("'", "'?").replace("_", r"\W+")
    return body + (r"\w*" if prefix else "")


def _slot(token: str) -> str:
    if token == "#":
        return NUMBER
    if token == "...":
        return GAP
    words = token.split("|")
    if any(not w or not _WORD.fullmatch(w) for w in words):
        raise PhraseError(f"bad word {token!r}")
    return _word(words[0]) if len(words) == 1 else "(?:" + "|".join(map(_word, words)) + ")"


def _rest(tokens: Sequence[str]) -> str:
    """Regex for the tokens after the first, each preceded by its separator."""
    out: list[str] = []
    prev = tokens[0]
    for token in tokens[1:]:
        if token == "...":
            out.append(r"\W+" + GAP)
        elif prev == "...":
            out.append(_slot(token))
        else:
            out.append((r"\W*" if prev == "#" else r"\W+") + _slot(token))
        prev = token
    if tokens[-1] == "...":
        raise PhraseError("a phrase cannot end with '...'")
    if not tokens[-1].endswith("*"):
        out.append(r"(?!\w)")
    return "".join(out)


def _atoms(word: str) -> list[str]:
    """A literal word as one regex atom per character, so the trie can share prefixes."""
    atoms = ["'?" if c == "'" else r"\W+" if c == "_" else re.escape(c) for c in word.rstrip("*")]
    return [*atoms, r"\w*"] if word.endswith("*") else atoms


def _literal(token: str) -> bool:
    return token not in ("#", "...") and "|" not in token


@dataclass(frozen=True, slots=True)
class _Variant:
    """One way a phrase can start: its regex as trie atoms, and how specific it is."""

    anchored: bool
    atoms: tuple[str, ...]
    size: int
    rule: int

    @property
    def regex(self) -> str:
        return "".join(self.atoms)


def _variants(phrase: str, rule: int) -> list[_Variant]:
    """One variant per alternative of the first slot; leading literal words become atoms."""
    tokens = phrase.lower().split()
    anchored = bool(tokens) and tokens[0] == "^"
    tokens = tokens[1:] if anchored else tokens
    if not tokens or tokens[0] == "...":
        raise PhraseError(f"phrase {phrase!r} must start with a word or '#'")
    for token in tokens:
        _slot(token)  # validates every word
    rest = sum(_words(token) for token in tokens[1:])
    first = [DIGITS, *NUMBER_WORDS] if tokens[0] == "#" else tokens[0].split("|")
    heads = [[alt] if alt == DIGITS else _atoms(alt) for alt in first]
    end = 1
    while end < len(tokens) and _literal(tokens[end]) and _literal(tokens[end - 1]):
        end += 1
    middle: list[str] = []
    for token in tokens[1:end]:
        middle += [r"\W+", *_atoms(token)]
    tail = [_rest(tokens[end - 1 :])]  # empty after a final `word*`
    tail_atoms = (*middle, *filter(None, tail))
    return [
        _Variant(anchored, (*h, *tail_atoms), _words(alt) + rest, rule)
        for alt, h in zip(first, heads, strict=True)
    ]


def _words(token: str) -> int:
    """How many words a slot can span: its longest alternative (`log_in` is two)."""
    return max(len(alt.split("_")) for alt in token.split("|"))


_END = ""


def _trie(variants: Iterable[_Variant]) -> str:
    """Alternation of the variants with shared prefixes factored out, longest phrases first."""
    root: dict[str, dict] = {}
    sizes: dict[int, int] = {}
    for variant in variants:
        node = root
        for atom in variant.atoms:
            sizes[id(node)] = max(sizes.get(id(node), 0), variant.size)
            node = node.setdefault(atom, {})
        sizes[id(node)] = max(sizes.get(id(node), 0), variant.size)
        node[_END] = {}

    def order(atom: str, child: dict[str, dict]) -> tuple[int, int]:
        literal = len(atom) == 1 or (len(atom) == 2 and atom[0] == "\\")
        return (_LETTERS.get(atom[-1], len(_LETTERS)), 0) if literal else (99, -sizes[id(child)])

    def emit(node: dict[str, dict]) -> str:
        children = sorted((k for k in node if k != _END), key=lambda k: order(k, node[k]))
        alts = [atom + emit(node[atom]) for atom in children]
        if _END in node:
            alts.append("")
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(root) if root else ""


class PhraseMatcher(Generic[T]):
    """Finds every listed phrase in lowercased text in one regex pass (plus one at the start).

    Matches do not overlap, except that a start-of-post phrase (`^`) is looked for on its
    own; at one position the phrase with more words wins.
    """

    CACHE_LIMIT = 50_000

    def __init__(self, rules: Iterable[tuple[str, T]]) -> None:
        self._rules: list[tuple[str, T]] = []
        variants: list[_Variant] = []
        for phrase, payload in rules:
            variants += _variants(phrase, len(self._rules))
            self._rules.append((phrase, payload))
        variants.sort(key=lambda v: -v.size)
        anchored = _trie(v for v in variants if v.anchored)
        free = _trie(v for v in variants if not v.anchored)
        self._start = re.compile(START + anchored) if anchored else None
        self._free = re.compile(r"(?<![\w'@])" + free if free else r"(?!)")
        # Candidates for naming a match, by its first character; "^" holds the start-of-post
        # phrases and "" those starting with digits.
        self._candidates: dict[str, list[tuple[re.Pattern[str], int]]] = defaultdict(list)
        for v in variants:
            key = "^" if v.anchored else "" if v.atoms[0] == DIGITS else v.atoms[0][-1]
            pattern = re.compile((START if v.anchored else "") + v.regex)
            self._candidates[key].append((pattern, v.rule))
        self._named: dict[str, tuple[str, T]] = {}

    def _name(self, key: str, lowered: str, match: re.Match[str]) -> tuple[str, T] | None:
        """The text to show and the payload of the phrase that made `match`, remembered.

        Run once per distinct matched text: `find` looks the key up in `_named` first.
        """
        start, end = match.span()
        anchored = key.startswith("^")
        options = self._candidates["^" if anchored else lowered[start]] + self._candidates[""]
        for pattern, index in options:
            found = pattern.match(lowered, start)
            if found is not None and found.end() == end:
                text = _HANDLES.sub("", found.group()) if anchored else found.group()
                text = _NOT_WORD.sub(" ", text).strip()
                if len(self._named) >= self.CACHE_LIMIT:
                    self._named.clear()
                self._named[key] = hit = (text, self._rules[index][1])
                return hit
        return None

    def find(self, lowered: str) -> list[tuple[str, T]]:
        """(matched words, payload) for every phrase in `lowered` (lowercased), in text order.

        The matched words are the post's own, with punctuation between them squeezed to one
        space: "on hold for 2 hours", never markup.
        """
        named = self._named
        hits = []
        if self._start is not None and (match := self._start.match(lowered)) is not None:
            key = "^" + match.group()
            hit = named.get(key) or self._name(key, lowered, match)
            if hit is not None:
                hits.append(hit)
        for match in self._free.finditer(lowered):
            key = match.group()
            hit = named.get(key) or self._name(key, lowered, match)
            if hit is not None:
                hits.append(hit)
        return hits


_HANDLES = re.compile(START)
# Matched text is shown to people (Slack, HTML digests): keep words only, so a post's
# "<!channel>" or "<a href" inside a gap can never reach them as markup.
_NOT_WORD = re.compile(r"[^\w'#@.,:+-]+")
