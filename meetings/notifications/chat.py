"""Team events in chat channels: the message each product's incoming webhook takes.

`render(kind, body)` turns an event's versioned body (`events.body`) into the JSON
document to POST to a Slack, Mattermost or Microsoft Teams incoming webhook.
What a message says is decided once, in `content`: the bottom line first (what
happened and what is needed), then the details, then the link back to the
meeting, with times in the meeting's own zone, named. The three formatters only
lay that out in each product's format, escape user text for it and keep within
its limits; a list that does not fit ends in "… and N more".

User Markdown (desired outcome, summary, decisions) is shown as plain text, as in
the e-mails' text parts: each product speaks a different dialect, and a summary's
heading or table would break the message's layout.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils.dateformat import format as date_format
from django.utils.text import Truncator
from django.utils.timesince import timesince

from ..markdown import plain_text, render_markdown
from ..models import CHAT_EVENTS, EndpointKind, EventType

LINK_LABEL = "Open the meeting"
# A channel message points to the meeting page; it does not replace it.
MAX_LINES = 20  # items per list (agenda items, decisions, action items in all)
MAX_LINE = 300  # characters of one title or description
MAX_TEXT = 1000  # characters of a desired outcome or summary


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[str]
    more: int = 0  # items left out: "… and N more"


@dataclass(frozen=True)
class Content:
    """One message, before any product's layout: plain text throughout."""

    headline: str  # the bottom line
    facts: list[tuple[str, str]]
    sections: list[Section]
    url: str
    team: str
    urgent: bool  # something was missed (no agenda, no recap)


def render(kind: str, body: dict) -> dict:
    """The JSON document to POST to a chat channel of `kind` for this event body.

    Raises ValueError for a kind that is not a chat channel, or an event type
    that chat channels do not get (CHAT_EVENTS).
    """
    formatter = FORMATTERS.get(kind)
    if formatter is None:
        raise ValueError(f"{kind!r} is not a chat channel.")
    return formatter(content(body))


# -- what a message says ----------------------------------------------------------------


def content(body: dict) -> Content:
    event_type = body["type"]
    if event_type not in CHAT_EVENTS:
        raise ValueError(f"{event_type!r} is not sent to chat channels.")
    data = body["data"]
    meeting = data["meeting"]
    zone_name = meeting["time_zone"]
    zone = ZoneInfo(zone_name)
    starts = datetime.fromisoformat(meeting["starts_at"]).astimezone(zone)
    ends = datetime.fromisoformat(meeting["ends_at"]).astimezone(zone)
    title = _line(meeting["title"])
    organizer = _line(meeting["organizer"]["name"])
    facts = [("When", _span(starts, ends, zone_name)), ("Organizer", organizer)]
    urgent = False

    if event_type == EventType.AGENDA_SENT:
        agenda = data["agenda"]
        headline = f"Agenda sent: {title}, {date_format(starts, 'D j M H:i')} ({zone_name})"
        sections = [
            _paragraph("Desired outcome", agenda["desired_outcome"]),
            _listing("Agenda", [_agenda_line(n, i) for n, i in enumerate(agenda["items"], 1)]),
        ]
    elif event_type == EventType.MEETING_STARTED_WITHOUT_AGENDA:
        headline = f"No agenda: {title} started without one"
        sections = [
            Section(
                "What now",
                [f"Agree on the desired outcome at the start; {organizer} still owes the recap."],
            )
        ]
        urgent = True
    elif event_type == EventType.RECAP_PUBLISHED:
        recap = data["recap"]
        decisions, actions = recap["decisions"], recap["action_items"]
        headline = (
            f"Recap published: {title} — {_count(len(decisions), 'decision')}, "
            f"{_count(len(actions), 'action item')}"
        )
        sections = [_paragraph("Summary", recap["summary"])]
        if decisions:
            sections.append(_listing("Decisions", [_markdown_line(d["text"]) for d in decisions]))
        sections += _by_owner(actions) or [
            Section("Action items", ["No action items came out of this meeting."])
        ]
    else:  # EventType.RECAP_OVERDUE
        now = datetime.fromisoformat(body["timestamp"])
        # timesince joins number and unit with a no-break space; chat wants a plain one.
        ago = timesince(ends, now, depth=1).replace("\xa0", " ")
        headline = f"Recap overdue: {title} ended {ago} ago, no recap yet"
        sections = [
            Section("What now", [f"{organizer} organized it: publish the recap, or ask for it."])
        ]
        urgent = True
    return Content(headline, facts, sections, meeting["url"], _line(data["team"]["name"]), urgent)


def _line(text: str) -> str:
    """One line of user text: whitespace folded (a newline cannot break the layout), cut."""
    return Truncator(" ".join(text.split())).chars(MAX_LINE)


def _markdown_line(source: str) -> str:
    return _line(plain_text(render_markdown(source)))


def _paragraph(title: str, source: str) -> Section:
    text = Truncator(plain_text(render_markdown(source))).chars(MAX_TEXT)
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return _listing(title, lines)


def _listing(title: str, lines: list[str]) -> Section:
    return Section(title, lines[:MAX_LINES], max(0, len(lines) - MAX_LINES))


def _count(n: int, noun: str) -> str:
    return f"{n or 'no'} {noun}{'' if n == 1 else 's'}"


def _span(starts: datetime, ends: datetime, zone_name: str) -> str:
    """ "Tue 3 Mar 2026, 10:00–11:00 (Europe/Berlin)", the end's day named if it differs."""
    end = date_format(ends, "H:i" if ends.date() == starts.date() else "D j M H:i")
    return f"{date_format(starts, 'D j M Y, H:i')}–{end} ({zone_name})"


def _day(iso: str) -> str:
    return date_format(date.fromisoformat(iso), "D j M")


def _agenda_line(number: int, item: dict) -> str:
    line = f"{number}. {_line(item['title'])}"
    if item["timebox_minutes"]:
        line += f" ({item['timebox_minutes']} min)"
    if item["owner"]:
        line += f" · {_line(item['owner']['name'])}"
    return line


def _by_owner(items: list[dict]) -> list[Section]:
    """Action items grouped by owner (by name), each with its due date; MAX_LINES in all."""
    groups: dict[int, list[dict]] = {}
    for item in items:  # the body lists them by due date
        groups.setdefault(item["owner"]["id"], []).append(item)
    ordered = sorted(
        groups.values(), key=lambda g: (g[0]["owner"]["name"].casefold(), g[0]["owner"]["id"])
    )
    sections, room = [], MAX_LINES
    for group in ordered:
        shown = group[:room]
        if not shown:
            break
        lines = [f"{_line(i['description'])} — due {_day(i['due_date'])}" for i in shown]
        owner = _line(group[0]["owner"]["name"])
        sections.append(Section(f"Action items: {owner}", lines, len(group) - len(shown)))
        room -= len(shown)
    if left := len(items) - sum(len(s.lines) + s.more for s in sections):
        sections.append(Section("Action items of others", [], left))
    return sections


# -- fitting within a product's limits --------------------------------------------------


def and_more(n: int) -> str:
    return f"… and {n} more"


def fit(
    lines: list[str],
    limit: int,
    *,
    more: int = 0,
    escape: Callable[[str], str] = str,
    measure: Callable[[str], int] = len,
    sep: str = "\n",
) -> list[str]:
    """The escaped `lines`, as many as fit in `limit` (by `measure`, joined with `sep`),
    then "… and N more" for what was left out. A first line too long alone is cut."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        left = len(lines) - i - 1 + more  # after this line, if it is kept
        reserve = len(sep) + measure(and_more(left)) if left else 0
        room = limit - used - (len(sep) if out else 0) - reserve
        text = escape(line)
        if measure(text) > room:
            if out:
                more += len(lines) - i
                break
            text = _clip(line, room, escape, measure)
        out.append(text)
        used += (len(sep) if len(out) > 1 else 0) + measure(text)
    if more:
        out.append(and_more(more))
    return out


def _clip(
    text: str, limit: int, escape: Callable[[str], str], measure: Callable[[str], int]
) -> str:
    # Cut the raw text, never the escaped one (no half "&amp;"). Each raw character
    # measures at least one, so cutting the excess ends within a round or two.
    out = escape(text)
    while measure(out) > limit and text:
        text = text[: len(text) - max(1, measure(out) - limit)].rstrip()
        out = escape(text + "…")
    return out


# -- Slack: Block Kit (https://docs.slack.dev/reference/block-kit/blocks) ----------------

SLACK_HEADER = 150  # plain_text of a header block
SLACK_SECTION = 3000  # text of a section block
SLACK_FIELD = 2000  # one field of a section block (at most 10)
SLACK_TOTAL = 12000  # all sections: a channel message, not a document


def slack_escape(text: str) -> str:
    """Slack's three control characters (mrkdwn): nothing a user typed becomes a link
    or a mention (<!channel>)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack(c: Content) -> dict:
    each = min(SLACK_SECTION, SLACK_TOTAL // max(1, len(c.sections)))
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(c.headline, SLACK_HEADER, str, len)},
        },
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": f"*{label}*\n"
                    + _clip(value, SLACK_FIELD - len(label) - 3, slack_escape, len),
                }
                for label, value in c.facts
            ],
        },
    ]
    for s in c.sections:
        heading = f"*{slack_escape(s.title)}*\n"
        lines = fit(s.lines, each - len(heading), more=s.more, escape=slack_escape)
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": heading + "\n".join(lines)}}
        )
    blocks += [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": LINK_LABEL},
                    "url": c.url,
                }
            ],
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"Bookend · {slack_escape(c.team)}"}],
        },
    ]
    # `text` is the notification's and the screen reader's fallback: bottom line first.
    text = "\n".join([slack_escape(c.headline), *(f"{k}: {slack_escape(v)}" for k, v in c.facts)])
    return {"text": text, "blocks": blocks}


# -- Mattermost: text and Slack-compatible attachments -------------------------------------
# https://developers.mattermost.com/integrate/reference/message-attachments/

MATTERMOST_TOTAL = 12000  # the attachment's text: well inside a post's limits
MATTERMOST_COLORS = {False: "#1F6FEB", True: "#D97706"}


def markdown_escape(text: str) -> str:
    """CommonMark's backslash escape before the punctuation Markdown gives a meaning,
    and an invisible word joiner after "@": Mattermost notifies the whole channel on
    @channel, @all or @here in a webhook post, and a backslash does not stop that."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~&])", r"\\\1", text).replace("@", "@\u2060")


def _mattermost(c: Content) -> dict:
    each = MATTERMOST_TOTAL // max(1, len(c.sections))
    parts = []
    for s in c.sections:
        heading = f"**{markdown_escape(s.title)}**"
        parts.append(
            "\n".join([heading, *fit(s.lines, each, more=s.more, escape=markdown_escape)])
        )
    attachment = {
        "fallback": c.headline,  # plain text by definition
        "color": MATTERMOST_COLORS[c.urgent],
        "title": LINK_LABEL,
        "title_link": c.url,
        "fields": [
            {"title": label, "value": markdown_escape(value), "short": True}
            for label, value in c.facts
        ],
        "text": "\n\n".join(parts),
    }
    return {"text": markdown_escape(c.headline), "attachments": [attachment]}


# -- Microsoft Teams: one Adaptive Card (https://adaptivecards.io/explorer/) -------------
# User text goes in TextRuns, which Adaptive Cards never read as Markdown (TextBlock
# and Fact do, and backslash escapes differ between Teams' clients).

TEAMS_TOTAL = 20000  # bytes of all sections' elements, as JSON: Teams takes 28 KB a message


def _run(text: str, **style) -> dict:
    return {"type": "TextRun", "text": text, **style}


def _rich(*runs: dict, **props) -> dict:
    return {"type": "RichTextBlock", "inlines": list(runs), **props}


def _line_block(text: str) -> dict:
    return _rich(_run(text), spacing="None")


def _json_size(element: dict) -> int:
    return len(json.dumps(element)) + 1  # and its comma


def _teams(c: Content) -> dict:
    each = TEAMS_TOTAL // max(1, len(c.sections))
    headline_style = {"color": "Attention"} if c.urgent else {}
    body: list[dict] = [
        _rich(_run(c.headline, weight="Bolder", size="Medium", **headline_style)),
        *(
            _rich(_run(f"{label}: ", weight="Bolder"), _run(value), spacing="Small")
            for label, value in c.facts
        ),
    ]
    for s in c.sections:
        lines = fit(
            s.lines, each, more=s.more, measure=lambda t: _json_size(_line_block(t)), sep=""
        )
        body.append(
            {
                "type": "Container",
                "separator": True,
                "items": [_rich(_run(s.title, weight="Bolder")), *map(_line_block, lines)],
            }
        )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": LINK_LABEL, "url": c.url}],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


FORMATTERS: dict[str, Callable[[Content], dict]] = {
    EndpointKind.SLACK: _slack,
    EndpointKind.MATTERMOST: _mattermost,
    EndpointKind.TEAMS: _teams,
}
