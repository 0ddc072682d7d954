"""The reporting period a compliance page shows: chosen in the query string, four
weeks by default. Shared by the team page and the staff dashboard."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms

from .charts import HOURS_SERIES, hours_scale, trend_legend, trend_svg
from .compliance import Report

DEFAULT_PERIOD = timedelta(days=27)  # four weeks, today included
LONGEST_PERIOD = timedelta(days=366)
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            # Far from today there are no meetings, and the 12-week trend before
            # year 1 or the day after 9999-12-31 cannot even be computed.
            if not (start >= EARLIEST and end <= LATEST):
                raise forms.ValidationError(
                    f"Pick dates between {EARLIEST.year} and {LATEST.year}."
                )
            if end < start:
                raise forms.ValidationError("The period must end on or after its first day.")
            if end - start > LONGEST_PERIOD:
                raise forms.ValidationError("Pick a period of at most a year.")
        return data


def period_from(params, today: date) -> tuple[PeriodForm, date, date]:
    """The period asked for in the query string, or the last four weeks.

    A bad period shows the form's message and falls back to the default, so a
    hand-edited URL never breaks the page.
    """
    default_start, default_end = today - DEFAULT_PERIOD, today
    if "start" not in params and "end" not in params:
        form = PeriodForm(initial={"start": default_start, "end": default_end})
        return form, default_start, default_end
    form = PeriodForm(params)
    if form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, default_start, default_end


def report_context(report: Report, *, title: str, hours_title: str) -> dict:
    """The report, its weekly compliance chart (percentages) and its "could this have
    been an e-mail?" chart (person-hours), each with its key."""
    return {
        "report": report,
        "trend_chart": trend_svg(report.trend, title=title),
        "trend_legend": trend_legend(),
        "hours_chart": trend_svg(
            report.trend,
            title=hours_title,
            series=HOURS_SERIES,
            scale=hours_scale(report.trend),
            chart_id="hours-trend",
        ),
        "hours_legend": trend_legend(HOURS_SERIES),
    }
