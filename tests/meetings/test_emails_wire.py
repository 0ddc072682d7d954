"""The fast SMTP serializer says what Django's serializer says, and refuses what it can't."""

from __future__ import annotations

import email
from email import policy

import pytest
from django.core.mail import EmailMultiAlternatives

from meetings.emails import wire_bytes


def _message(**overrides) -> EmailMultiAlternatives:
    fields = {
        "subject": "Agenda due now for Café ☕ planning",
        "body": "Write the agenda: https://bookend.example/m/1/\n\n“Quoted” text, ünïcode.\n"
        + "A long line that goes on and on " * 6,
        "from_email": "Bookend Ühr <bookend@example.com>",
        "to": ["Zoë Example <zoe@example.com>"],
        "reply_to": ["organizer@example.com"],
        "headers": {
            "List-Unsubscribe": "<https://bookend.example/email/unsubscribe/" + "x" * 150 + "/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Bookend-Notification": "42",
        },
    }
    fields.update(overrides)
    message = EmailMultiAlternatives(**fields)
    message.attach_alternative("<p>Write the <b>agenda</b> ☕</p>", "text/html")
    return message


def _parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def test_fast_bytes_carry_the_same_headers_and_parts_as_djangos():
    message = _message()
    fast = _parse(wire_bytes(message))
    django = _parse(message.message(policy=policy.SMTP).as_bytes())
    for name in (
        "Subject", "From", "To", "Reply-To", "List-Unsubscribe", "List-Unsubscribe-Post",
        "X-Bookend-Notification",
    ):  # fmt: skip
        assert str(fast[name]) == str(django[name]), name
    assert fast["Message-ID"] and fast["Date"]
    assert fast.get_content_type() == "multipart/alternative"
    for kind in ("plain", "html"):
        assert fast.get_body((kind,)).get_content() == django.get_body((kind,)).get_content()
    assert not fast.defects


def test_fast_bytes_are_seven_bit_with_crlf_lines_of_legal_length():
    raw = wire_bytes(_message())
    assert raw.isascii()
    lines = raw.split(b"\r\n")
    assert all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 998


def test_a_newline_in_a_header_is_refused():
    with pytest.raises(ValueError, match="newlines"):
        wire_bytes(_message(headers={"X-Evil": "a\r\nBcc: victim@example.com"}))


def test_other_shapes_are_left_to_django():
    with_attachment = _message()
    with_attachment.attach("invite.ics", "BEGIN:VCALENDAR", "text/calendar")
    assert wire_bytes(with_attachment) is None
    assert wire_bytes(_message(cc=["boss@example.com"])) is None
    plain_only = EmailMultiAlternatives(subject="Hi", body="Hi", to=["a@example.com"])
    assert wire_bytes(plain_only) is None


class _Sink:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd API
        self.envelopes.append(envelope)
        return "250 Message accepted"


def test_send_over_smtp_delivers_the_fast_bytes(settings):
    import socket

    from aiosmtpd.controller import Controller

    from meetings import emails

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    try:
        emails.send(_message())
        emails.send(_message(subject="Second over the same connection"))
    finally:
        emails._forget_mailer()
        controller.stop()
    first, second = sink.envelopes
    assert first.mail_from == "bookend@example.com"
    assert first.rcpt_tos == ["zoe@example.com"]
    # wire_bytes' boundary, not the email package's: the fast path was taken.
    assert b'boundary="=_' in first.original_content
    parsed = _parse(first.original_content)
    assert str(parsed["Subject"]) == "Agenda due now for Café ☕ planning"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "agenda" in parsed.get_body(("html",)).get_content()
    assert str(_parse(second.original_content)["Subject"]) == "Second over the same connection"


def test_a_newline_in_an_address_is_refused_every_time():
    # The parsed address lists are cached; a refused one must never be.
    for _ in range(2):
        with pytest.raises(ValueError, match="newlines"):
            wire_bytes(_message(to=["zoe@example.com\r\nBcc: victim@example.com"]))
