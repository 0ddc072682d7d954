"""Issue 15's pages in a real browser: a keyboard-only team admin registers a
webhook, copies its secret, reloads and finds it gone, disables and enables it;
the delivery log reads on a 375 px phone without sideways scrolling; axe-core
finds nothing serious on either."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from meetings.models import Delivery, Endpoint, Event
from tests.browser.conftest import PHONE, login, open_context, screenshot, settled, watch
from tests.browser.test_accessibility import violations
from tests.browser.test_agenda_keyboard import focus_is_visible, tab_to
from tests.browser.test_compliance_phone import OVERFLOWING
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def platform(transactional_db):
    team = TeamFactory(name="Platform", slug="platform")
    ada = UserFactory(email="ada@example.com", display_name="Ada Admin", time_zone="Asia/Kolkata")
    MembershipFactory(user=ada, team=team, role="admin")
    return team


def test_a_keyboard_only_admin_registers_a_webhook_and_sees_its_secret_once(
    browser, live, platform
):
    context = open_context(browser, live)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live)
    page = context.new_page()
    seen = watch(page)
    login(page, "ada@example.com")
    page.goto("/accounts/team/settings/")

    tab_to(page, "#integrations-link")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Integrations")).to_be_visible()
    tab_to(page, "#add-webhook")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Add a webhook")).to_be_visible()

    tab_to(page, "#id_name")
    page.keyboard.type("Builds")
    page.keyboard.press("Tab")
    page.keyboard.type("http://127.0.0.1:9/hooks/bookend")
    # The first two events ("Agenda sent", "Agenda amended"), with Space.
    tab_to(page, "#id_events_0")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    tab_to(page, "#save-endpoint")
    page.keyboard.press("Enter")

    secret_field = page.get_by_label("Secret of “Builds”")
    expect(secret_field).to_be_visible()
    endpoint = Endpoint.objects.get(team=platform, name="Builds")
    assert endpoint.events == ["agenda.sent", "agenda.amended"]
    expect(secret_field).to_have_value(endpoint.secret)
    expect(page.get_by_text("webhook-signature").first).to_be_visible()
    assert violations(page) == []
    screenshot(page, "integration-webhook-secret")

    # Copy with the keyboard: the button puts the secret on the clipboard.
    tab_to(page, "#copy-secret")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("#copy-secret-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == endpoint.secret

    # Shown once: a reload no longer has it.
    page.reload()
    expect(page.get_by_role("heading", name="Builds")).to_be_visible()
    expect(page.locator("#new-secret")).to_have_count(0)
    assert endpoint.secret not in page.content()

    tab_to(page, "#disable-endpoint")
    page.keyboard.press("Enter")
    expect(page.get_by_text("“Builds” is disabled")).to_be_visible()
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    tab_to(page, "#enable-endpoint")
    page.keyboard.press("Space")
    expect(page.get_by_text("“Builds” is enabled again.")).to_be_visible()
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None
    assert not seen.errors, seen.errors
    context.close()


def test_the_delivery_log_reads_on_a_phone(browser, live, platform):
    ada = platform.memberships.get().user
    meeting = MeetingFactory(
        team=platform, organizer=ada, now=timezone.now(),
        title="Quarterly planning with the whole platform group and guests",
    )  # fmt: skip
    hook = Endpoint.objects.create(
        team=platform, kind="webhook", name="A webhook with a rather long name",
        url="https://a-very-long-subdomain-of-the-receiving-service.example.com/hooks/bookend",
        events=["agenda.sent"], secret="whsec_eA==",
        failures=2, failing_since=timezone.now() - timedelta(hours=3),
    )  # fmt: skip
    start = timezone.now() - timedelta(hours=5)
    for n in range(5):
        at = start + timedelta(minutes=n)
        event = Event.objects.create(team=platform, type="recap.published", key=f"k{n}",
                                     meeting=meeting, payload={}, created_at=at)  # fmt: skip
        Delivery.objects.create(
            endpoint=hook, event=event, created_at=at, last_attempt_at=at, attempts=n + 1,
            state="failed", given_up_at=at, response_code=502,
            last_error="HTTPSConnectionPool: " + "x" * 180 + " (an unbroken upstream error)",
        )  # fmt: skip
    context = open_context(browser, live)
    page = context.new_page()
    seen = watch(page)
    login(page, "ada@example.com")
    page.set_viewport_size(PHONE)
    page.goto(f"/teams/platform/integrations/{hook.pk}/deliveries/")
    expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()

    assert page.evaluate(OVERFLOWING) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Nothing hides inside the table's own scroller either: every row reflows.
    assert page.locator(".table-wrap").evaluate("(el) => el.scrollWidth <= el.clientWidth")
    rows = page.locator("table.deliveries tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.first.locator("th")).to_have_text("Recap published")
    state = rows.first.locator("td[data-label='State']")
    assert state.evaluate("(td) => getComputedStyle(td, '::before').content") == '"State"'
    assert violations(page) == []
    screenshot(page, "integration-deliveries")
    # At desktop width the whole table fits its card too.
    assert page.locator(".table-wrap").evaluate("(el) => el.scrollWidth <= el.clientWidth")
    page.set_viewport_size(PHONE)

    # Send again, in place: the row says Pending and keeps the keyboard's place.
    newest = Delivery.objects.order_by("-created_at").first()
    tab_to(page, f"#delivery-{newest.pk}-again")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Recap published is queued again.")).to_be_visible()
    settled(page)
    expect(rows.first.locator(".status")).to_have_text("Pending")
    expect(rows.first.locator(".status")).to_be_focused()
    newest.refresh_from_db()
    assert newest.state == "pending"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The list of endpoints and the endpoint's own page read on the phone too.
    for path in ("/teams/platform/integrations/", f"/teams/platform/integrations/{hook.pk}/"):
        page.goto(path)
        assert page.evaluate(OVERFLOWING) == [], path
        for wrap in page.locator(".table-wrap").all():
            assert wrap.evaluate("(el) => el.scrollWidth <= el.clientWidth"), path
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    expect(page.get_by_text("2 attempts in a row since").first).to_be_visible()
    assert not seen.errors, seen.errors
    context.close()


def test_send_again_works_without_javascript(browser, live, platform):
    ada = platform.memberships.get().user
    meeting = MeetingFactory(team=platform, organizer=ada, now=timezone.now())
    hook = Endpoint.objects.create(team=platform, kind="slack", name="#eng", events=[],
                                   url="https://93.184.215.14/x")  # fmt: skip
    event = Event.objects.create(team=platform, type="agenda.sent", key="k", meeting=meeting,
                                 payload={})  # fmt: skip
    delivery = Delivery.objects.create(
        endpoint=hook, event=event, state="sent", sent_at=timezone.now(), response_code=200
    )
    context = open_context(browser, live, javascript=False)
    page = context.new_page()
    login(page, "ada@example.com")
    page.goto(f"/teams/platform/integrations/{hook.pk}/deliveries/")
    page.locator(f"#delivery-{delivery.pk}-again").click()
    expect(page.get_by_text("Agenda sent is queued again.")).to_be_visible()
    assert page.url.endswith(f"/integrations/{hook.pk}/deliveries/?page=1")
    # Delete asks on a page of its own, then posts.
    page.goto(f"/teams/platform/integrations/{hook.pk}/")
    page.locator("#delete-endpoint").click()
    expect(page.get_by_role("heading", name="Delete “#eng”?")).to_be_visible()
    page.locator("#confirm-delete").click()
    expect(page.get_by_text("“#eng” is deleted.")).to_be_visible()
    assert not Endpoint.objects.filter(pk=hook.pk).exists()
    context.close()
