"""At 360 px (a small phone) the dashboards scroll their wide tables, not the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import PASSWORD
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory

PHONE = {"width": 360, "height": 800}
WIDTH = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


@pytest.fixture
def staff_admin(transactional_db):
    team = TeamFactory(name="Phone Team", slug="phone-team")
    user = UserFactory(
        email="staff@example.com", display_name="Sam Staff", is_staff=True, is_superuser=True
    )
    MembershipFactory(user=user, team=team, role="owner")
    # One meeting that ended two days ago without a recap: every table has a row.
    MeetingFactory(
        team=team,
        organizer=user,
        title="A rather long meeting title that used to push the page wider",
        starts_at=timezone.now() - timedelta(days=2),
    )
    return user


@pytest.mark.parametrize(
    "path",
    ["/compliance/phone-team/", "/admin/", "/admin/meetings/unrecapped/"],
)
def test_dashboards_do_not_widen_the_page_on_a_phone(browser, live, staff_admin, path):
    context = browser.new_context(base_url=live, viewport=PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(staff_admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    page.goto(path)
    page.wait_for_load_state("networkidle")
    scroll_width, client_width = page.evaluate(WIDTH)
    assert scroll_width <= client_width, f"{path} is {scroll_width}px wide at {client_width}px"
    # No CSP violation, no missing favicon or stylesheet.
    assert errors == []
    context.close()
