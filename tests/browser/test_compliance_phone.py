"""Issue 11, item 9: the compliance figures read on a 375 px phone.

Nothing widens the page: the wide tables scroll inside their own labelled,
focusable region, and the trend chart fits the screen with text that stays
readable. The trend starts at the first week with meetings.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from meetings.models import Meeting
from tests.browser.conftest import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    login,
    open_context,
    screenshot,
    watch,
)
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.browser

# What overflows the viewport sideways, outside the scroll containers that are meant to.
OVERFLOWING = """
(() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest(".table-wrap")) continue;
    const box = el.getBoundingClientRect();
    // Only what sticks out on the right widens the page (the skip link hides on the left).
    if (box.width && box.right > width + 0.5) {
      out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className.baseVal ?? el.className}`);
    }
  }
  return out;
})()
"""

# The smallest rendered font size of the chart's text, in CSS pixels.
SMALLEST_CHART_TEXT = """
(() => Math.min(...[...document.querySelectorAll(".trend-chart text")].map(
  (t) => t.getBoundingClientRect().height)))()
"""


@pytest.fixture
def figures(transactional_db):
    team = TeamFactory(name="Platform", slug="platform")
    admin = UserFactory(email="ada@example.com", display_name="Ada Admin")
    organizer = UserFactory(display_name="Olga Organizer-With-A-Long-Name")
    MembershipFactory(user=admin, team=team, role="admin")
    MembershipFactory(user=organizer, team=team)
    now = timezone.now()
    # A young team: meetings in the last three weeks only.
    for days_ago, agenda, recap_hours in ((17, True, 2), (10, True, None), (3, False, 30)):
        starts = now - timedelta(days=days_ago)
        Meeting.objects.create(
            team=team, organizer=organizer, title="Held", time_zone="UTC",
            starts_at=starts, ends_at=starts + timedelta(hours=1),
            desired_outcome="x" if agenda else "",
            agenda_sent_at=starts - timedelta(days=2) if agenda else None,
            recap_summary="s" if recap_hours else "", no_action_items=True,
            recap_published_at=starts + timedelta(hours=1 + recap_hours) if recap_hours else None,
        )  # fmt: skip
    return team


def open_compliance(browser, live, team, size) -> tuple:
    context = open_context(browser, live)
    page = context.new_page()
    seen = watch(page)
    login(page, "ada@example.com")
    page.set_viewport_size(size)
    page.goto(f"/compliance/{team.slug}/")
    return context, page, seen


def test_compliance_fits_a_phone(browser, live, figures):
    context, page, seen = open_compliance(browser, live, figures, PHONE)
    heading = page.get_by_role("heading", name="Platform: agenda before, recap after")
    expect(heading).to_be_visible()

    assert page.evaluate(OVERFLOWING) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The wide table reflows: nothing scrolls out of sight, each value shows its column.
    region = page.get_by_role("region", name="Per organizer")
    assert region.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    row = region.locator("tbody tr").first
    expect(row.locator("th")).to_have_text("Olga Organizer-With-A-Long-Name")
    held = row.locator("td").first
    assert held.evaluate("(td) => getComputedStyle(td, '::before').content") == '"Meetings held"'
    expect(held).to_be_visible()
    for cell in region.locator("td").all():
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    # Both charts (percentages, person-hours) fit the screen and their words stay
    # readable (at least 10 px).
    charts = page.locator(".trend-chart").all()
    assert len(charts) == 2
    for chart in charts:
        box = chart.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate(SMALLEST_CHART_TEXT) >= 10

    # The legends are text beside the charts, readable at the page's size.
    for label in ("Agenda before start", "Agenda at lead time", "Recapped within grace",
                  "Person-hours in meetings", "Saved by settling in writing"):  # fmt: skip
        expect(page.locator(".trend-legend").get_by_text(label)).to_be_visible()
    # The e-mail figures reflow like the others.
    email = page.get_by_role("region", name="Could this have been an e-mail? By organizer")
    assert email.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    screenshot(page, "compliance")  # artifacts/compliance-{desktop,phone}.png
    assert not seen.errors, seen.errors
    context.close()


def test_trend_starts_at_the_first_week_with_meetings(browser, live, figures):
    context, page, seen = open_compliance(browser, live, figures, DESKTOP)
    rows = page.get_by_role("region", name="Weekly trend figures").locator("tbody tr")
    # Meetings 17, 10 and 3 days ago: three or four weeks (by weekday), not twelve.
    assert 3 <= rows.count() <= 4
    expect(rows.first.locator("td").first).not_to_have_text("0")
    # One marker per series for each week with meetings; a week without leaves a gap.
    held = [int(n) for n in rows.locator("td:first-of-type").all_inner_texts()]
    chart = page.get_by_role("img", name="Platform: weekly agenda and recap compliance")
    assert chart.locator("circle").count() == sum(1 for n in held if n)
    # The person-hours chart: one marker a week with meetings too (1 h each here).
    hours = page.get_by_role("img", name="Platform: weekly person-hours in meetings and saved")
    assert hours.locator("circle").count() == sum(1 for n in held if n)
    assert not seen.errors, seen.errors
    context.close()


def test_staff_dashboard_compliance_fits_a_phone(browser, live, figures):
    UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    context = open_context(browser, live)
    page = context.new_page()
    seen = watch(page)
    login(page, "staff@example.com")
    page.set_viewport_size(PHONE)
    page.goto("/admin/meetings/unrecapped/")
    expect(page.get_by_role("heading", name="Weekly trend")).to_be_visible()

    assert page.evaluate(OVERFLOWING) == []
    for chart in page.locator(".trend-chart").all():
        box = chart.bounding_box()
        assert box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate(SMALLEST_CHART_TEXT) >= 10
    region = page.get_by_role("region", name="Per team")
    assert region.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    page.screenshot(path=str(ARTIFACTS / "admin-compliance-phone.png"), full_page=True)
    assert not seen.errors, seen.errors
    context.close()
