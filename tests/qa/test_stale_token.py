"""An in-place update sent with a stale security token says "reload", not "no right"."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.browser.conftest import PASSWORD
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory


def test_stale_csrf_token_in_an_htmx_update_asks_for_a_reload(browser, live, transactional_db):
    team = TeamFactory()
    organizer = UserFactory(email="org@example.com")
    MembershipFactory(user=organizer, team=team, role="owner")
    meeting = MeetingFactory(
        team=team, organizer=organizer, starts_at=timezone.now() + timedelta(days=2)
    )
    context = browser.new_context(base_url=live)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(organizer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    page.goto(f"/meetings/{meeting.pk}/")
    # As if the user logged out and in again in another tab: the token this
    # page carries no longer matches the browser's cookie.
    csrf = next(c for c in context.cookies() if c["name"] == "csrftoken")
    context.add_cookies([{**csrf, "value": "x" * 32}])
    page.locator("#id_new-title").fill("Budget")
    with page.expect_response(lambda r: "/agenda/items/" in r.url) as answer:
        page.locator("#add-item").click()
    assert answer.value.status == 403
    message = page.locator("#messages")
    message.get_by_text("out of date").wait_for(timeout=5000)
    assert "do not have the right" not in message.inner_text()
    context.close()
