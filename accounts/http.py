"""Small request helpers shared by the apps' views."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

HISTORY_PAGE = 50


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The local path in `next` to go back to, or the fallback.

    Never another site: Django's check also catches `/\\evil.example` and
    `//evil.example`, which browsers read as another host.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and not any(ord(char) < 32 for char in target)
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return fallback


def parse_id(text: str) -> int | None:
    """A row id from a query string or form, or None: only plain ASCII digits that
    fit a bigint ("²" is a digit to Python, 10**30 is not an id PostgreSQL can take)."""
    if text.isascii() and text.isdigit() and len(text) < 19:
        return int(text)
    return None


def history_page(request: HttpRequest, events: QuerySet) -> dict:
    """The context of `partials/audit_events.html`: one page of audit events, newest
    first, with times in the viewer's named zone."""
    page = Paginator(events, HISTORY_PAGE).get_page(request.GET.get("page"))
    return {
        "events": page.object_list,
        "page": page,
        "zone_name": timezone.get_current_timezone_name(),
    }
