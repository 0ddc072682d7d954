"""Script payloads typed into every text field stay inert text in every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from meetings import services
from meetings.models import Meeting
from tests.browser.conftest import login, open_context, watch
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.browser

# Each payload sets window.__xss or opens a dialog if it ever runs.
PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1;alert(1)">',
    "[click me](javascript:window.__xss=1)",
    '<a href="javascript:alert(1)">link</a>',
    '<svg onload="window.__xss=1"><script>alert(1)</script></svg>',
    '"><svg/onload=alert(1)>',
    "![pic](javascript:alert(1))",
    "**bold <iframe src=javascript:alert(1)></iframe>** <details open ontoggle=alert(1)>",
    "> quote <style>body{display:none}</style> [x](data:text/html,<script>alert(1)</script>)",
]
HOSTILE = " ".join(PAYLOADS)

# Whatever the page holds, nothing may be able to run: no event handler
# attributes, no javascript:/data: links, no SVG, iframes or styles from users,
# and scripts only from our own static files.
DOM_PROBE = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on')) bad.push(el.tagName + ' ' + attr.name);
      // (our own empty favicon, <link rel=icon href="data:,">, is the one exception)
      if (['href', 'src', 'action', 'formaction'].includes(attr.name)
          && /^\\s*(javascript|data):/i.test(attr.value)
          && !(el.tagName === 'LINK' && attr.value === 'data:,')) {
        bad.push(el.tagName + ' ' + attr.value);
      }
    }
  }
  for (const el of document.querySelectorAll('svg, iframe, object, embed, main style')) {
    bad.push(el.tagName);
  }
  for (const s of document.scripts) {
    if (!s.src || !new URL(s.src).pathname.startsWith('/static/')) bad.push('SCRIPT ' + s.src);
  }
  return bad;
}"""


def assert_inert(page: Page, seen) -> None:
    assert page.evaluate("window.__xss") is None
    assert page.evaluate(DOM_PROBE) == []
    assert seen.dialogs == []
    # A blocked inline script would show up as a CSP report on the console.
    assert not [e for e in seen.errors if "Content Security Policy" in e], seen.errors


@pytest.fixture
def people(transactional_db):
    team = TeamFactory(name="Team <b>bold</b>")
    olga = UserFactory(email="olga@example.com", display_name="Olga", time_zone="Europe/Berlin")
    mallory = UserFactory(
        email="mallory@example.com",
        display_name='Mal<img src=x onerror="window.__xss=1">',
        time_zone="Asia/Kolkata",
    )
    for user in (olga, mallory):
        MembershipFactory(user=user, team=team)
    return olga, mallory


def test_hostile_text_renders_inert_everywhere(browser, live, people):
    olga, mallory = people
    context = open_context(browser, live)
    page = context.new_page()
    # The probe itself notices a live payload.
    page.set_content('<p><img src=x onerror="1"><a href="javascript:1">x</a><svg></svg></p>')
    assert len(page.evaluate(DOM_PROBE)) == 3
    seen = watch(page, accept_dialogs=False)
    login(page, "olga@example.com")

    # Typed through the forms: meeting title and location, outcome, an item.
    page.goto("/meetings/new/")
    page.get_by_label("Title").fill(PAYLOADS[1][:200])
    tomorrow = (timezone.now() + timedelta(days=2)).date()
    page.get_by_label("Date").fill(tomorrow.isoformat())
    page.get_by_label("Starts").fill("10:00")
    page.get_by_label("Ends").fill("11:00")
    page.get_by_label("Location or video link").fill(PAYLOADS[3])
    page.get_by_label("Mal", exact=False).check()
    page.get_by_role("button", name="Create meeting").click()
    expect(page.get_by_text("Meeting created.")).to_be_visible()
    meeting = Meeting.objects.get()
    page.get_by_label("Desired outcome").fill(HOSTILE[:2000])
    page.get_by_role("button", name="Save outcome").click()
    expect(page.get_by_text("Desired outcome saved.")).to_be_visible()
    page.get_by_label("Title").fill(PAYLOADS[4][:200])
    page.get_by_label("Notes").fill(HOSTILE)
    page.get_by_role("button", name="Add item").click()
    expect(page.get_by_text("Item added.")).to_be_visible()
    assert_inert(page, seen)
    # The payload is shown as the text it is.
    expect(page.locator(".agenda-item .item-title")).to_have_text(PAYLOADS[4][:200])

    # The rest through the services: a talking point, the recap, decisions, actions.
    services.propose_agenda_item(
        meeting=meeting, title=PAYLOADS[5], notes=HOSTILE, added_by=mallory, now=timezone.now()
    )
    meeting.send_agenda(by=olga, now=timezone.now())
    now = timezone.now()
    Meeting.objects.filter(pk=meeting.pk).update(
        agenda_sent_at=now - timedelta(hours=3),
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(hours=1),
    )
    meeting.refresh_from_db()
    services.save_recap(
        meeting=meeting, summary=HOSTILE, notes=HOSTILE, no_action_items=False, now=now
    )
    services.record_decision(meeting=meeting, text=HOSTILE, now=now)
    services.assign_action_item(
        meeting=meeting,
        description=HOSTILE,
        owner=mallory,
        due_date=meeting.local_date,
        created_by=olga,
        now=now,
    )

    # The recap editor (drafts in form fields), then the published recap.
    page.goto(f"/meetings/{meeting.pk}/")
    expect(page.get_by_label("Summary")).to_have_value(HOSTILE)
    assert_inert(page, seen)
    page.get_by_role("button", name="Publish recap").click()
    expect(page.get_by_text("Recap published to every attendee.")).to_be_visible()
    assert_inert(page, seen)
    for path in ("/", "/meetings/", "/action-items/?scope=team&state=all"):
        page.goto(path)
        assert_inert(page, seen)
    context.close()

    # The attendee's view, and clicking every link in the recap does nothing bad.
    context = open_context(browser, live)
    page = context.new_page()
    seen = watch(page, accept_dialogs=False)
    login(page, "mallory@example.com")
    for path in ("/", f"/meetings/{meeting.pk}/", "/action-items/"):
        page.goto(path)
        assert_inert(page, seen)
    page.goto(f"/meetings/{meeting.pk}/")
    links = page.locator("#recap a[href], #agenda a[href]")
    for index in range(links.count()):
        href = links.nth(index).get_attribute("href") or ""
        assert href.startswith(("http://", "https://", "mailto:", "/", "#")), href
    page.get_by_role("button", name="I have read this recap").click()
    expect(page.get_by_text("You acknowledged this recap")).to_be_visible()
    assert_inert(page, seen)
    context.close()
