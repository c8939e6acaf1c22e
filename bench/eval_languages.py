"""Are complaints in every supported language flagged as reliably as English ones?

bench/probes.jsonl holds 80 posts per language (en, de, fr, es, nl, it, pt, pl), written by
the project separately from the training corpus and never trained on. Prints, per language,
precision, recall and F1 of the complaint flag, intent accuracy, and how many complaints
carrying each risk flag got it. Plain VADER is printed beside English for scale.

    .venv/bin/python bench/eval_languages.py [--errors LANG]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from rules.judge import default_judge

PROBES = Path(__file__).resolve().parent / "probes.jsonl"
RISKS = ("safety", "legal", "privacy", "vulnerable", "churn")


def prf(flags: list[bool], gold: list[bool]) -> tuple[float, float, float]:
    tp = sum(f and g for f, g in zip(flags, gold, strict=True))
    p = tp / max(sum(flags), 1)
    r = tp / max(sum(gold), 1)
    return p, r, 2 * p * r / max(p + r, 1e-9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", metavar="LANG", help="print the mistakes in one language")
    args = parser.parse_args()
    probes = [json.loads(line) for line in PROBES.open(encoding="utf-8")]
    verdicts = default_judge().judge_many([p["text"] for p in probes])
    vader = SentimentIntensityAnalyzer()
    print(f"{len(probes)} held-out probes; complaint flag and intent by language")
    print(f"  {'lang':<6}{'P':>7}{'R':>7}{'F1':>7}{'intent acc':>12}   risks found / carried")
    for lang in sorted({p["lang"] for p in probes}, key=lambda x: (x != "en", x)):
        mine = [(p, v) for p, v in zip(probes, verdicts, strict=True) if p["lang"] == lang]
        gold = [p["intent"] == "complaint" for p, _ in mine]
        p, r, f = prf([v.flagged for _, v in mine], gold)
        accuracy = sum(v.intent == p["intent"] for p, v in mine) / len(mine)
        carried = Counter(k for p, _ in mine for k in p.get("risks", []))
        found = Counter(k for p, v in mine for k in p.get("risks", []) if k in v.risks)
        risks = " ".join(f"{k} {found[k]}/{carried[k]}" for k in RISKS)
        detected = sum(v.language == lang for _, v in mine)
        print(
            f"  {lang:<6}{p:>7.3f}{r:>7.3f}{f:>7.3f}{accuracy:>12.3f}   {risks}"
            f"  (language right {detected}/{len(mine)})"
        )
        if lang == "en":
            texts = [p["text"] for p, _ in mine]
            vp, vr, vf = prf([vader.polarity_scores(t)["compound"] < -0.05 for t in texts], gold)
            print(f"  {'(VADER)':<6}{vp:>7.3f}{vr:>7.3f}{vf:>7.3f}")
        if args.errors == lang:
            for probe, verdict in mine:
                if verdict.intent != probe["intent"]:
                    print(f"    [{probe['intent']} -> {verdict.intent}] {probe['text'][:120]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
