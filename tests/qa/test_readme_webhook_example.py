"""The README's "verify a webhook signature in Python" works on what Bookend sends."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from meetings.notifications import events, webhooks

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_verify():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    (code,) = [block for block in blocks if "def verify(" in block]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    return namespace["verify"]


def test_the_readme_example_verifies_bookends_signature_and_refuses_a_forgery():
    verify = readme_verify()
    secret = events.new_secret()
    body = b'{"type": "recap.published", "version": 1}'
    headers = webhooks.signature_headers(secret, "msg_abc", body, datetime.now(UTC))
    assert verify(secret, headers, body) == {"type": "recap.published", "version": 1}
    with pytest.raises(ValueError, match="bad signature"):
        verify(secret, headers, body.replace(b"recap", b"agenda"))
    with pytest.raises(ValueError, match="bad signature"):
        verify(events.new_secret(), headers, body)
    old = webhooks.signature_headers(secret, "msg_abc", body, datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="too old"):
        verify(secret, old, body)
