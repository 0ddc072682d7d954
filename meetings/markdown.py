"""User Markdown, rendered and then sanitized: safe in pages and in emails.

markdown-it-py renders CommonMark with raw HTML disabled; nh3 (ammonia) then
keeps only an allow-list of tags and attributes and only http(s)/mailto links,
so `<script>`, `onerror=`, `javascript:` links and SVG payloads come out inert.
"""

from __future__ import annotations

from html import unescape

import nh3
from django.db import models
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
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


def plain_text(html: str) -> str:
    """User Markdown for plain-text places (email text parts, calendar descriptions):
    its stored, sanitized HTML (a `RenderedMarkdownField`) with the tags stripped and
    the entities decoded ("&amp;" reads "&")."""
    return unescape(strip_tags(html)).strip()


class RenderedMarkdownField(models.TextField):
    """The sanitized HTML of the Markdown in `source`, rendered when the row is written.

    Pages show this column instead of rendering the Markdown on every view.
    `pre_save` runs on every INSERT (bulk_create included) and every full save;
    `RendersMarkdown.save` adds the column to `update_fields` whenever its
    source is listed there. QuerySet.update() bypasses both: write the source
    with save(update_fields=...) instead.
    """

    def __init__(self, *args, source: str = "", **kwargs) -> None:
        self.source = source
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        # Rows inserted in SQL (benchmarks, constraint tests) start empty too.
        kwargs.setdefault("db_default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, value in (
            ("blank", True),
            ("default", ""),
            ("db_default", ""),
            ("editable", False),
        ):
            # db_default comes back wrapped in Value().
            if getattr(kwargs.get(key), "value", kwargs.get(key)) == value:
                del kwargs[key]
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection) -> SafeString:
        # Only render_markdown's sanitized output is ever stored here.
        return mark_safe(value)  # noqa: S308

    def pre_save(self, model_instance, add: bool) -> SafeString:
        html = mark_safe(render_markdown(getattr(model_instance, self.source)))  # noqa: S308
        setattr(model_instance, self.attname, html)
        return html


class RendersMarkdown(models.Model):
    """A model with RenderedMarkdownFields: saving a source saves its HTML too."""

    class Meta:
        abstract = True

    def save(self, *args, update_fields=None, **kwargs) -> None:
        if update_fields is not None:
            update_fields = set(update_fields)
            update_fields |= {
                field.name
                for field in self._meta.concrete_fields
                if isinstance(field, RenderedMarkdownField) and field.source in update_fields
            }
        super().save(*args, update_fields=update_fields, **kwargs)
