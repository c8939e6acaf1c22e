"""Impersonation and phishing: spam that pretends to be the brand or fishes for its customers.

Most spam that uses a brand's name (giveaways, resellers, crypto) only needs ignoring. Some
is dangerous to the brand's customers: a fake support number, a look-alike login page, "your
account is suspended", "reply with your email". Those go to the brand's security contact as a
warning, with a public warning draft instead of a reply. The signals are few and plain so the
reason can be shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_SIGNALS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("gives a phone number", re.compile(r"(?:\+?\d[\d ()-]{8,}\d)")),
    (
        "poses as the brand's support",
        re.compile(
            r"\b(?:help ?desk|support (?:line|team|number)|refunds? line|customer care)\b", re.I
        ),
    ),
    (
        "says an account is locked or must be verified",
        re.compile(
            r"\b(?:suspended|locked|verify (?:now|your)|unusual activity|confirm your)\b", re.I
        ),
    ),
    (
        "asks for personal details",
        re.compile(r"\b(?:your (?:email|password|card|login|bank)|with their email)\b", re.I),
    ),
    (
        "offers a prize to claim",
        re.compile(r"\b(?:claim (?:your|yours)|get yours|you've been selected)\b", re.I),
    ),
)


def impersonation_signals(text: str, brand_terms: Sequence[str]) -> tuple[str, ...]:
    """Why this spam looks like impersonation or phishing (empty: ordinary spam).

    A link whose domain carries the brand's name ("kestrel-secure-verify.example") counts on
    its own; the wording signals count together with the brand's name in the post.
    """
    reasons = [
        f"links to a look-alike domain ({m.group(0)})"
        for term in brand_terms
        if (slug := re.sub(r"[^a-z0-9]", "", term.lower()))
        for m in re.finditer(
            rf"\b{re.escape(slug)}[a-z0-9]*-[a-z0-9.-]+\.[a-z]{{2,}}", text.lower()
        )
    ][:1]
    reasons += [why for why, pattern in _SIGNALS if pattern.search(text)]
    return tuple(reasons)
