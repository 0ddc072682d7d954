"""iCalendar (RFC 5545) for invitations attached to agenda digests and for feeds.

Built with the `icalendar` package. Each meeting has a stable UID, and SEQUENCE
is the meeting's `sequence` (bumped on every change attendees are told about),
so calendar apps update the event in place rather than adding a copy. Times are
written in the meeting's own zone with a VTIMEZONE for every zone used.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from accounts.mail import site_url

from .markdown import plain_text
from .models import Meeting

PRODID = "-//Bookend//Meeting agendas and recaps//EN"

_PARTSTAT = {"pending": "NEEDS-ACTION", "yes": "ACCEPTED", "maybe": "TENTATIVE", "no": "DECLINED"}


def meeting_uid(meeting: Meeting) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "bookend"
    return f"meeting-{meeting.pk}@{host}"


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name)
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


# The reason calendars are given when a meeting settled in writing is called off.
SETTLED_LINE = "Settled in writing: no meeting needed. The recap says what was decided."


def _description(meeting: Meeting, link: str) -> str:
    lines = []
    if meeting.canceled_at:
        lines.append("This meeting is canceled.")
    elif meeting.settled_at:
        lines.append(SETTLED_LINE)
    elif meeting.agenda_sent_at:
        lines.append(f"Desired outcome: {plain_text(meeting.desired_outcome_html)}")
        for item in meeting.agenda_items.all():
            box = f" ({item.timebox_minutes} min)" if item.timebox_minutes else ""
            lines.append(f"- {item.title}{box}")
    else:
        lines.append("Agenda: not sent yet.")
    lines.append(f"Agenda and recap: {link}")
    return "\n".join(lines)


def meeting_event(meeting: Meeting, *, now: datetime | None = None) -> Event:
    """One VEVENT. Expects `attendees__user`, `organizer` and `agenda_items` prefetched."""
    link = site_url(reverse("meetings:detail", args=[meeting.pk]))
    zone = meeting.zone
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now or timezone.now())
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", meeting.ends_at.astimezone(zone))
    event.add("summary", meeting.title)
    event.add("description", _description(meeting, link))
    event.add("url", link)
    if meeting.location:
        event.add("location", meeting.location)
    event.add("status", "CANCELLED" if meeting.called_off else "CONFIRMED")
    # Each meeting, also one of a series, is its own event with its own UID: no
    # RECURRENCE-ID, which without a master RRULE event of the same UID would be an
    # orphan instance that some clients drop. UID + SEQUENCE keep edits correct.
    organizer = meeting.organizer
    event.add("organizer", _address(organizer.email, organizer.name))
    for attendee in meeting.attendees.all():
        event.add(
            "attendee",
            _address(
                attendee.user.email,
                attendee.user.name,
                ROLE="REQ-PARTICIPANT" if attendee.required else "OPT-PARTICIPANT",
                PARTSTAT=_PARTSTAT.get(attendee.rsvp, "NEEDS-ACTION"),
                RSVP="FALSE",
            ),
        )
    return event


def build_calendar(
    meetings: Iterable[Meeting], *, method: str | None = None, name: str | None = None
) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    now = timezone.now()
    for meeting in meetings:
        cal.add_component(meeting_event(meeting, now=now))
    # One VTIMEZONE per TZID used, generated from the zoneinfo database.
    cal.add_missing_timezones()
    return cal.to_ical()


def invitation(meeting: Meeting) -> bytes:
    """The .ics attached to an agenda digest: REQUEST, or CANCEL once canceled."""
    return build_calendar([meeting], method="CANCEL" if meeting.called_off else "REQUEST")


# -- Subscription feeds --------------------------------------------------------

_STATUS_LINES = {
    "draft": "Agenda: not sent yet.",
    "agenda_sent": "Agenda: sent.",
    "in_progress": "In progress.",
    "awaiting_recap": "Recap: not published yet.",
    "recapped": "Recap: published.",
    "held_without_agenda": "Held without agenda; recap not published yet.",
    "canceled": "This meeting is canceled.",
    "settled": SETTLED_LINE,
}


def feed_description(meeting: Meeting, *, now: datetime) -> str:
    """DESCRIPTION for a feed: agenda/recap status first (BLUF), then the agenda, the link."""
    link = site_url(reverse("meetings:detail", args=[meeting.pk]))
    status = meeting.status_at(now)
    lines = [_STATUS_LINES.get(status, "")]
    if meeting.agenda_sent_at and not meeting.called_off:
        lines.append(f"Desired outcome: {plain_text(meeting.desired_outcome_html)}")
        for item in meeting.agenda_items.all():
            box = f" ({item.timebox_minutes} min)" if item.timebox_minutes else ""
            lines.append(f"- {item.title}{box}")
    lines.append(f"Agenda and recap: {link}")
    return "\n".join(line for line in lines if line)


def build_feed(meetings: Iterable[Meeting], *, name: str, now: datetime | None = None) -> bytes:
    """A calendar that apps subscribe to: one VEVENT per meeting, canceled ones CANCELLED.

    No METHOD (a published feed, not a scheduling message). Expects the same
    prefetching as `meeting_event`.
    """
    now = now or timezone.now()
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    # How often subscribers should refresh: Apple reads REFRESH-INTERVAL, Outlook
    # X-PUBLISHED-TTL; Google ignores both and refreshes on its own schedule.
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for meeting in meetings:
        event = meeting_event(meeting, now=now)
        event.pop("description", None)
        event.add("description", feed_description(meeting, now=now))
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
