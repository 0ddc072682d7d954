"""Written discussion of agenda items before (and during) the meeting."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import User

from ..markdown import RenderedMarkdownField, RendersMarkdown
from .parts import AgendaItem


class AgendaComment(RendersMarkdown):
    """A comment on an agenda item, by an attendee or a team admin.

    Markdown, sanitized when saved like all user text. `mentioned`: the people it
    names with `@name`, found when it is written; they hear of it in their next
    batch of agenda activity.
    """

    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    body_html = RenderedMarkdownField(source="body")
    mentioned = models.ManyToManyField(User, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["agenda_item", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(body=""),
                name="agenda_comment_body_not_blank",
                violation_error_message="A comment needs some text.",
            ),
        ]
        indexes = [
            models.Index(fields=["agenda_item", "created_at"], name="agenda_comment_item_idx"),
        ]

    def __str__(self) -> str:
        return self.body[:60]
