"""Measure the judgement on real labelled tweets to US airlines.

Reads ../shared/datasets/airline/dev.csv (beside the repository; never copied into it) and
prints precision, recall and F1 of:
- the complaint flag against `airline_sentiment == negative`, beside plain VADER and the
  hand-written rules' own score (the judgement before the learned model) in the same run,
- the customer-service detector against `negativereason == "Customer Service Issue"`,
- the category, as macro-F1 over the labelled reasons mapped onto our categories.

Rows are split by tweet id: the rules were tuned by reading only the even half ("tune"); the
odd half ("check") was never read. The model never saw either: it is trained on the
project's own corpus (rules/corpus/), never on this file.
Every tweet @mentions its airline, so every post counts as aimed at the brand.

    .venv/bin/python bench/eval_airline.py            # figures
    .venv/bin/python bench/eval_airline.py --errors   # some mistakes, from the tune half only
"""

from __future__ import annotations

import argparse
import csv
import html
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from rules.complaint import default_rules
from rules.judge import Verdict, default_judge
from rules.ruledata import load_rule_data

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "airline" / "dev.csv"

# How the labelled reasons map onto our categories, for the category macro-F1 (over the five
# classes below, negative tweets only):
# - the airline labels do not separate waiting from staff attitude ("Customer Service Issue"
#   covers both, "longlines" is waiting, "Flight Attendant Complaints" is staff), so
#   wait_time and staff are scored as one class: service;
# - refund_billing and outage have no airline reason; a tweet we put there counts as a miss
#   for its labelled class, as does an unflagged or uncategorised one;
# - "Can't Tell" tweets are left out (no class to be right or wrong about).
# The customer-service detector is scored against "Customer Service Issue" alone, as asked,
# so rude flight attendants and long lines count against it even though they are staff and
# waiting to us.
GOLD = {
    "Customer Service Issue": "service",
    "Flight Attendant Complaints": "service",
    "longlines": "service",
    "Late Flight": "cancellation_delay",
    "Cancelled Flight": "cancellation_delay",
    "Lost Luggage": "delivery",
    "Damaged Luggage": "delivery",
    "Bad Flight": "product_quality",
    "Flight Booking Problems": "booking_account",
}
PREDICTED = {"wait_time": "service", "staff": "service"}

Row = dict[str, str]


def prf(pairs: Iterable[tuple[bool, bool]]) -> tuple[float, float, float]:
    """Precision, recall and F1 from (predicted, actual) pairs."""
    tp = fp = fn = 0
    for predicted, actual in pairs:
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def macro_f1(pairs: Sequence[tuple[str | None, str]]) -> tuple[float, dict[str, float]]:
    """Macro-F1 over the gold classes, from (predicted, gold) pairs; None predicts nothing."""
    per_class = {
        label: prf((p == label, g == label) for p, g in pairs)[2]
        for label in sorted({g for _, g in pairs})
    }
    return sum(per_class.values()) / len(per_class), per_class


def load(path: Path) -> list[Row]:
    """The rows, with the exported text's HTML entities decoded (as a connector does)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [{**r, "text": html.unescape(r["text"])} for r in csv.DictReader(handle)]


def report(
    name: str,
    rows: Sequence[Row],
    verdicts: Sequence[Verdict],
    vader: Sequence[float],
    rules_alone: Sequence[bool],
) -> None:
    negative = [r["airline_sentiment"] == "negative" for r in rows]
    service = [r["negativereason"] == "Customer Service Issue" for r in rows]
    predicted = {
        "VADER < -0.05": ([c < -0.05 for c in vader], negative),
        "rules alone": (list(rules_alone), negative),
        "complaint flag": ([v.flagged for v in verdicts], negative),
        "customer service": ([v.customer_service for v in verdicts], service),
    }
    print(f"\n{name}: {len(rows)} tweets, {sum(negative)} negative")
    for label, (guess, truth) in predicted.items():
        p, r, f = prf(zip(guess, truth, strict=True))
        print(f"  {label:<18} precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}")
    pairs = [
        (PREDICTED.get(v.category or "", v.category), GOLD[r["negativereason"]])
        for r, v in zip(rows, verdicts, strict=True)
        if r["airline_sentiment"] == "negative" and r["negativereason"] in GOLD
    ]
    macro, per_class = macro_f1(pairs)
    detail = "  ".join(f"{k} {v:.2f}" for k, v in per_class.items())
    print(f"  category macro-F1 {macro:.3f}  ({detail})")


def show_errors(
    rows: Sequence[Row], verdicts: Sequence[Verdict], keep: Callable[[Row, Verdict], bool]
) -> None:
    wrong = [(r, v) for r, v in zip(rows, verdicts, strict=True) if keep(r, v)]
    print(f"\n{len(wrong)} shown from:")
    for row, verdict in random.Random(0).sample(wrong, min(40, len(wrong))):
        print(f"- [{row['airline_sentiment']}/{row['negativereason'] or '-'}] {row['text']!r}")
        print(f"    {verdict.category} cs={verdict.customer_service} {'; '.join(verdict.reasons)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=["fp", "fn", "category", "cs"], help="show mistakes")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"{DATA} not found; this evaluation needs the shared data set", file=sys.stderr)
        return 1
    rows = load(DATA)
    judge = default_judge()
    analyzer = SentimentIntensityAnalyzer()
    verdicts = [judge.judge(r["text"], "en") for r in rows]
    threshold = load_rule_data().flag_threshold
    rules_alone = [default_rules().evidence(r["text"]).score >= threshold for r in rows]
    vader = [analyzer.polarity_scores(html.unescape(r["text"]))["compound"] for r in rows]
    if args.errors:
        tune = [i for i, r in enumerate(rows) if int(r["tweet_id"]) % 2 == 0]
        checks: dict[str, Callable[[Row, Verdict], bool]] = {
            "fp": lambda r, v: v.flagged and r["airline_sentiment"] != "negative",
            "fn": lambda r, v: not v.flagged and r["airline_sentiment"] == "negative",
            "category": lambda r, v: (
                r["negativereason"] in GOLD
                and PREDICTED.get(v.category or "", v.category) != GOLD[r["negativereason"]]
            ),
            "cs": lambda r, v: (
                v.customer_service != (r["negativereason"] == "Customer Service Issue")
            ),
        }
        show_errors([rows[i] for i in tune], [verdicts[i] for i in tune], checks[args.errors])
        return 0
    halves = {
        "tune (even tweet ids, read while tuning)": lambda r: int(r["tweet_id"]) % 2 == 0,
        "check (odd tweet ids, never read)": lambda r: int(r["tweet_id"]) % 2 == 1,
        "all of dev.csv": lambda r: True,
    }
    for name, keep in halves.items():
        index = [i for i, r in enumerate(rows) if keep(r)]
        report(
            name,
            [rows[i] for i in index],
            [verdicts[i] for i in index],
            [vader[i] for i in index],
            [rules_alone[i] for i in index],
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
