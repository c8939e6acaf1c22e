"""The model reads a post at run time exactly as training read it."""

from __future__ import annotations

import pytest

from rules.complaint import default_rules
from rules.features import featurise
from rules.model import IntentModel, shipped_model
from rules.train import load_corpus


@pytest.fixture(scope="module")
def model() -> IntentModel:
    return shipped_model()


def test_judging_sees_the_features_training_saw(model: IntentModel) -> None:
    rules = default_rules()
    for example in load_corpus()[::40]:  # every language, every slice
        evidence = rules.evidence(example.text).features() if example.lang == "en" else {}
        rows, values = model.encode(example.text, example.lang, evidence)
        seen: dict[str, float] = {}
        for row, value in zip(rows, values, strict=True):
            name = model.vocabulary[row]
            seen[name] = seen.get(name, 0.0) + value
        trained = featurise(example.text, example.lang, evidence)
        wanted = {k: v for k, v in trained.items() if k in model.index}
        assert seen.keys() == wanted.keys(), example.text
        assert all(abs(seen[k] - wanted[k]) < 1e-5 for k in wanted), example.text


def test_a_batch_scores_each_post_as_alone(model: IntentModel) -> None:
    posts = ["@acme where is my parcel", "love it", "", "Zug fällt aus"]
    encoded = [model.encode(p, "en", {}) for p in posts]
    together = model.score(encoded)
    for i, one in enumerate(encoded):
        alone = model.score([one])
        assert together.logits[i] == pytest.approx(alone.logits[0], abs=1e-5)
        assert together.all_heads([i])[i] == pytest.approx(alone.all_heads([0])[0], abs=1e-5)


def test_reasons_never_quote_word_pieces(model: IntentModel) -> None:
    scored = model.score([model.encode("@acme parcel still missing after 3 weeks", "en", {})])
    (pushes,) = model.contributions("intent", ["complaint"], ["question"], scored)
    assert pushes
    assert not any(name.startswith("c:") for name, _ in pushes)
