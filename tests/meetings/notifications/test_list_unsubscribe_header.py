"""List-Unsubscribe stays a literal <URL> on one line however Django serializes it.

RFC 2369 clients match the <URL> list literally; RFC 2047 encoded words
(`=?utf-8?q?...`) there hide the one-click link from some of them.
"""

from __future__ import annotations

import email
import email.policy

import pytest

from accounts import mail

pytestmark = pytest.mark.django_db

# Longer than a 78-column line, as real signed tokens are.
URL = (
    "http://localhost:8000/email/unsubscribe/"
    + "eyJ1IjoxLCJsIjoibWVldGluZyJ9:1vOaXb:"
    + "x" * 60
    + "/"
)
HEADERS = {"List-Unsubscribe": f"<{URL}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def make(attachments=()):
    message = mail.BookendMessage(
        "Agenda · Sync", "body", "from@example.com", ["to@example.com"], headers=dict(HEADERS)
    )
    message.attach_alternative("<p>body</p>", "text/html")
    for attachment in attachments:
        message.attach(*attachment)
    return message


def header_lines(raw: bytes) -> list[bytes]:
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    return [line for line in head.splitlines() if line.lower().startswith(b"list-unsubscribe")]


def assert_verbatim(raw: bytes) -> None:
    assert b"=?utf-8?" not in b"\n".join(header_lines(raw)).lower()
    assert header_lines(raw) == [
        f"List-Unsubscribe: <{URL}>".encode(),
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    ]
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["List-Unsubscribe"] == f"<{URL}>"


def test_django_path_with_smtp_policy_keeps_list_unsubscribe_verbatim():
    # The agenda digest carries its .ics, so it always takes Django's serializer,
    # with the policy Django's SMTP backend uses.
    message = make([("invite.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")])
    raw = message.message(policy=email.policy.SMTP).as_bytes()
    assert_verbatim(raw)
    # The subject is still RFC 2047 encoded (it is not ASCII): only the list headers differ.
    subject = next(line for line in raw.splitlines() if line.startswith(b"Subject:"))
    assert b"=?utf-8?" in subject


def test_django_default_policy_keeps_list_unsubscribe_verbatim():
    assert_verbatim(make().message().as_bytes())


def test_non_ascii_list_header_is_still_encoded_not_written_raw():
    message = make()
    message.extra_headers["List-Unsubscribe"] = "<http://bücher.example/u/>"
    raw = message.message(policy=email.policy.SMTP).as_bytes()
    assert raw.isascii()


def test_rendered_agenda_digest_over_smtp_has_a_literal_list_unsubscribe(
    meeting, organizer, member, now
):
    from django.core import mail

    from meetings import notifications, services
    from meetings.models import Notification
    from tests.factories import ready_agenda

    ready_agenda(meeting, by=organizer)
    services.send_agenda(meeting=meeting, by=organizer, now=now)
    for pk in Notification.objects.filter(state="pending").values_list("pk", flat=True):
        notifications.deliver(pk, now=now)
    message = next(m for m in mail.outbox if m.to == [member.email])
    raw = message.message(policy=email.policy.SMTP).as_bytes()
    (line, _post) = header_lines(raw)
    assert line.startswith(b"List-Unsubscribe: <http://localhost:8000/email/unsubscribe/")
    assert line.endswith(b"/>") and b"=?" not in line
