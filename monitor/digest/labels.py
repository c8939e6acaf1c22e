"""Words for people: complaint category keys as marketing reads them."""

from __future__ import annotations

CATEGORY_LABELS = {
    "wait_time": "Wait times",
    "staff": "Staff",
    "refund_billing": "Refunds and billing",
    "delivery": "Delivery",
    "product_quality": "Product quality",
    "outage": "Outages",
    "cancellation_delay": "Cancellations and delays",
    "booking_account": "Booking and account",
    "other": "Not categorised",
}


def category_label(key: str) -> str:
    """The label for a category key; unknown keys (a brand's own) are tidied, not dropped."""
    return CATEGORY_LABELS.get(key) or key.replace("_", " ").capitalize()
