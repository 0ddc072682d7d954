"""QA checks reuse the browser fixtures (live server, Chromium) of tests/browser."""

from __future__ import annotations

from tests.browser.conftest import browser, live, plain_http_live_server  # noqa: F401
