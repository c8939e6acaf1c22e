"""How much a brand's labels improve its judgement: the flag after 50, 200 and 1,000 labels.

Labels are tweets from the airline data's tune half (even ids) with their human sentiment
(negative = a complaint), as a team's Slack presses would be; the flag is scored on the
check half (odd ids), which the labels never include. Each size is the mean of three
random draws. The shipped model's own figures are printed first, in the same run. Nothing
here is saved: the data set stays a measurement.

    .venv/bin/python bench/eval_learning.py
"""

from __future__ import annotations

import csv
import html
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rules.brand_model import fit_adjustment
from rules.judge import Judge

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "airline" / "dev.csv"
SIZES = (50, 200, 1000)
DRAWS = 3


def prf(flags: list[bool], gold: list[bool]) -> tuple[float, float, float]:
    tp = sum(f and g for f, g in zip(flags, gold, strict=True))
    p = tp / max(sum(flags), 1)
    r = tp / max(sum(gold), 1)
    return p, r, 2 * p * r / max(p + r, 1e-9)


def main() -> int:
    if not DATA.exists():
        print(f"{DATA} not found; this evaluation needs the shared data set", file=sys.stderr)
        return 1
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = [{**r, "text": html.unescape(r["text"])} for r in csv.DictReader(handle)]
    tune = [r for r in rows if int(r["tweet_id"]) % 2 == 0]
    check = [r for r in rows if int(r["tweet_id"]) % 2 == 1]
    gold = [r["airline_sentiment"] == "negative" for r in check]
    judge = Judge()
    texts = [r["text"] for r in check]
    shipped = prf([v.flagged for v in judge.judge_many(texts, ["en"] * len(texts))], gold)
    print(f"airline check half: {len(check)} tweets; labels drawn from the tune half")
    print(f"  {'labels':>8}  precision  recall     F1   fit time")
    print(f"  {'shipped':>8}  {shipped[0]:9.3f}  {shipped[1]:6.3f}  {shipped[2]:5.3f}")
    model = judge.model
    rows = [judge.learning_row(r["text"], "en") for r in tune]
    encode = [encoded for encoded, _ in rows]
    offsets = [prior for _, prior in rows]
    for size in SIZES:
        figures, seconds = [], 0.0
        for draw in range(DRAWS):
            pick = random.Random(draw).sample(range(len(tune)), size)
            started = time.perf_counter()
            adjustment = fit_adjustment(
                model,
                [encode[i] for i in pick],
                [tune[i]["airline_sentiment"] == "negative" for i in pick],
                [offsets[i] for i in pick],
            )
            seconds += time.perf_counter() - started
            judge.adjustment = adjustment
            flags = [v.flagged for v in judge.judge_many(texts, ["en"] * len(texts))]
            figures.append(prf(flags, gold))
            judge.adjustment = None
        p, r, f = (sum(x[k] for x in figures) / DRAWS for k in range(3))
        print(f"  {size:>8}  {p:9.3f}  {r:6.3f}  {f:5.3f}   {seconds / DRAWS:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
