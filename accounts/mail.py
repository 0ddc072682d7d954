"""What leaves the site: absolute links and rendered emails.

Every email Bookend sends (invitations here, digests and reminders in
`meetings.notifications`) is a template triplet `emails/<name>-subject.txt`,
`-body.txt` and `-body.html` rendered by `make_message`: HTML plus plain text,
through Django's own message class and mail backends.
"""

from __future__ import annotations

import email.policy
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def site_url(path: str) -> str:
    """Absolute URL for emails and feeds, where there is no request."""
    return f"{settings.SITE_URL}{path}"


class BookendMessage(EmailMultiAlternatives):
    """Django's message, with headers folded only where RFC 5322 requires it.

    Python's email package folds a header longer than 78 columns, and a long
    word without spaces (a signed List-Unsubscribe URL) is "folded" by rewriting
    it as RFC 2047 encoded words. RFC 2369 clients read the `<URL>` list
    literally, so the one-click unsubscribe link would be lost. The stock policy
    Django is given, cloned with RFC 5322's hard limit of 998 characters, keeps
    it one line; non-ASCII text is still encoded.
    """

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=998))


def make_message(
    template: str,
    context: dict,
    *,
    to: Sequence[str],
    headers: dict[str, str] | None = None,
    attachments: Sequence[tuple[str, bytes | str, str]] = (),
    reply_to: Sequence[str] = (),
    from_email: str | None = None,
) -> BookendMessage:
    """Render `emails/<template>-{subject.txt,body.txt,body.html}` into one message.

    The subject is collapsed to one line (a newline in a header is an injection).
    `attachments` are (filename, content, mimetype) triples.
    """
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}-subject.txt", context).split())
    text = render_to_string(f"emails/{template}-body.txt", context)
    html = render_to_string(f"emails/{template}-body.html", context)
    message = BookendMessage(
        subject=subject,
        body=text,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=list(reply_to),
        headers=headers or {},
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message
