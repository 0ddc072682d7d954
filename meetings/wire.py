"""Our usual message (plain text + one HTML alternative) as SMTP bytes, written directly.

Why not `message.message().as_bytes()`: Django builds the MIME tree with the
modern `email` policy, which parses every header it sets through the header
registry and re-folds it on output, ~5 ms of CPU per message. Even the compat32
MIME classes spend ~0.6 ms building, re-parsing and walking a tree for what is
always the same two-part skeleton; that was a quarter of a worker's time per
reminder. Here the skeleton is written as text and the stdlib does the encoding
(quoted-printable bodies, RFC 2047 words for non-ASCII headers, `formataddr`).
Any other shape (attachments such as the agenda's .ics, cc/bcc) returns None
and takes Django's path.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from email import quoprimime
from email.header import Header
from email.utils import format_datetime, formataddr, getaddresses, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.utils import DNS_NAME

CRLF = "\r\n"
_ADDRESS_HEADERS = {"from", "to", "cc", "reply-to", "bcc"}


@functools.lru_cache(maxsize=4096)
def envelope_address(address: str) -> str:
    # Django's own check (rejects CR/LF and anything but one mailbox, IDNA-encodes
    # the domain); cached, as the same addresses come back with every burst.
    # prep_address uses no instance state (Django 6.1), so no backend is needed.
    return SMTPBackend.prep_address(None, address)


def header_line(name: str, value: str) -> str:
    """`Name: value` for the wire: ASCII as it is (no folding: a long unbreakable
    List-Unsubscribe URL must stay one line, and lines stay far below SMTP's 998),
    anything else as RFC 2047 encoded words folded at 76 columns."""
    if "\n" in value or "\r" in value:
        raise ValueError(f"Header values can't contain newlines, got {value!r}.")
    if value.isascii():
        return f"{name}: {value}"
    encoded = Header(value, "utf-8", header_name=name).encode(linesep=CRLF, maxlinelen=76)
    return f"{name}: {encoded}"


def addresses(values: Sequence[str]) -> str:
    return _address_list(tuple(values))


@functools.lru_cache(maxsize=4096)
def _address_list(values: tuple[str, ...]) -> str:
    # Cached: parsing addresses is a tenth of a message's serializing time, and the
    # same sender and recipients come back with every burst. A refused value
    # raises, and exceptions are not cached.
    for value in values:
        header_line("To", value)  # refuses line breaks before parsing
    return ", ".join(formataddr(pair, charset="utf-8") for pair in getaddresses(list(values)))


def _part(content: str, subtype: str) -> str:
    # Like Django's set_content: a text part ends with a line break. Quoted-
    # printable over the UTF-8 bytes (as latin-1 text, which is what quoprimime
    # encodes): readable on the wire and 7-bit safe, as Django's text parts.
    content = content if content.endswith("\n") else content + "\n"
    encoded = quoprimime.body_encode(content.encode("utf-8").decode("latin-1"), eol=CRLF)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"MIME-Version: 1.0{CRLF}"
        f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
        f"{encoded}"
    )


def _usual_shape(message: EmailMultiAlternatives) -> bool:
    alternatives = getattr(message, "alternatives", [])
    return not (
        message.attachments
        or message.cc
        or message.bcc
        or message.content_subtype != "plain"
        or (message.encoding or settings.DEFAULT_CHARSET).lower() not in ("utf-8", "utf8")
        or len(alternatives) != 1
        or alternatives[0].mimetype != "text/html"
        or any(name.lower() in _ADDRESS_HEADERS for name in message.extra_headers)
    )


def wire_bytes(message: EmailMultiAlternatives) -> bytes | None:
    """The message as SMTP bytes, or None when it is not plain text + one HTML part."""
    if not _usual_shape(message):
        return None
    # A boundary starting with "=_" can never occur in quoted-printable text
    # (which writes "=" as "=3D"), so no part needs searching for it.
    boundary = f"=_{secrets.token_hex(16)}"
    lines = [
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "MIME-Version: 1.0",
        header_line("Subject", str(message.subject)),
        header_line("From", addresses([message.from_email])),
        header_line("To", addresses(message.to)),
    ]
    if message.reply_to:
        lines.append(header_line("Reply-To", addresses(message.reply_to)))
    names = {name.lower() for name in message.extra_headers}
    if "date" not in names:
        lines.append(f"Date: {format_datetime(datetime.now(UTC))}")
    if "message-id" not in names:
        lines.append(f"Message-ID: {make_msgid(domain=str(DNS_NAME))}")
    lines += [header_line(name, str(value)) for name, value in message.extra_headers.items()]
    text, html = message.body, message.alternatives[0].content
    body = (
        f"{CRLF}--{boundary}{CRLF}{_part(text, 'plain')}"
        f"{CRLF}--{boundary}{CRLF}{_part(html, 'html')}"
        f"{CRLF}--{boundary}--{CRLF}"
    )
    return (CRLF.join(lines) + CRLF + body).encode("ascii")
