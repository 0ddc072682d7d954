"""`make run`'s mailbox: every e-mail as a short readable summary on the console,
and whole as an `.eml` file (under var/mail/) to open in a mail client.

The console backend prints raw MIME (quoted-printable text, an iCalendar part with
its VTIMEZONE), which nobody can read while trying the product.
"""

from __future__ import annotations

import re
import sys
import textwrap
from itertools import count
from pathlib import Path

from django.core.mail.backends import console
from django.utils import timezone

LINK = re.compile(r"https?://[^\s<>\"')\]]+")
PREVIEW_LINES = 6
_numbers = count(1)


class EmailBackend(console.EmailBackend):
    def __init__(self, *args, directory: str | Path, **kwargs) -> None:
        self.directory = Path(directory)
        # The real stdout: a Celery worker turns `sys.stdout` into a logger that
        # stamps "WARNING celery.redirected" on every message.
        kwargs.setdefault("stream", sys.__stdout__)
        super().__init__(*args, **kwargs)

    def write_message(self, message) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Time first so `ls` lists them in order; the counter keeps a burst apart.
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{next(_numbers):04d}.eml"
        path = self.directory / name
        path.write_bytes(message.message().as_bytes())
        self.stream.write(summary(message, path) + "\n")


def summary(message, path: Path) -> str:
    lines = [line.strip() for line in message.body.splitlines() if line.strip()]
    links = list(dict.fromkeys(LINK.findall(message.body)))
    preview = [line for line in lines if not LINK.fullmatch(line)][:PREVIEW_LINES]
    attached = [name for name, *_ in _attachments(message)]
    parts = [
        "┌─ e-mail " + "─" * 60,
        f"│ To:      {', '.join(message.to + message.cc + message.bcc)}",
        f"│ Subject: {message.subject}",
        *(f"│   {textwrap.shorten(line, 100)}" for line in preview),
        *(["│ Links:"] + [f"│   {link}" for link in links] if links else []),
        *([f"│ Attached: {', '.join(attached)}"] if attached else []),
        f"└─ whole message: {path}",
    ]
    return "\n".join(parts)


def _attachments(message):
    for attachment in message.attachments:
        # Attachments are (filename, content, mimetype) or a MIME part.
        if isinstance(attachment, tuple):
            yield attachment
        else:
            yield (attachment.get_filename() or attachment.get_content_type(), None, None)
