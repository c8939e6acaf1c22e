"""Charts: real PNGs of the expected size, with text alternatives that carry the numbers."""

from __future__ import annotations

import struct

from monitor.digest.charts import DPI, HEIGHT_IN, WIDTH_IN, draw_all
from monitor.digest.figures import DayCounts, Figures, Responses, WeekFigures
from monitor.digest.period import Week

WEEK = Week(2026, 47, "Europe/London")


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _figures(categories: dict[str, int], before: dict[str, int]) -> Figures:
    days = [
        DayCounts(d, mentions=i + 3, complaints=i, positive=1, neutral=1, negative=i + 1)
        for i, d in enumerate(WEEK.days)
    ]
    this = WeekFigures(days, categories, {}, Responses())
    last = WeekFigures([DayCounts(d) for d in WEEK.previous().days], before, {}, Responses())
    return Figures("Kestrel", WEEK, 60.0, this, last)


def test_three_charts_with_ids_and_numbers_in_the_alt_text() -> None:
    charts = draw_all(_figures({"outage": 4, "staff_rudeness": 1, "other": 9}, {"delivery": 2}))
    assert [c.cid for c in charts] == ["volume", "sentiment", "categories"]
    for chart in charts:
        assert _size(chart.png) == (int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
    volume, sentiment, categories = (c.alt for c in charts)
    assert volume.startswith("Mon 16: 3 mentions, 0 complaints; Tue 17: 4 mentions, 1 complaints")
    assert sentiment.endswith("Sun 22: 1 positive, 1 neutral, 7 negative")
    assert categories == (  # the labels of rules/data/complaint_rules.yaml, as in Slack
        "Outage, can't log in: 4 (week before 0); Staff rudeness: 1 (week before 0); "
        "Delivery, lost or damaged item: 0 (week before 2)"
    )  # complaints that name no problem ("other") are not a category


def test_no_complaints_still_draws_a_chart() -> None:
    chart = draw_all(_figures({"other": 3}, {}))[2]
    assert chart.alt == "No categorised complaints in either week"
    assert _size(chart.png)[0] > 0
