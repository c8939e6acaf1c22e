"""A brand's own correction to the shipped model, learned from its team's labels.

The shipped model knows how people complain in general; a brand's team knows that "Kestrel
Fibre" posts about the bird are off-topic and that "where's my order" is a complaint to
them. Each label (a "Not a complaint" press, an acknowledged or resolved alert, a post the
brand answered) is one example of "complaint or not" for this brand.

The correction is warm-started from the shipped model: the shipped complaint logit is the
starting point (an offset), and a logistic regression over the same features learns only
what to add to it. L2 regularisation pulls the additions towards zero, so with few labels
the brand's judgement stays the shipped one and moves only as far as its labels agree.
NumPy only: it runs inside the daemon, offline.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rules.model import Encoded, IntentModel

EPOCHS = 300
LEARNING_RATE = 0.5
PRIOR_STRENGTH = 2.0  # the shipped model counts as this many labels' worth of L2 pull
MIN_LABELS = 20  # fewer say nothing reliable about a brand


@dataclass(frozen=True, slots=True)
class Adjustment:
    """What a brand adds to the shipped model's complaint logit: a weight per feature row."""

    weights: npt.NDArray[np.float32]  # one per model feature row
    bias: float
    labels: int  # how many labels it was learned from

    def logit(self, rows: Sequence[int], values: Sequence[float]) -> float:
        if not rows:
            return self.bias
        return float(np.dot(self.weights[np.asarray(rows)], np.asarray(values))) + self.bias

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            weights=self.weights.astype(np.float16),
            bias=np.array([self.bias]),
            labels=np.array([self.labels]),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> Adjustment:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            return cls(
                weights=data["weights"].astype(np.float32),
                bias=float(data["bias"][0]),
                labels=int(data["labels"][0]),
            )


def complaint_logit(model: IntentModel, logits: Sequence[float]) -> float:
    """log(P(complaint) / P(anything else)) from the intent head's scores."""
    head = model.heads["intent"]
    scores = list(logits[head.columns])
    k = head.classes.index("complaint")
    top = max(scores)
    others = sum(math.exp(s - top) for i, s in enumerate(scores) if i != k)
    return scores[k] - top - math.log(others)


def fit_adjustment(
    model: IntentModel,
    encoded: Sequence[Encoded],
    labels: Sequence[bool],
    offsets: Sequence[float] | None = None,
) -> Adjustment:
    """Learn a brand's correction from its labelled posts (already encoded by the model);
    `offsets` are what the judge adds to the model's logit before it (the rules' prior)."""
    n = len(encoded)
    base = np.array(
        [complaint_logit(model, row) for row in model.score(list(encoded)).logits],
        dtype=np.float64,
    )
    if offsets is not None:
        base += np.asarray(offsets, dtype=np.float64)
    width = len(model.vocabulary)
    rows = np.concatenate([np.asarray(r, dtype=np.intp) for r, _ in encoded])
    values = np.concatenate([np.asarray(v, dtype=np.float64) for _, v in encoded])
    owner = np.repeat(np.arange(n), [len(r) for r, _ in encoded])
    y = np.asarray(labels, dtype=np.float64)
    weights = np.zeros(width)
    bias = 0.0
    # Full-batch gradient descent with Adam: a few hundred posts, a few milliseconds a step.
    m_w, v_w, m_b, v_b = np.zeros(width), np.zeros(width), 0.0, 0.0
    for step in range(1, EPOCHS + 1):
        z = base + np.bincount(owner, weights=values * weights[rows], minlength=n) + bias
        error = 1.0 / (1.0 + np.exp(-z)) - y
        grad_w = np.bincount(rows, weights=values * error[owner], minlength=width) / n
        grad_w += (PRIOR_STRENGTH / n) * weights
        grad_b = float(error.mean()) + (PRIOR_STRENGTH / n) * bias  # the bias too: no blanket shift
        m_w = 0.9 * m_w + 0.1 * grad_w
        v_w = 0.999 * v_w + 0.001 * grad_w**2
        m_b = 0.9 * m_b + 0.1 * grad_b
        v_b = 0.999 * v_b + 0.001 * grad_b**2
        correction = math.sqrt(1 - 0.999**step) / (1 - 0.9**step)
        weights -= LEARNING_RATE * 0.1 * correction * m_w / (np.sqrt(v_w) + 1e-8)
        bias -= LEARNING_RATE * 0.1 * correction * m_b / (math.sqrt(v_b) + 1e-8)
    return Adjustment(weights.astype(np.float32), bias, n)
