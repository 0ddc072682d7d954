"""QA checks reuse the browser fixtures (live server, Chromium) of tests/browser."""

from __future__ import annotations

from tests.browser.conftest import _plain_http_live_server, browser, live  # noqa: F401
