"""The labelled corpus is valid, covers what the judgement needs, and the model matches it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rules.model import MODEL_FILE, IntentModel
from rules.train import (
    CATEGORIES,
    CORPUS,
    INTENTS,
    RISKS,
    Example,
    corpus_digest,
    load_corpus,
    train,
)

LANGUAGES = {"en", "de", "fr", "es", "nl", "it", "pt", "pl"}
INDUSTRIES = {
    "retail",
    "telecom",
    "banking",
    "travel",
    "food_delivery",
    "software",
    "games",
    "utilities",
    "insurance",
    "cars",
    "health",
    "public_transport",
    "hotels",
    "streaming",
    "logistics",
}
TRAITS = {"sarcasm", "plain_fact", "negated_praise", "problem_question", "polite", "follow_up"}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, object]]:
    out = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            row = json.loads(line)
            row["where"] = f"{path.name}:{number}"
            out.append(row)
    return out


def test_every_row_follows_the_schema(rows: list[dict[str, object]]) -> None:
    for row in rows:
        where = row.pop("where")
        assert isinstance(row["text"], str), where
        assert row["text"].strip(), where
        assert row["lang"] in LANGUAGES, where
        assert row["industry"] in INDUSTRIES | {"none"}, where
        assert row["intent"] in INTENTS, where
        assert set(row.get("traits", [])) <= TRAITS, where
        if row["intent"] == "complaint":
            assert row["category"] in CATEGORIES, where
            assert row["severity"] in (1, 2, 3, 4), where
            assert set(row["risks"]) <= set(RISKS), where
            allowed = {"text", "lang", "industry", "intent", "category", "severity", "risks"}
        else:
            allowed = {"text", "lang", "industry", "intent"}
        assert set(row) <= allowed | {"traits"}, where


def test_no_text_appears_twice(rows: list[dict[str, object]]) -> None:
    counts = Counter(str(row["text"]).strip().lower() for row in rows)
    assert [text for text, n in counts.items() if n > 1] == []


def test_the_corpus_covers_what_the_issue_asks_for(rows: list[dict[str, object]]) -> None:
    assert len(rows) >= 10_000
    assert {r["lang"] for r in rows} == LANGUAGES
    assert {r["industry"] for r in rows} >= INDUSTRIES
    assert {r["intent"] for r in rows} == set(INTENTS)
    traits = Counter(t for r in rows for t in r.get("traits", []))
    assert min(traits[t] for t in ("sarcasm", "plain_fact", "negated_praise")) >= 100
    for lang in LANGUAGES:
        mine = [r for r in rows if r["lang"] == lang]
        assert {r["intent"] for r in mine} == set(INTENTS), lang
        assert sum(r["intent"] == "complaint" for r in mine) >= 150, lang
    risks = Counter(risk for r in rows for risk in r.get("risks", []))
    assert min(risks[risk] for risk in RISKS) >= 100


def test_the_shipped_model_was_trained_on_this_corpus() -> None:
    model = IntentModel.load()
    assert model.meta["corpus_sha256"] == corpus_digest(), "retrain: python3 dev.py train"
    assert MODEL_FILE.stat().st_size < 10_000_000


def test_training_is_reproducible_byte_for_byte(tmp_path: Path) -> None:
    examples = load_corpus()[::25]  # a sample keeps this quick; the method is the same
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    train(examples, first, "sample")
    train(examples, second, "sample")
    assert first.read_bytes() == second.read_bytes()
    model = IntentModel.load(first)
    assert model.heads["intent"].classes == INTENTS


def test_a_malformed_corpus_line_names_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"text": "hi", "lang": "en"}\n', encoding="utf-8")
    with pytest.raises(SystemExit, match=r"bad.jsonl: line 1: 'industry'"):
        load_corpus(tmp_path)


def test_examples_keep_their_labels() -> None:
    example = load_corpus()[0]
    assert isinstance(example, Example)
    assert example.intent in INTENTS
