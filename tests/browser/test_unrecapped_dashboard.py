"""The staff dashboard in a browser: the compliance figures arrive after the page,
and the organizer filter is the admin's search-as-you-type picker."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.browser.conftest import login, open_context, watch
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory


def test_compliance_figures_load_after_the_page_and_filters_pick_by_search(browser, live):
    team = TeamFactory(name="Dash Team")
    staff = UserFactory(email="staff@example.com", display_name="Sam Staff",
                        is_staff=True, is_superuser=True)  # fmt: skip
    MembershipFactory(user=staff, team=team)
    MeetingFactory(team=team, organizer=staff, title="Owes a recap",
                   starts_at=timezone.now() - timedelta(days=2))  # fmt: skip
    context = open_context(browser, live)
    page = context.new_page()
    seen = watch(page)
    login(page, staff.email)
    page.goto("/admin/meetings/unrecapped/")
    assert page.get_by_role("row", name="Owes a recap").is_visible()
    # htmx swaps the placeholder for the figures, with the weekly trend.
    page.get_by_role("heading", name="Weekly trend").wait_for()
    assert page.get_by_role("row", name="Dash Team").first.is_visible()
    # The organizer picker searches the admin's autocomplete endpoint.
    page.locator("#id_organizer + .select2").click()
    page.locator(".select2-search__field").fill("Sam")
    page.get_by_role("option", name="Sam Staff").click()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**organizer=*")
    assert page.get_by_role("row", name="Owes a recap").is_visible()
    assert seen.errors == []
    context.close()
