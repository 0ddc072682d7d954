"""URL converters for secrets in paths (signed tokens, feed tokens).

Only the characters such tokens are made of (URL-safe base64 and Django's ":"
separator), and not past a sane length: anything else is not a route, so a
malformed token (a NUL byte, a megabyte, another alphabet) answers 404 before
any view or query sees it.
"""

from __future__ import annotations

from django.urls import register_converter


class TokenConverter:
    regex = r"[A-Za-z0-9_\-:]{1,512}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


# Registered once, here: URL modules import this module for `<token:...>`.
register_converter(TokenConverter, "token")
