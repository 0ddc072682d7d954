"""`make run`'s mailbox: a readable summary on the console, the whole message on disk."""

from __future__ import annotations

import email
import email.policy
import io

from django.core.mail import EmailMultiAlternatives

from config.devmail import EmailBackend


def test_prints_a_summary_and_keeps_the_whole_message(tmp_path):
    body = (
        "Desired outcome: pick a date\n\nOpen it: http://127.0.0.1:8000/meetings/7/\n"
        + ("a long line of notes " * 20 + "\n") * 10
    )
    message = EmailMultiAlternatives(
        "Agenda: Launch review", body, "Bookend <b@example.com>", ["ana@example.com"]
    )
    message.attach_alternative("<p>html</p>", "text/html")
    message.attach("invite.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
    out = io.StringIO()

    assert EmailBackend(directory=tmp_path / "mail", stream=out).send_messages([message]) == 1

    printed = out.getvalue()
    assert "To:      ana@example.com" in printed
    assert "Subject: Agenda: Launch review" in printed
    assert "Desired outcome: pick a date" in printed
    assert "│   http://127.0.0.1:8000/meetings/7/" in printed
    assert "Attached: invite.ics" in printed
    assert "Content-Transfer-Encoding" not in printed and "VCALENDAR" not in printed
    assert len(printed.splitlines()) < 16  # the first lines, not all ten paragraphs
    (saved,) = (tmp_path / "mail").glob("*.eml")
    assert f"whole message: {saved}" in printed
    parsed = email.message_from_bytes(saved.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Agenda: Launch review"
    assert [part.get_content_type() for part in parsed.walk()][-1] == "text/calendar"
