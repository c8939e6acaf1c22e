"""How much slower is judging a post than bare VADER? Prints posts/s of both and the ratio.

Judging (language, the rules' evidence, the intent model, and for complaints category,
severity and risks) must keep >= 0.6x bare VADER's rate. Posts are synthetic (built from
fragments with a fixed seed) so the bench runs anywhere, without the shared data set. It
also prints the model file's size and load time.

    .venv/bin/python bench/rules_speed.py

It also prints what drafting a suggested reply costs per complaint (done when the alert is
sent, not in the pipeline).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from rules.judge import Judge
from rules.model import MODEL_FILE, IntentModel
from rules.replies import suggest_reply

OPENERS = ["@acme", "@AcmeHelp", "Hey @acme", "", "Wow @acme", "@acme @AcmeSupport", "RT @acme:"]
COMPLAINTS = [
    "my order #{n} never arrived",
    "been on hold for {n} hours",
    "the app keeps crashing when I log in",
    "flight delayed {n} hrs and no one at the desk",
    "charged me twice for the same bill",
    "still waiting for my refund after {n} weeks",
    "your agent was so rude &amp; unhelpful",
    "package arrived damaged, box crushed",
    "internet down again in my area",
    "what a joke, never again",
]
OTHERS = [
    "thanks for the quick fix, great service",
    "love the new update, works perfectly",
    "is the store open on sunday?",
    "can I change my booking to friday?",
    "the new menu is amazing 😍",
    "just landed in {n} degree weather, see you soon",
    "does the {n}GB plan include roaming?",
    "picked up my order, the staff were lovely",
    "any plans to open a store in Leeds?",
    "watching the game with a coffee from you guys",
]
CLOSERS = ["", "!!!", "?", " #fail", " 😡", " :)", " http://t.co/abc123", " Please help.", "..."]


def posts(count: int, seed: int = 7) -> list[str]:
    """Short posts, about a third of them complaints, as a brand's mentions tend to be."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        parts = [rng.choice(OPENERS)]
        for _ in range(rng.randint(1, 3)):
            pool = COMPLAINTS if rng.random() < 0.35 else OTHERS
            parts.append(rng.choice(pool).format(n=rng.randint(2, 48)))
        out.append(" ".join(p for p in parts if p) + rng.choice(CLOSERS))
    return out


def seconds(fn: Callable[..., object], texts: Sequence[str]) -> float:
    """Time to run `fn` on every text, or once on the list for a batch function."""
    start = time.perf_counter()
    if getattr(fn, "__name__", "").endswith("_many"):
        fn(texts)
    else:
        for text in texts:
            fn(text)
    return time.perf_counter() - start


def rates(fns: Sequence[Callable[[str], object]], texts: Sequence[str]) -> list[float]:
    """Posts/s of each function: per chunk of 500 posts, the best of five interleaved runs.

    Other work on a shared machine comes in bursts; timing small chunks alternately and
    keeping each chunk's quickest run compares the functions on equally quiet moments.
    """
    totals = [0.0] * len(fns)
    for at in range(0, len(texts), 500):
        chunk = texts[at : at + 500]
        best = [float("inf")] * len(fns)
        for _ in range(5):
            for i, fn in enumerate(fns):
                best[i] = min(best[i], seconds(fn, chunk))
        totals = [t + b for t, b in zip(totals, best, strict=True)]
    return [len(texts) / t for t in totals]


def main() -> None:
    texts = posts(20_000)
    vader = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    IntentModel.load()
    loaded = time.perf_counter() - started
    print(f"model file: {MODEL_FILE.stat().st_size / 1e6:.2f} MB, loads in {loaded * 1e3:.0f} ms")
    judge = Judge(brand_terms=["Acme"], brand_handles=["acme"])
    bare, judged = rates([vader.polarity_scores, judge.judge_many], texts)
    print(f"bare VADER polarity_scores: {bare:10,.0f} posts/s")
    print(f"Judge.judge_many (batches of 500, as the pipeline judges): {judged:10,.0f} posts/s")
    print(f"ratio judge/VADER:          {judged / bare:10.2f}  (target >= 0.60)")
    complaints = [(t, v.category) for t in texts if (v := judge.judge(t)).flagged]
    started = time.perf_counter()
    for n, (text, category) in enumerate(complaints):
        suggest_reply(category=category, network="x", handle="ann", text=text, seed=str(n))
    each = (time.perf_counter() - started) / len(complaints)
    print(f"suggested reply (drafted when its alert is sent): {each * 1e6:.1f} µs per complaint")


if __name__ == "__main__":
    main()
