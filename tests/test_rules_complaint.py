"""Complaint flag, category, customer-service detector, reasons and per-brand overrides."""

from __future__ import annotations

import json

import pytest

from rules.categories import KEYS
from rules.complaint import ComplaintRules, Verdict, default_rules
from rules.ruledata import RuleData, load_rule_data
from rules.settings import RuleOverrides

ACME = ComplaintRules(brand_terms=["Acme"], brand_handles=["AcmeHelp"])


@pytest.mark.parametrize(
    ("text", "category"),
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
def test_complaints_are_flagged_with_their_category(text: str, category: str) -> None:
    verdict = ACME.judge(text)
    assert verdict.flagged, verdict.reasons
    assert verdict.category == category, verdict.reasons
    assert verdict.customer_service == (category in {"wait_time", "staff"})


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp thanks for the quick fix, great service!",
        "@AcmeHelp love the new update, works perfectly",
        "@AcmeHelp can I change my booking to friday?",
        "@AcmeHelp is the store open on sunday?",
        "@AcmeHelp how do I add a second card to my account?",
        "Picked up my order at Acme today, the staff were lovely",
    ],
)
def test_praise_and_plain_questions_are_not_flagged(text: str) -> None:
    verdict = ACME.judge(text)
    assert not verdict.flagged, verdict.reasons
    assert verdict.category is None
    assert not verdict.customer_service


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp thanks for nothing",  # sarcasm VADER reads as praise
        "@AcmeHelp never again.",
        "@AcmeHelp I want to cancel my account",
        "@AcmeHelp third time I ask. Still waiting",
        "@AcmeHelp order 1234 delayed again",  # a delay stated as a fact
        "@AcmeHelp please help, 45 minutes on hold",  # politeness does not hide the problem
    ],
)
def test_customer_service_language_plain_vader_misses(text: str) -> None:
    assert ACME.judge(text).flagged


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp the courier didn't even ring the bell",  # a failure stated with a negation
        "@AcmeHelp waited 40 minutes at the counter",  # elapsed time, no negative word
        "@AcmeHelp any update on my claim?",  # asking after something overdue
        "@AcmeHelp how do I get a refund for this",
        "@AcmeHelp your customer service is a disgrace",
    ],
)
def test_failures_stated_as_facts_or_questions_are_flagged(text: str) -> None:
    assert ACME.judge(text).flagged, ACME.judge(text).reasons


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp can't wait for the new store to open!",
        "@AcmeHelp you never disappoint",
        "@AcmeHelp no problem, thanks for checking",
        "@AcmeHelp you need to follow me so I can DM you",
    ],
)
def test_negations_that_are_praise_or_plain_english_are_not_flagged(text: str) -> None:
    assert not ACME.judge(text).flagged, ACME.judge(text).reasons


@pytest.mark.parametrize(
    ("text", "category", "customer_service"),
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
    text: str, category: str, customer_service: bool
) -> None:
    verdict = ACME.judge(text)
    assert verdict.category == category, verdict.reasons
    assert verdict.customer_service is customer_service


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
    ("text", "category"),
    [
        ("never again", None),
        ("never again, the parcel", "delivery"),  # a subject alone decides the category
        ("never again, the agent", "staff"),
        ("on hold, lost my bag", "delivery"),  # 2.0 x 1.3 outweighs 2.4
        ("on hold, lost my bag, the agent", "staff"),  # 2.4 + 1.0 outweighs 2.6
    ],
)
def test_subjects_and_weights_choose_the_category(text: str, category: str | None) -> None:
    assert ComplaintRules(data=TINY).judge(text).category == category


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
    verdict = ACME.judge(text)
    assert verdict.flagged, verdict.reasons
    assert verdict.customer_service, verdict.reasons


@pytest.mark.parametrize(
    ("text", "handling"),
    [
        ("@AcmeHelp charged me twice, and then they hang up", "hang up"),
        ("@AcmeHelp double charged again, I need to talk to someone", "talk to someone"),
        ("@AcmeHelp still no refund, can I reach a real person please", "a real person"),
    ],
)
def test_handling_phrases_make_a_billing_complaint_a_service_one(text: str, handling: str) -> None:
    verdict = ACME.judge(text)
    assert verdict.category == "refund_billing", verdict.reasons
    assert f"handling: {handling!r}" in verdict.reasons
    assert verdict.customer_service


def test_aftermath_share_decides_when_handling_counts_beside_a_failure() -> None:
    text = "@AcmeHelp you lost my luggage and I was on hold for an hour"
    strict = load_rule_data().model_copy(update={"aftermath_service_share": 1.0})
    assert ACME.judge(text).customer_service  # on hold weighs 3.0 against the loss's 3.0
    assert not ComplaintRules(data=strict, brand_handles=["AcmeHelp"]).judge(text).customer_service


def test_category_evidence_must_be_negative() -> None:
    data = TINY.model_dump()
    data["categories"]["staff"]["subjects"]["thanks"] = 0.0
    with pytest.raises(ValueError, match="thanks"):
        RuleData.model_validate(data)


def test_subjects_change_neither_sentiment_nor_score() -> None:
    rules = ComplaintRules(data=TINY)
    plain, subject = rules.judge("never again, the box"), rules.judge("never again, the parcel")
    assert subject.sentiment == plain.sentiment
    assert subject.reasons[-1] == plain.reasons[-1]  # the complaint score line


def test_reasons_name_the_matched_words_and_the_scores() -> None:
    verdict = ACME.judge("@AcmeHelp on hold for 2 hours &amp; still waiting!!")
    assert "matched 'on hold for 2 hours' (wait_time)" in verdict.reasons
    assert "matched 'still waiting'" in verdict.reasons  # what is awaited decides the category
    assert any(r.startswith("sentiment -") for r in verdict.reasons)
    assert verdict.reasons[-1].startswith("complaint score ")


def test_reasons_never_carry_markup_from_the_post() -> None:
    verdict = ACME.judge("@AcmeHelp on hold <!channel> for 2 hours <b>!</b>")
    assert "matched 'on hold channel for 2 hours' (wait_time)" in verdict.reasons
    assert not any(m in r for r in verdict.reasons for m in ("<!", "<b", "&lt;"))


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
    verdict = ACME.judge(text)
    assert verdict.aimed_at_brand is aimed
    assert ("brand not named (-0.60)" in verdict.reasons) is not aimed


def test_a_rant_without_the_brand_needs_more_to_be_flagged() -> None:
    text = "my flight got delayed"
    assert default_rules().judge(text).flagged
    assert not ACME.judge(text).flagged


def test_without_brand_config_every_post_is_aimed() -> None:
    assert default_rules().judge("still waiting for my refund").aimed_at_brand


def test_brand_names_do_not_count_as_sentiment() -> None:
    """VADER scores "united" as a positive word; as a handle it is just a name."""
    assert default_rules().judge("@united").sentiment == 0.0


def test_overrides_add_and_ignore_phrases_and_move_the_cut() -> None:
    text = "@AcmeHelp soggy fries again"
    extra = RuleOverrides(extra_phrases={"product_quality": ["soggy fries"]})
    assert ComplaintRules(extra).judge(text).category == "product_quality"
    ignored = ComplaintRules(RuleOverrides(ignore_phrases=["giveaway"]))
    verdict = ignored.judge("worst giveaway ever, still waiting for my prize")
    assert not verdict.flagged
    assert "ignored: contains 'giveaway'" in verdict.reasons
    strict = ComplaintRules(RuleOverrides(flag_threshold=5.0))
    assert not strict.judge("@AcmeHelp on hold for 2 hours, worst service ever").flagged


def test_unknown_category_in_overrides_is_an_error() -> None:
    with pytest.raises(ValueError, match="no_such"):
        ComplaintRules(RuleOverrides(extra_phrases={"no_such": ["x"]}))


def test_verdict_as_dict_is_json_ready() -> None:
    verdict = ACME.judge("@AcmeHelp lost my luggage")
    data = json.loads(json.dumps(verdict.as_dict()))
    assert data["flagged"] is True
    assert data["category"] == "delivery"
    assert data["reasons"] == list(verdict.reasons)
    assert isinstance(verdict, Verdict)


def test_vader_runs_exactly_once_per_post() -> None:
    rules = ComplaintRules()
    vader = rules._sentiment._vader
    calls = []
    original = vader.valences  # the word loop behind polarity_scores
    vader.valences = lambda text: calls.append(text) or original(text)
    rules.judge("@acme on hold for 2 hours, never again, thanks for nothing #fail")
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
