"""User Markdown, rendered and then sanitized: safe in pages and in emails.

markdown-it-py renders CommonMark with raw HTML disabled; nh3 (ammonia) then
keeps only an allow-list of tags and attributes and only http(s)/mailto links,
so `<script>`, `onerror=`, `javascript:` links and SVG payloads come out inert.
"""

from __future__ import annotations

import nh3
from django.utils.html import strip_tags
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["strikethrough", "table"]
)

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str) -> str:
    """Markdown to sanitized HTML. The result is safe to mark safe."""
    html = _md.render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(text: str) -> str:
    """User Markdown for plain-text places (email text parts, calendar descriptions):
    rendered and sanitized like everywhere, then the tags stripped."""
    return strip_tags(render_markdown(text)).strip()
