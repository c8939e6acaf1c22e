"""The hand-written rules' evidence: categories, the customer-service detector, readable phrases.

The decision itself is the model's (tests/test_judge.py); these rules feed it and name the
category and the service question for English posts.
"""

from __future__ import annotations

import pytest

from rules.categories import KEYS
from rules.complaint import ComplaintRules, default_rules
from rules.ruledata import RuleData, load_rule_data

ACME = ComplaintRules(brand_terms=["Acme"], brand_handles=["AcmeHelp"])


def category(rules: ComplaintRules, text: str) -> str | None:
    return rules.taxonomy.choose(rules.evidence(text).totals)


def service(rules: ComplaintRules, text: str) -> bool:
    return rules.is_customer_service(text, category(rules, text), rules.evidence(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@AcmeHelp been on hold for 2 hours and still no answer", "wait_time"),
        ("@AcmeHelp emailed you a week ago, still no response", "wait_time"),
        ("@AcmeHelp your agent was so rude and hung up on me", "staff"),
        ("@AcmeHelp charged me twice for my subscription, where is my refund", "refund_billing"),
        ("@AcmeHelp my package never arrived and tracking says delivered", "delivery"),
        ("@AcmeHelp the blender stopped working after a week, poor quality", "product_quality"),
        ("@AcmeHelp can't log in to the app since this morning", "outage"),
        ("@AcmeHelp train delayed 3 hours and nobody told us anything", "cancellation_delay"),
        ("@AcmeHelp you cancelled my reservation without notice", "cancellation_delay"),
        ("@AcmeHelp won't let me change my booking online", "booking_account"),
    ],
)
def test_complaints_point_to_their_category(text: str, expected: str) -> None:
    evidence = ACME.evidence(text)
    assert evidence.score >= load_rule_data().flag_threshold, evidence
    assert category(ACME, text) == expected, evidence.phrases
    assert service(ACME, text) == (expected in {"wait_time", "staff"})


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp thanks for the quick fix, great service!",
        "@AcmeHelp love the new update, works perfectly",
        "Picked up my order at Acme today, the staff were lovely",
    ],
)
def test_praise_names_no_problem(text: str) -> None:
    evidence = ACME.evidence(text)
    assert evidence.score < load_rule_data().flag_threshold, evidence
    assert all(weight > -1 for _, weight in evidence.phrases), evidence.phrases  # subjects only


@pytest.mark.parametrize(
    ("text", "expected", "customer_service"),
    [
        # what went wrong outranks how it was handled; where the product itself failed (a
        # lost item, a cancelled trip) a call about it in passing is its aftermath...
        ("@AcmeHelp you lost my luggage, I will call you tomorrow", "delivery", False),
        ("@AcmeHelp my flight was cancelled, who do I call?", "cancellation_delay", False),
        # ...but a post that also says how badly it was handled is about the service too
        ("@AcmeHelp you lost my luggage and I was on hold for an hour", "delivery", True),
        ("@AcmeHelp my package never arrived and nobody answers the phone", "delivery", True),
        (
            "@AcmeHelp cancelled my order, is this how you treat customers?",
            "cancellation_delay",
            True,
        ),
        ("@AcmeHelp train cancelled, on hold for 3 hours and still no answer", "wait_time", True),
        # elsewhere how it was handled still makes it a service issue
        ("@AcmeHelp charged me twice and nobody answers the phone", "refund_billing", True),
        ("@AcmeHelp still waiting for my refund", "refund_billing", False),
        # staff who deliver the product are the product, not the service desk
        ("@AcmeHelp the driver was so rude to us", "staff", False),
        # a phone can be the product, and asking other customers is not contacting the brand
        ("@AcmeHelp my new phone stopped working after a week", "product_quality", False),
        ("@AcmeHelp app not loading, anyone else having trouble?", "outage", False),
        # the service desk named in a complaint is what the complaint is about
        ("@AcmeHelp my order was cancelled and customer service hung up on me", "staff", True),
        ("@AcmeHelp emailed you three times already, nothing back", "wait_time", True),
        # waiting is the product until the post says how the customer was dealt with
        ("@AcmeHelp waited 40 minutes in the queue at the counter", "wait_time", False),
        ("@AcmeHelp train delayed again, waiting on the platform", "cancellation_delay", False),
        ("@AcmeHelp sent you a DM two days ago and nobody has replied", "wait_time", True),
        ("@AcmeHelp 45 minutes holding and then disconnected", "wait_time", True),
        # how customers are treated is service; so is the desk, however it is spelt
        (
            "@AcmeHelp double charged again, is this how you treat customers?",
            "refund_billing",
            True,
        ),
        ("@AcmeHelp your customer services are the worst", "staff", True),
    ],
)
def test_category_of_a_post_naming_several_problems(
    text: str, expected: str, customer_service: bool
) -> None:
    assert category(ACME, text) == expected, ACME.evidence(text).phrases
    assert service(ACME, text) is customer_service


TINY = RuleData.model_validate(
    {
        "flag_threshold": 0.1,
        "evidence_weight": 0.15,
        "extra_phrase_weight": -2.5,
        "not_aimed_penalty": -0.6,
        "lexicon": {},
        "signals": {"never again": -3.0},
        "shape": {},
        "hashtags": {},
        "categories": {
            "staff": {
                "label": "Staff",
                "customer_service": True,
                "phrases": {"on hold": -2.4},
                "subjects": {"agent": -1.0},
            },
            "delivery": {
                "label": "Delivery",
                "weight": 1.3,
                "phrases": {"lost my bag": -2.0},
                "subjects": {"parcel": -1.0},
            },
        },
    }
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("never again", None),
        ("never again, the parcel", "delivery"),  # a subject alone decides the category
        ("never again, the agent", "staff"),
        ("on hold, lost my bag", "delivery"),  # 2.0 x 1.3 outweighs 2.4
        ("on hold, lost my bag, the agent", "staff"),  # 2.4 + 1.0 outweighs 2.6
    ],
)
def test_subjects_and_weights_choose_the_category(text: str, expected: str | None) -> None:
    assert category(ComplaintRules(data=TINY), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp called your billing department twice to no avail",
        "@AcmeHelp I keep getting sent back and forth between your teams",
        "@AcmeHelp 40 min hold so far, this is ridiculous",
        "@AcmeHelp my order never arrived and I still haven't heard from you",
        "@AcmeHelp understaffed stores and rudeness everywhere",
        "@AcmeHelp where is my apology?",
    ],
)
def test_service_failures_without_a_product_problem_are_customer_service(text: str) -> None:
    assert service(ACME, text), ACME.evidence(text).phrases


@pytest.mark.parametrize(
    ("text", "handling"),
    [
        ("@AcmeHelp charged me twice, and then they hang up", "hang up"),
        ("@AcmeHelp double charged again, I need to talk to someone", "talk to someone"),
        ("@AcmeHelp still no refund, can I reach a real person please", "a real person"),
    ],
)
def test_handling_phrases_make_a_billing_complaint_a_service_one(text: str, handling: str) -> None:
    assert category(ACME, text) == "refund_billing"
    assert f"handling: {handling!r}" in ACME.service(text)[2]
    assert service(ACME, text)


def test_aftermath_share_decides_when_handling_counts_beside_a_failure() -> None:
    text = "@AcmeHelp you lost my luggage and I was on hold for an hour"
    strict = load_rule_data().model_copy(update={"aftermath_service_share": 1.0})
    assert service(ACME, text)  # on hold weighs 3.0 against the loss's 3.0
    assert not service(ComplaintRules(data=strict, brand_handles=["AcmeHelp"]), text)


def test_category_evidence_must_be_negative() -> None:
    data = TINY.model_dump()
    data["categories"]["staff"]["subjects"]["thanks"] = 0.0
    with pytest.raises(ValueError, match="thanks"):
        RuleData.model_validate(data)


def test_subjects_change_neither_sentiment_nor_score() -> None:
    rules = ComplaintRules(data=TINY)
    plain, subject = (
        rules.evidence("never again, the box"),
        rules.evidence("never again, the parcel"),
    )
    assert subject.sentiment == plain.sentiment
    assert subject.score == plain.score


def test_phrases_name_the_matched_words_most_negative_first() -> None:
    evidence = ACME.evidence("@AcmeHelp on hold for 2 hours & still waiting!!")
    phrases = [p for p, _ in evidence.phrases]
    assert "'on hold for 2 hours' (wait_time)" in phrases
    assert "'still waiting'" in phrases  # what is awaited decides the category
    weights = [w for _, w in evidence.phrases]
    assert weights == sorted(weights)
    assert evidence.sentiment < 0


def test_phrases_never_carry_markup_from_the_post() -> None:
    phrases = [
        p for p, _ in ACME.evidence("@AcmeHelp on hold <!channel> for 2 hours <b>!</b>").phrases
    ]
    assert "'on hold channel for 2 hours' (wait_time)" in phrases
    assert not any(m in p for p in phrases for m in ("<!", "<b", "&lt;"))


@pytest.mark.parametrize(
    ("text", "aimed"),
    [
        ("@AcmeHelp on hold for 2 hours", True),  # the handle alone counts
        ("acme kept me on hold for 2 hours", True),
        ("on hold for 2 hours with my bank again", False),
        ("@AcmeHelpDesk on hold for 2 hours", False),  # another account
    ],
)
def test_aimed_at_brand(text: str, aimed: bool) -> None:
    assert ACME.evidence(text).aimed is aimed


def test_without_brand_config_every_post_is_aimed() -> None:
    assert default_rules().evidence("still waiting for my refund").aimed


def test_brand_names_do_not_count_as_sentiment() -> None:
    """VADER scores "united" as a positive word; as a handle it is just a name."""
    assert default_rules().evidence("@united").sentiment == 0.0


def test_evidence_as_features_is_named_and_bounded() -> None:
    features = ACME.evidence(
        "@AcmeHelp lost my luggage, on hold for 3 hours, never again"
    ).features()
    assert features["rule:category:delivery"] > 0
    assert all(name.startswith("rule:") for name in features)
    assert all(-2.0 <= value <= 2.0 for value in features.values())


def test_vader_runs_exactly_once_per_post() -> None:
    rules = ComplaintRules()
    vader = rules._sentiment._vader
    calls = []
    original = vader.valences  # the word loop behind polarity_scores
    vader.valences = lambda text: calls.append(text) or original(text)
    rules.evidence("@acme on hold for 2 hours, never again, thanks for nothing #fail")
    assert len(calls) == 1


def test_default_rules_are_built_once() -> None:
    assert default_rules() is default_rules()


def test_default_taxonomy_has_the_stable_keys_and_labels() -> None:
    data = load_rule_data()
    assert tuple(data.categories) == KEYS
    assert all(c.label for c in data.categories.values())
    assert {k for k, c in data.categories.items() if c.customer_service} == {"staff"}
    aftermath = {k for k, c in data.categories.items() if not c.service_when_handled}
    assert aftermath == {"delivery", "cancellation_delay"}
