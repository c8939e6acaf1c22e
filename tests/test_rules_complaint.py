"""Complaint flag, category, customer-service detector, reasons and per-brand overrides."""

from __future__ import annotations

import json

import pytest

from rules.categories import KEYS
from rules.complaint import ComplaintRules, Verdict, default_rules
from rules.ruledata import load_rule_data
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


def test_reasons_name_the_matched_words_and_the_scores() -> None:
    verdict = ACME.judge("@AcmeHelp on hold for 2 hours &amp; still waiting!!")
    assert "matched 'on hold for 2 hours' (wait_time)" in verdict.reasons
    assert "matched 'still waiting' (wait_time)" in verdict.reasons
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
    assert {k for k, c in data.categories.items() if c.customer_service} == {"wait_time", "staff"}
