"""How often the judgement flags everyday tweets that are not complaints to anyone.

Reads ../shared/datasets/tweeteval-sentiment (SemEval-2017 tweets on every topic, beside the
repository, never copied into it) and prints the share flagged as complaints per sentiment
label, beside plain VADER (compound < -0.05) and the hand-written rules' own score, all in
the same run. Lower is better for neutral and positive tweets; a negative everyday tweet
("Mondays...") is still not a complaint to a company, so lower is better there too.

    .venv/bin/python bench/eval_everyday.py [--split test|val] [--show 20]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from rules.complaint import default_rules
from rules.judge import default_judge
from rules.ruledata import load_rule_data

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "tweeteval-sentiment"
LABELS = ("negative", "neutral", "positive")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["test", "val"], default="test")
    parser.add_argument("--show", type=int, default=0, help="print N flagged tweets")
    args = parser.parse_args()
    text_file = DATA / f"{args.split}_text.txt"
    if not text_file.exists():
        print(f"{text_file} not found; this evaluation needs the shared data set", file=sys.stderr)
        return 1
    texts = text_file.read_text(encoding="utf-8").splitlines()
    labels = [LABELS[int(x)] for x in (DATA / f"{args.split}_labels.txt").read_text().split()]
    judge, rules, vader = default_judge(), default_rules(), SentimentIntensityAnalyzer()
    threshold = load_rule_data().flag_threshold
    methods = {
        "VADER compound < -0.05": lambda t: vader.polarity_scores(t)["compound"] < -0.05,
        "rules alone (before the model)": lambda t: rules.evidence(t).score >= threshold,
        "brandmon judgement": lambda t: judge.judge(t).flagged,
    }
    print(f"tweeteval {args.split}: {len(texts)} tweets; share flagged as complaints")
    print(f"  {'method':<32}" + "".join(f"{x:>10}" for x in (*LABELS, "all")))
    for name, flags in methods.items():
        flagged = [flags(t) for t in texts]
        shares = [
            sum(f for f, y in zip(flagged, labels, strict=True) if y == label) / labels.count(label)
            for label in LABELS
        ]
        overall = sum(flagged) / len(flagged)
        print(f"  {name:<32}" + "".join(f"{x:>10.3f}" for x in (*shares, overall)))
    if args.show:
        hits = [t for t in texts if judge.judge(t).flagged]
        for text in random.Random(0).sample(hits, min(args.show, len(hits))):
            print("-", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
