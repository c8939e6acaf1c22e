"""The judgement on the bundled demo feed, by the kinds its README counts.

demo/labels.jsonl (the project's own labels, one per post of demo/feed.jsonl) says what each
post is as a speech act. Prints precision and recall of the complaint flag, and how many
praise, question, spam and off-topic posts are flagged, beside plain VADER and the rules'
own score in the same run. The brand's own posts are not judged by the daemon and are left
out here too.

    .venv/bin/python bench/eval_demo.py [--errors]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from rules.complaint import ComplaintRules
from rules.judge import Judge
from rules.ruledata import load_rule_data

DEMO = Path(__file__).resolve().parents[1] / "demo"
NOT_COMPLAINTS = ("praise", "question", "chatter", "spam", "off_topic")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="print every wrong flag")
    args = parser.parse_args()
    posts = [json.loads(line) for line in (DEMO / "feed.jsonl").open(encoding="utf-8")]
    labels = [json.loads(line) for line in (DEMO / "labels.jsonl").open(encoding="utf-8")]
    pairs = [(p, lab) for p, lab in zip(posts, labels, strict=True) if lab["intent"] != "brand"]
    assert all(p["id"] == lab["id"] for p, lab in pairs)
    judge = Judge(brand_terms=["Kestrel"], brand_handles=["KestrelHelp", "Kestrel"])
    rules = ComplaintRules(brand_terms=["Kestrel"], brand_handles=["KestrelHelp", "Kestrel"])
    vader = SentimentIntensityAnalyzer()
    threshold = load_rule_data().flag_threshold
    verdicts = judge.judge_many([p["text"] for p, _ in pairs], [p.get("lang") for p, _ in pairs])
    methods: dict[str, Callable[[int], bool]] = {
        "VADER compound < -0.05": lambda i: (
            vader.polarity_scores(pairs[i][0]["text"])["compound"] < -0.05
        ),
        "rules alone (before the model)": lambda i: (
            rules.evidence(pairs[i][0]["text"]).score >= threshold
        ),
        "brandmon judgement": lambda i: verdicts[i].flagged,
    }
    gold = [lab["intent"] == "complaint" for _, lab in pairs]
    intents = Counter(lab["intent"] for _, lab in pairs)
    print(f"demo feed: {len(pairs)} posts by others, {sum(gold)} complaints")
    head = "".join(f"{k:>10}" for k in NOT_COMPLAINTS)
    print(f"  {'method':<32}{'precision':>10}{'recall':>8}{'F1':>7}   flagged: {head}")
    for name, flags in methods.items():
        flagged = [flags(i) for i in range(len(pairs))]
        tp = sum(f and g for f, g in zip(flagged, gold, strict=True))
        p = tp / max(sum(flagged), 1)
        r = tp / max(sum(gold), 1)
        f1 = 2 * p * r / max(p + r, 1e-9)
        wrong = Counter(lab["intent"] for f, (_, lab) in zip(flagged, pairs, strict=True) if f)
        counts = "".join(f"{wrong[k]:>4} of {intents[k]:<3}" for k in NOT_COMPLAINTS)
        print(f"  {name:<32}{p:>10.3f}{r:>8.3f}{f1:>7.3f}   {counts}")
    kinds = Counter(lab["kind"] for _, lab in pairs)
    found = Counter(lab["kind"] for v, (_, lab) in zip(verdicts, pairs, strict=True) if v.flagged)
    complaints = Counter(lab["kind"] for _, lab in pairs if lab["intent"] == "complaint")
    hit = Counter(
        lab["kind"]
        for v, (_, lab) in zip(verdicts, pairs, strict=True)
        if v.flagged and lab["intent"] == "complaint"
    )
    print("  by kind (brandmon): complaints found / complaints, flagged / posts")
    for kind in sorted(kinds):
        found_of = f"{hit[kind]:>3} / {complaints[kind]:<3}"
        print(f"    {kind:<16} {found_of}  {found[kind]:>3} / {kinds[kind]}")
    if args.errors:
        for v, (post, lab) in zip(verdicts, pairs, strict=True):
            if v.flagged != (lab["intent"] == "complaint"):
                print(f"- [{lab['intent']}/{lab['kind']}] {post['text'][:140]!r}\n    {v.reasons}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
