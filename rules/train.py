"""Train the intent model on the project's own corpus: `python3 dev.py train`.

Reads every `rules/corpus/*.jsonl` file (see its README), turns each post into features with
`rules.features` (the rules' evidence included for English posts), fits one logistic
regression per head with scikit-learn, and writes `rules/data/intent_model.npz`. The same
corpus gives the same file, byte for byte: files and rows are read in a fixed order, the
solver is deterministic, and the file holds no date.

scikit-learn is needed only here (the `train` extra); judging needs NumPy alone.

    python3 dev.py train                 # retrain and write the model file
    python3 dev.py train --cv 5          # cross-validated figures per language and intent
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rules.categories import KEYS
from rules.complaint import default_rules
from rules.features import featurise
from rules.model import MODEL_FILE

CORPUS = Path(__file__).resolve().parent / "corpus"
INTENTS = ("complaint", "question", "praise", "chatter", "spam", "off_topic")
CATEGORIES = KEYS
SEVERITIES = ("1", "2", "3", "4")
RISKS = ("safety", "legal", "privacy", "vulnerable", "churn")
MIN_DOCUMENTS = 2  # a word seen in one post only is noise, and weight in the file
# Inverse regularisation strength per head: intent sees the most data and the widest mix.
STRENGTH = {"intent": 4.0, "category": 4.0, "severity": 1.0, "risk": 4.0}


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    lang: str
    industry: str
    intent: str
    category: str | None
    severity: int | None
    risks: tuple[str, ...]


def load_corpus(folder: Path = CORPUS) -> list[Example]:
    """Every labelled post, in file-name then line order."""
    examples = []
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                examples.append(
                    Example(
                        text=row["text"],
                        lang=row["lang"],
                        industry=row["industry"],
                        intent=row["intent"],
                        category=row.get("category"),
                        severity=row.get("severity"),
                        risks=tuple(row.get("risks") or ()),
                    )
                )
            except (ValueError, KeyError) as exc:
                raise SystemExit(f"{path.name}: line {number}: {exc}") from None
    return examples


def corpus_digest(folder: Path = CORPUS) -> str:
    """SHA-256 of the corpus files, stored in the model so a stale model is detectable."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.jsonl")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def featurise_all(examples: Sequence[Example]) -> list[dict[str, float]]:
    rules = default_rules()
    return [
        featurise(e.text, e.lang, rules.evidence(e.text).features() if e.lang == "en" else {})
        for e in examples
    ]


def vocabulary(features: Iterable[dict[str, float]]) -> list[str]:
    """Names seen in at least MIN_DOCUMENTS posts (named evidence always), sorted."""
    counts: Counter[str] = Counter()
    for row in features:
        counts.update(row)
    return sorted(name for name, n in counts.items() if n >= MIN_DOCUMENTS or name[1:2] != ":")


def matrix(features: Sequence[dict[str, float]], index: dict[str, int]):
    from scipy.sparse import csr_matrix

    rows, cols, values = [], [], []
    for r, row in enumerate(features):
        for name, value in row.items():
            if (c := index.get(name)) is not None:
                rows.append(r)
                cols.append(c)
                values.append(value)
    return csr_matrix((values, (rows, cols)), shape=(len(features), len(index)), dtype=np.float64)


def _fit(x, labels: Sequence[str], classes: Sequence[str], strength: float):
    """Weights (features x classes) and biases of a multinomial logistic regression."""
    from sklearn.linear_model import LogisticRegression

    present = sorted(set(labels), key=classes.index)
    model = LogisticRegression(C=strength, max_iter=3000, tol=1e-5)
    model.fit(x, labels)
    weights = np.zeros((x.shape[1], len(classes)), dtype=np.float32)
    bias = np.full(len(classes), -30.0, dtype=np.float32)  # classes absent from training
    if len(present) == 2:  # scikit-learn keeps one column for two classes
        coef = np.vstack([-model.coef_[0] / 2, model.coef_[0] / 2])
        intercept = np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2])
    else:
        coef, intercept = model.coef_, model.intercept_
    for k, cls in enumerate(model.classes_):
        weights[:, classes.index(cls)] = coef[k]
        bias[classes.index(cls)] = intercept[k]
    return weights, bias


def _fit_yes_no(x, flags: Sequence[bool], strength: float):
    from sklearn.linear_model import LogisticRegression

    if not any(flags) or all(flags):
        return np.zeros(x.shape[1], dtype=np.float32), np.float32(-30.0 if not any(flags) else 30.0)
    model = LogisticRegression(C=strength, max_iter=3000, tol=1e-5, class_weight="balanced")
    model.fit(x, flags)
    return model.coef_[0].astype(np.float32), np.float32(model.intercept_[0])


def fit_heads(x, examples: Sequence[Example]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Intent on every post; category, severity and risks on the complaints."""
    heads = {"intent": _fit(x, [e.intent for e in examples], INTENTS, STRENGTH["intent"])}
    complaints = [i for i, e in enumerate(examples) if e.intent == "complaint"]
    xc = x[complaints]
    chosen = [examples[i] for i in complaints]
    heads["category"] = _fit(
        xc, [e.category or "" for e in chosen], CATEGORIES, STRENGTH["category"]
    )
    heads["severity"] = _fit(
        xc, [str(e.severity) for e in chosen], SEVERITIES, STRENGTH["severity"]
    )
    columns = [_fit_yes_no(xc, [r in e.risks for e in chosen], STRENGTH["risk"]) for r in RISKS]
    heads["risk"] = (
        np.stack([w for w, _ in columns], axis=1),
        np.array([b for _, b in columns], dtype=np.float32),
    )
    return heads


def save(path: Path, names: Sequence[str], heads: dict, meta: dict) -> None:
    """Write the model as an npz whose bytes depend only on its contents (fixed zip dates)."""
    arrays = {
        "meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8),
        "vocabulary": np.frombuffer("\n".join(names).encode(), dtype=np.uint8),
    }
    for head, (weights, bias) in heads.items():
        arrays[f"{head}_weights"] = weights.astype(np.float16)
        arrays[f"{head}_bias"] = bias.astype(np.float32)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


def train(examples: Sequence[Example], out: Path, digest: str) -> None:
    features = featurise_all(examples)
    names = vocabulary(features)
    x = matrix(features, {n: i for i, n in enumerate(names)})
    heads = fit_heads(x, examples)
    meta = {
        "classes": {
            "intent": INTENTS,
            "category": CATEGORIES,
            "severity": SEVERITIES,
            "risk": RISKS,
        },
        "corpus_sha256": digest,
        "examples": len(examples),
        "languages": dict(sorted(Counter(e.lang for e in examples).items())),
    }
    save(out, names, heads, meta)
    print(f"{out}: {len(examples)} posts, {len(names)} features, {out.stat().st_size:,} bytes")


def cross_validate(examples: Sequence[Example], folds: int) -> None:
    """Held-apart figures per language: complaint P/R/F1 and intent accuracy."""
    features = featurise_all(examples)
    order = np.random.default_rng(7).permutation(len(examples))
    predicted: dict[int, str] = {}
    for fold in range(folds):
        test = set(order[fold::folds].tolist())
        train_rows = [i for i in range(len(examples)) if i not in test]
        names = vocabulary([features[i] for i in train_rows])
        index = {n: i for i, n in enumerate(names)}
        x = matrix([features[i] for i in train_rows], index)
        weights, bias = _fit(
            x, [examples[i].intent for i in train_rows], INTENTS, STRENGTH["intent"]
        )
        xt = matrix([features[i] for i in sorted(test)], index)
        scores = xt @ weights + bias
        for i, row in zip(sorted(test), scores, strict=True):
            predicted[i] = INTENTS[int(np.argmax(row))]
    print(f"{folds}-fold cross-validation, {len(examples)} posts")
    for lang in sorted({e.lang for e in examples}):
        rows = [i for i, e in enumerate(examples) if e.lang == lang]
        gold = [examples[i].intent == "complaint" for i in rows]
        flag = [predicted[i] == "complaint" for i in rows]
        tp = sum(g and f for g, f in zip(gold, flag, strict=True))
        p = tp / max(sum(flag), 1)
        r = tp / max(sum(gold), 1)
        f1 = 2 * p * r / max(p + r, 1e-9)
        accuracy = sum(predicted[i] == examples[i].intent for i in rows) / len(rows)
        print(
            f"  {lang}: {len(rows):5d} posts  complaint P {p:.3f} R {r:.3f} F1 {f1:.3f}"
            f"  intent accuracy {accuracy:.3f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 dev.py train", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument("--cv", type=int, default=0, help="cross-validate with N folds instead")
    args = parser.parse_args(argv)
    examples = load_corpus(args.corpus)
    if args.cv:
        cross_validate(examples, args.cv)
        return 0
    train(examples, args.out, corpus_digest(args.corpus))
    return 0


if __name__ == "__main__":
    sys.exit(main())
