"""A weekly trend drawn as inline SVG on the server: no JavaScript, no CDN.

The content security policy forbids inline `style`, so the drawing uses SVG
presentation attributes only. Each series has its own dash pattern and marker
shape as well as its colour, so the chart does not rely on colour alone; the
`<title>`/`<desc>` name it for screen readers, and the templates put the same
numbers in a data table next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .compliance import Figures

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 30, 12, 40


@dataclass(frozen=True)
class Series:
    attribute: str  # a percentage property of Figures
    label: str
    colour: str
    dash: str  # stroke-dasharray; "" for a solid line
    marker: str  # "circle", "square" or "triangle"


TREND_SERIES = (
    Series("agenda_before_start_pct", "Agenda before start", "#1f5fa8", "", "circle"),
    Series("agenda_lead_time_pct", "Agenda at lead time", "#6a3d9a", "6 4", "square"),
    Series("recapped_in_grace_pct", "Recapped within grace", "#b35806", "2 3", "triangle"),
)


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * index / (count - 1) if count > 1 else span / 2)


def _y(pct: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - pct / 100)


def _marker(kind: str, x: float, y: float, colour: str) -> SafeString:
    if kind == "square":
        return format_html(
            '<rect x="{}" y="{}" width="7" height="7" fill="{}"/>',
            f"{x - 3.5:.1f}",
            f"{y - 3.5:.1f}",
            colour,
        )
    if kind == "triangle":
        points = f"{x:.1f},{y - 4.5:.1f} {x - 4.5:.1f},{y + 3.5:.1f} {x + 4.5:.1f},{y + 3.5:.1f}"
        return format_html('<polygon points="{}" fill="{}"/>', points, colour)
    return format_html('<circle cx="{}" cy="{}" r="4" fill="{}"/>', f"{x:.1f}", f"{y:.1f}", colour)


def _series_paths(weeks: Sequence[Figures], series: Series) -> SafeString:
    """One path per run of weeks that have a value; empty weeks leave a gap."""
    count = len(weeks)
    runs: list[list[tuple[float, float]]] = [[]]
    for index, week in enumerate(weeks):
        value = getattr(week, series.attribute)
        if value is None:
            runs.append([])
        else:
            runs[-1].append((_x(index, count), _y(value)))
    parts = []
    for run in runs:
        if len(run) > 1:
            d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(
                format_html(
                    '<path d="{}" fill="none" stroke="{}" stroke-width="2"{}/>',
                    d,
                    series.colour,
                    format_html(' stroke-dasharray="{}"', series.dash) if series.dash else "",
                )
            )
        parts.extend(_marker(series.marker, x, y, series.colour) for x, y in run)
    return SafeString("".join(parts))


def trend_svg(
    weeks: Sequence[Figures], *, title: str, series: Sequence[Series] = TREND_SERIES
) -> SafeString:
    """An accessible line chart of weekly percentages (0–100 %)."""
    count = len(weeks)
    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc" stroke-width="1"/>'
        '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#444">{}%</text>',
        (
            (LEFT, f"{_y(p):.1f}", WIDTH - RIGHT, f"{_y(p):.1f}", LEFT - 4, f"{_y(p) + 3:.1f}", p)
            for p in (0, 25, 50, 75, 100)
        ),
    )
    # Label every other week so twelve dates fit.
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#444">{}</text>',
        (
            (f"{_x(i, count):.1f}", HEIGHT - BOTTOM + 14, week.key.strftime("%d %b"))
            for i, week in enumerate(weeks)
            if (count - 1 - i) % 2 == 0
        ),
    )
    legend = format_html_join(
        "",
        '<g transform="translate({},{})"><line x1="0" y1="0" x2="22" y2="0" stroke="{}" '
        'stroke-width="2" stroke-dasharray="{}"/>{}<text x="28" y="4" font-size="11" '
        'fill="#222">{}</text></g>',
        (
            (
                LEFT + n * 200,
                HEIGHT - 8,
                s.colour,
                s.dash or "none",
                _marker(s.marker, 11, 0, s.colour),
                s.label,
            )
            for n, s in enumerate(series)
        ),
    )
    lines = SafeString("".join(_series_paths(weeks, s) for s in series))
    first = weeks[0].key.strftime("%d %b %Y") if weeks else ""
    last = weeks[-1].key.strftime("%d %b %Y") if weeks else ""
    description = (
        f"Weekly percentages from the week of {first} to the week of {last}: "
        + ", ".join(s.label.lower() for s in series)
        + ". The table below gives the same numbers."
    )
    return format_html(
        '<svg class="trend-chart" role="img" viewBox="0 0 {} {}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg" aria-labelledby="trend-title trend-desc">'
        '<title id="trend-title">{}</title><desc id="trend-desc">{}</desc>'
        "{}{}{}{}</svg>",
        WIDTH,
        HEIGHT,
        title,
        description,
        grid,
        labels,
        lines,
        legend,
    )
