"""Playwright driving Debian's Chromium against pytest-django's live server.

The browser must exist: without /usr/bin/chromium these tests fail (never skip),
so a green run always means a real browser clicked through the app.
Screenshots go to the git-ignored `artifacts/` folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 800}
PASSWORD = "correct horse battery"  # tests.factories.UserFactory's


@pytest.fixture(scope="session", autouse=True)
def plain_http_live_server() -> Iterator[None]:
    """The live server speaks plain HTTP: no redirect to HTTPS.

    Session-scoped and autouse so it is in force before the (session-scoped)
    live server builds its middleware, which reads this setting once.
    """
    from django.test import override_settings

    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


@pytest.fixture
def browser(monkeypatch) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (browser tests need it).")
    # Playwright's sync API keeps an asyncio loop in this thread; the test's own ORM
    # calls are plain synchronous code, so Django's async-safety guard is lifted
    # for the browser tests only.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        # ORM calls made while Playwright runs get their own connection (its
        # greenlet has its own context); close it, or the test database cannot
        # be dropped at the end of the run.
        connections.close_all()
        browser.close()


@pytest.fixture
def live(live_server, transactional_db, settings) -> str:
    # The live server speaks plain HTTP on localhost.
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_HSTS_SECONDS = 0
    return live_server.url


@dataclass
class Watch:
    """What the page said on the console, and any dialog it opened."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_context(browser: Browser, live: str, *, javascript: bool = True) -> BrowserContext:
    return browser.new_context(
        base_url=live, viewport=DESKTOP, java_script_enabled=javascript, locale="en-GB"
    )


def watch(page: Page, *, accept_dialogs: bool = True) -> Watch:
    seen = Watch()
    page.on(
        "console",
        lambda msg: seen.errors.append(msg.text) if msg.type in {"error", "warning"} else None,
    )
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))

    def on_dialog(dialog) -> None:
        seen.dialogs.append(dialog.message)
        if accept_dialogs:
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


@pytest.fixture
def context(browser, live) -> Iterator[BrowserContext]:
    context = open_context(browser, live)
    yield context
    context.close()


def login(page: Page, email: str) -> None:
    """Log in through the real login form."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def screenshot(page: Page, name: str) -> None:
    """Full-page screenshots at desktop and phone width, then back to desktop."""
    ARTIFACTS.mkdir(exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def settled(page: Page) -> None:
    """Wait until htmx has finished swapping and settling (it wires up new forms then)."""
    # Polled from here: a wait_for_function predicate would need eval, which the CSP forbids.
    busy = "!!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    for _ in range(250):
        if not page.evaluate(busy):
            return
        page.wait_for_timeout(20)
    raise AssertionError("htmx did not settle")
