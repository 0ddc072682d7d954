"""The server-rendered SVG trend chart."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from meetings.reports.charts import (
    HOURS_SERIES,
    TREND_SERIES,
    hours_scale,
    trend_legend,
    trend_svg,
)
from meetings.reports.compliance import Figures


def weeks(values: list[tuple[int, int] | None]) -> list[Figures]:
    """One Figures per week: (agenda sent, held), or None for a week without meetings."""
    monday = date(2026, 1, 5)
    rows = []
    for n, value in enumerate(values):
        sent, held = value or (0, 0)
        rows.append(
            Figures(key=monday + timedelta(weeks=n), held=held, agenda_sent=sent,
                    agenda_on_lead=sent, recap_judged=held, recap_in_grace=sent)
        )  # fmt: skip
    return rows


def test_chart_is_an_accessible_image_with_title_and_description():
    svg = trend_svg(weeks([(1, 2), (2, 2)]), title="Team A trend")
    assert svg.startswith('<svg class="trend-chart" role="img"')
    assert '<title id="trend-title">Team A trend</title>' in svg
    assert "<desc" in svg and "week of 05 Jan 2026" in svg


def test_each_series_has_a_legend_entry_and_its_own_dash_and_marker():
    svg = trend_svg(weeks([(1, 2), (2, 2), (0, 2)]), title="t")
    legend = trend_legend()
    for series in TREND_SERIES:
        assert series.label in legend
    assert 'stroke-dasharray="6 4"' in svg and 'stroke-dasharray="6 4"' in legend
    assert "<rect" in svg and "<polygon" in svg and "<circle" in svg


def test_weeks_without_meetings_leave_a_gap_not_a_zero():
    svg = trend_svg(weeks([(1, 2), (2, 2), None, (1, 1), (1, 1)]), title="t")
    # Two segments per series (either side of the empty week, none across it): 2 x 3.
    assert svg.count('<line x1="') - svg.count('x2="100%"') == 6
    # Four weeks with values, one marker each per series.
    assert svg.count("<circle") == 4
    # x in percent of the width, from 11 % to 93 %; 100 % sits at y = 16 px, 0 % at 196 px.
    assert '<line x1="11.0%" y1="106.0" x2="31.5%" y2="16.0"' in svg


def test_chart_stretches_to_its_width_with_text_of_a_fixed_size():
    """No viewBox: a viewBox would shrink the text with the drawing on a phone."""
    svg = trend_svg(weeks([(1, 2)] * 12), title="t")
    assert "viewBox" not in svg and 'width="100%"' in svg
    assert 'font-size="12"' in svg
    # Twelve weeks: every other date is labelled, the latest included.
    assert svg.count('text-anchor="middle"') == 6
    assert ">23 Mar</text>" in svg


def test_title_is_escaped():
    svg = trend_svg(weeks([(1, 1)]), title="<script>alert(1)</script>")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_no_inline_style_so_the_content_security_policy_allows_it():
    svg = trend_svg(weeks([(1, 2), (2, 2)]), title="t")
    assert "style=" not in svg


def hour_weeks(held_minutes: list[int | None]) -> list[Figures]:
    """One Figures per week with person-minutes held (None: a week without meetings)."""
    monday = date(2026, 1, 5)
    return [
        Figures(key=monday + timedelta(weeks=n), held=0 if m is None else 1,
                person_minutes_held=m or 0, person_minutes_settled=30 if m else 0)
        for n, m in enumerate(held_minutes)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("largest_hours", "top"), [(0, 4), (3.5, 4), (4.5, 8), (9, 20), (41, 80), (199, 200)]
)
def test_hours_scale_has_round_quarter_lines_above_the_largest_week(largest_hours, top):
    weeks = hour_weeks([60, round(largest_hours * 60)])
    assert hours_scale(weeks).top == max(top, 4)


def test_person_hours_chart_has_its_own_ids_scale_and_description():
    weeks = hour_weeks([120, None, 600])  # 2 h, a gap, 10 h: scale 0 to 20 h
    svg = trend_svg(weeks, title="Hours", series=HOURS_SERIES, scale=hours_scale(weeks),
                    chart_id="hours-trend")  # fmt: skip
    assert 'aria-labelledby="hours-trend-title hours-trend-desc"' in svg
    assert '<title id="hours-trend-title">Hours</title>' in svg
    assert "Weekly person-hours from the week of 05 Jan 2026" in svg
    assert ">20 h</text>" in svg and ">5 h</text>" in svg and ">0 h</text>" in svg
    # 10 h of 20 h sits halfway between 16 px and 196 px; 2 h at a tenth up.
    assert 'y="106.0"' in svg and 'y="178.0"' in svg
    assert "style=" not in svg
    legend = trend_legend(HOURS_SERIES)
    assert "Saved by settling in writing" in legend and "Saved by shortening" in legend


def test_empty_recaps_series_is_drawn_with_a_cross():
    weeks = [Figures(key=date(2026, 1, 5), held=2, recapped=2, empty_recaps=1)]
    svg = trend_svg(weeks, title="t")
    assert '<path d="M-4,-4L4,4M-4,4L4,-4"' in svg
    assert "recaps with no decisions or action items" in svg  # in the description
