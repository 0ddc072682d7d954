"""Template helpers available in every template (registered as builtins)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from meetings.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    # render_markdown sanitizes with nh3, so marking the result safe is sound.
    return mark_safe(render_markdown(text))  # noqa: S308
