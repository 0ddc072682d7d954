"""axe-core on every page, in Chromium, at desktop and phone width.

The pages are the GET rows of the permission matrix (every URL pattern is in it,
a test there says so), each opened by the least unusual visitor allowed to see
it, plus the staff dashboard. Any serious or critical WCAG 2.1 A/AA violation
fails, named with the elements it was found on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.factories import UserFactory
from tests.test_permission_matrix import MATRIX, OK, World, world  # noqa: F401 - fixture

from .conftest import DESKTOP, PHONE, login, open_context

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}
# Not pages: calendar files, the health check, and htmx fragments.
NOT_PAGES = {
    "healthz",
    "meetings:meeting_ics",
    "meetings:calendar_feed",
    "meetings:member_search",
    "meetings:hours_check",
}
# Who opens each page: the first of these the page answers OK.
VISITORS = ("anonymous", "attendee", "organizer", "admin")


def pages_for(visitor: str) -> list[tuple[str, object]]:
    chosen = []
    for name, method, path, expected in MATRIX:
        # The JSON API is not a page; its docs are the package's Swagger UI.
        if method != "GET" or name in NOT_PAGES or name.startswith("api:"):
            continue
        if next((v for v in VISITORS if expected[v] == OK), None) == visitor:
            chosen.append((name, path))
    return chosen


def violations(page: Page) -> list[str]:
    # Injected through the DevTools protocol, so the page's CSP does not apply.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + json.dumps([node["target"] for node in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in FAILING_IMPACTS
    ]


def check_pages(page: Page, paths: list[tuple[str, str]]) -> list[str]:
    found = []
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        for name, path in paths:
            response = page.goto(path)
            assert response is not None and response.ok, (name, path, response)
            assert "text/html" in response.headers["content-type"], name
            found += [f"{name} {path} at {size['width']} px: {v}" for v in violations(page)]
    return found


def test_axe_is_installed_and_finds_what_it_should(browser):
    assert AXE.exists(), f"{AXE} is missing: `make test` installs it with npm ci."
    page = browser.new_page()
    page.set_content('<html lang="en"><title>t</title><main><img src="x.png"></main></html>')
    assert any(found.startswith("image-alt (critical)") for found in violations(page))
    page.close()


@pytest.mark.parametrize("visitor", VISITORS)
def test_no_serious_accessibility_violation_on_any_page(
    browser,
    live,
    world: World,  # noqa: F811 - the fixture imported above
    visitor,
):
    paths = [(name, path(world)) for name, path in pages_for(visitor)]
    assert paths, visitor
    context = open_context(browser, live)
    page = context.new_page()
    if visitor != "anonymous":
        login(page, world.users[visitor].email)
    found = check_pages(page, paths)
    context.close()
    assert not found, "\n".join(found)


def test_no_serious_accessibility_violation_on_the_staff_dashboard(
    browser,
    live,
    world: World,  # noqa: F811 - the fixture imported above
):
    staff = UserFactory(is_staff=True, is_superuser=True)
    context = open_context(browser, live)
    page = context.new_page()
    login(page, staff.email)
    found = check_pages(page, [("unrecapped", "/admin/meetings/unrecapped/")])
    context.close()
    assert not found, "\n".join(found)
