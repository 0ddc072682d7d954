"""A weekly trend drawn as inline SVG on the server: no JavaScript, no CDN.

The content security policy forbids inline `style`, so the drawing uses SVG
presentation attributes only. Each series has its own dash pattern and marker
shape as well as its colour, so the chart does not rely on colour alone; the
`<title>`/`<desc>` name it for screen readers, and the templates put the same
numbers in a data table next to it.

The chart fills the width it is given, from a 375 px phone to a desktop, while
its text keeps its size: horizontal positions are percentages of the width
(no viewBox, which would shrink the text with the drawing), vertical ones are
pixels. So the lines are drawn as `<line>` segments (a path cannot take
percentages) and each marker sits in a nested `<svg>` placed at its point. The
legend is HTML beside the chart (`trend_legend`), so it wraps on a phone.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .compliance import Figures

HEIGHT = 220  # px
TOP, BOTTOM = 16, 196  # px: where the top of the scale (100 %) and 0 sit
FIRST_X, LAST_X = 11.0, 93.0  # % of the width: room for the y labels, and the last date
FONT = 12  # px, whatever the width


@dataclass(frozen=True)
class Series:
    attribute: str  # a property of Figures: a percentage, or person-hours
    label: str
    colour: str
    dash: str  # stroke-dasharray; "" for a solid line
    marker: str  # "circle", "square", "triangle", "diamond", "ring" (hollow) or "cross"


TREND_SERIES = (
    Series("agenda_before_start_pct", "Agenda before start", "#1f5fa8", "", "circle"),
    Series("agenda_lead_time_pct", "Agenda at lead time", "#6a3d9a", "6 4", "square"),
    Series("recapped_in_grace_pct", "Recapped within grace", "#b35806", "2 3", "triangle"),
    Series(
        "actions_by_first_due_pct",
        "Action items done by first due date",
        "#1b7837",
        "8 3 2 3",
        "diamond",
    ),
    Series("actions_redated_pct", "Action items re-dated", "#b2182b", "1 4", "ring"),
    Series(
        "empty_recap_pct", "Recaps with no decisions or action items", "#4d4d4d", "10 4", "cross"
    ),
)

# "Could this have been an e-mail?": person-hours, a scale of their own.
HOURS_SERIES = (
    Series("person_hours_held", "Person-hours in meetings", "#1f5fa8", "", "circle"),
    Series(
        "person_hours_saved_settling", "Saved by settling in writing", "#1b7837", "6 4", "diamond"
    ),
    Series("person_hours_saved_shortening", "Saved by shortening", "#b35806", "2 3", "triangle"),
)


@dataclass(frozen=True)
class Scale:
    """The y axis: 0 to `top`, with grid lines at each quarter, labelled with `unit`."""

    top: float = 100.0
    unit: str = "%"
    quantity: str = "percentages"  # for the description: "Weekly percentages from ..."

    def label(self, value: float) -> str:
        return f"{value:g}{self.unit}"


PERCENT = Scale()


def hours_scale(weeks: Sequence[Figures], series: Sequence[Series] = HOURS_SERIES) -> Scale:
    """A scale whose quarter lines fall on round numbers of hours (1, 2 or 5 × 10^n,
    at least 1), with room for the largest weekly value."""
    largest = max(
        (v for w in weeks for s in series if (v := getattr(w, s.attribute)) is not None),
        default=0,
    )
    step, factors = 1, itertools.cycle((2, 2.5, 2))  # 1, 2, 5, 10, 20, 50, ...
    while 4 * step < largest:
        step = round(step * next(factors))
    return Scale(top=4 * step, unit=" h", quantity="person-hours")


def _x(index: int, count: int) -> float:
    """Percent of the width."""
    span = LAST_X - FIRST_X
    return FIRST_X + (span * index / (count - 1) if count > 1 else span / 2)


def _y(value: float, top: float = 100.0) -> float:
    """Pixels from the top."""
    return TOP + (BOTTOM - TOP) * (1 - value / top)


def _marker(kind: str, colour: str) -> SafeString:
    """A marker centred on (0, 0)."""
    if kind == "square":
        return format_html('<rect x="-3.5" y="-3.5" width="7" height="7" fill="{}"/>', colour)
    if kind == "diamond":
        return format_html('<polygon points="0,-5 5,0 0,5 -5,0" fill="{}"/>', colour)
    if kind == "ring":
        return format_html(
            '<circle cx="0" cy="0" r="3.5" fill="#fff" stroke="{}" stroke-width="2"/>', colour
        )
    if kind == "cross":
        return format_html(
            '<path d="M-4,-4L4,4M-4,4L4,-4" stroke="{}" stroke-width="2.5"/>', colour
        )
    if kind == "triangle":
        return format_html('<polygon points="0,-4.5 -4.5,3.5 4.5,3.5" fill="{}"/>', colour)
    return format_html('<circle cx="0" cy="0" r="4" fill="{}"/>', colour)


def _series_marks(weeks: Sequence[Figures], series: Series, top: float = 100.0) -> SafeString:
    """A segment between neighbouring weeks that both have a value (an empty week
    leaves a gap), and a marker on every week that has one."""
    count = len(weeks)
    points = [
        None
        if (value := getattr(week, series.attribute)) is None
        else (_x(i, count), _y(value, top))
        for i, week in enumerate(weeks)
    ]
    dash = format_html(' stroke-dasharray="{}"', series.dash) if series.dash else ""
    segments = format_html_join(
        "",
        '<line x1="{}%" y1="{}" x2="{}%" y2="{}" stroke="{}" stroke-width="2"{}/>',
        (
            (f"{a[0]:.1f}", f"{a[1]:.1f}", f"{b[0]:.1f}", f"{b[1]:.1f}", series.colour, dash)
            for a, b in zip(points, points[1:], strict=False)
            if a and b
        ),
    )
    markers = format_html_join(
        "",
        '<svg x="{}%" y="{}" overflow="visible">{}</svg>',
        (
            (f"{x:.1f}", f"{y:.1f}", _marker(series.marker, series.colour))
            for x, y in filter(None, points)
        ),
    )
    return segments + markers


def trend_svg(
    weeks: Sequence[Figures],
    *,
    title: str,
    series: Sequence[Series] = TREND_SERIES,
    scale: Scale = PERCENT,
    chart_id: str = "trend",
) -> SafeString:
    """An accessible line chart of weekly values from 0 to the scale's top (100 %).
    `chart_id` keeps the title's and description's ids unique on a page of two charts."""
    count = len(weeks)
    top = scale.top
    # Each grid line's label sits just above it at the left, before the first week.
    ticks = [top * quarter / 4 for quarter in (1, 2, 3, 4)]
    grid = format_html_join(
        "",
        '<line x1="0" y1="{}" x2="100%" y2="{}" stroke="#ccc" stroke-width="1"/>'
        '<text x="0" y="{}" font-size="{}" fill="#444">{}</text>',
        (
            (
                f"{_y(v, top):.1f}",
                f"{_y(v, top):.1f}",
                f"{_y(v, top) - 3:.1f}",
                FONT,
                scale.label(v),
            )
            for v in ticks
        ),
    )
    axis = format_html(
        '<line x1="0" y1="{}" x2="100%" y2="{}" stroke="#888" stroke-width="1"/>'
        '<text x="0" y="{}" font-size="{}" fill="#444">{}</text>',
        BOTTOM,
        BOTTOM,
        BOTTOM - 3,
        FONT,
        scale.label(0),
    )
    # Up to six dates fit on a phone: label every week, or every other one,
    # always including the latest.
    step = 1 if count <= 6 else 2
    labels = format_html_join(
        "",
        '<text x="{}%" y="{}" font-size="{}" text-anchor="middle" fill="#444">{}</text>',
        (
            (f"{_x(i, count):.1f}", BOTTOM + FONT + 4, FONT, week.key.strftime("%d %b"))
            for i, week in enumerate(weeks)
            if (count - 1 - i) % step == 0
        ),
    )
    marks = SafeString("".join(_series_marks(weeks, s, top) for s in series))
    first = weeks[0].key.strftime("%d %b %Y") if weeks else ""
    last = weeks[-1].key.strftime("%d %b %Y") if weeks else ""
    description = (
        f"Weekly {scale.quantity} from the week of {first} to the week of {last}: "
        + ", ".join(s.label.lower() for s in series)
        + ". The table below gives the same numbers."
    )
    return format_html(
        '<svg class="trend-chart" role="img" width="100%" height="{}" '
        'xmlns="http://www.w3.org/2000/svg" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>'
        "{}{}{}{}</svg>",
        HEIGHT,
        title,
        description,
        grid,
        axis,
        labels,
        marks,
        id=chart_id,
    )


def trend_legend(series: Sequence[Series] = TREND_SERIES) -> SafeString:
    """The key to the chart's lines, as a list that wraps on a narrow screen."""
    return format_html(
        '<ul class="trend-legend" aria-label="Key to the chart">{}</ul>',
        format_html_join(
            "",
            '<li><svg width="30" height="12" aria-hidden="true"><line x1="0" y1="6" x2="30" '
            'y2="6" stroke="{}" stroke-width="2"{}/><svg x="15" y="6" overflow="visible">{}'
            "</svg></svg> {}</li>",
            (
                (
                    s.colour,
                    format_html(' stroke-dasharray="{}"', s.dash) if s.dash else "",
                    _marker(s.marker, s.colour),
                    s.label,
                )
                for s in series
            ),
        ),
    )
