"""Many meetings of every kind the compliance figures count, written in bulk: the
figures' query cost is under test, not the writes (1,000 meetings in seconds)."""

from __future__ import annotations

from datetime import datetime, timedelta

from accounts.models import Team, User
from meetings.models import AgendaItem, Attendee, Decision, Meeting, Outcome, Series


def bulk_meetings(team: Team, people: list[User], count: int, *, first: datetime) -> None:
    """`count` meetings from `first` on, one an hour: held ones with and without agenda
    and recap, some shortened, some settled in writing, half of them in two series;
    with attendees (some declined), agenda items (discussed, decided, settled),
    decisions and action-item-free recaps."""
    series = [
        Series.objects.create(
            team=team,
            organizer=people[0],
            title=f"Series {n}",
            rrule="FREQ=WEEKLY",
            first_start=first,
            duration=timedelta(minutes=30),
            time_zone="UTC",
        )  # fmt: skip
        for n in range(2)
    ]
    rows = []
    for n in range(count):
        starts = first + timedelta(hours=n)
        settled = n % 7 == 0
        recapped = settled or n % 3 != 0
        in_series = series[n % 2] if n % 2 == 0 or n % 5 == 0 else None
        rows.append(
            Meeting(
                team=team, organizer=people[n % len(people)], title=f"M{n}",
                starts_at=starts, ends_at=starts + timedelta(minutes=30 + 15 * (n % 3)),
                time_zone="UTC", desired_outcome="x",
                agenda_sent_at=None if n % 4 == 0 else starts - timedelta(hours=n % 48 + 1),
                recap_summary="s" if recapped else "", no_action_items=True,
                settled_at=starts - timedelta(hours=2) if settled else None,
                recap_published_at=(starts - timedelta(hours=2) if settled
                                    else starts + timedelta(hours=n % 40 + 1) if recapped
                                    else None),
                shortened_minutes=15 if n % 5 == 1 else 0,
                series=in_series, occurrence_start=starts if in_series else None,
            )
        )  # fmt: skip
    meetings = Meeting.objects.bulk_create(rows)
    attendees, items = [], []
    for n, meeting in enumerate(meetings):
        for k, person in enumerate(people[:3]):
            declined = k == 2 and n % 2 == 0
            attendees.append(
                Attendee(meeting=meeting, user=person, rsvp="no" if declined else "yes")
            )
        settled = meeting.settled_at is not None
        for k in range(2):
            if settled or (k == 0 and n % 5 == 1):
                outcome, settled_at = Outcome.SETTLED, meeting.starts_at - timedelta(hours=3)
            else:
                outcome, settled_at = (Outcome.DISCUSSED if n % 2 else Outcome.DECIDED), None
            items.append(
                AgendaItem(
                    meeting=meeting,
                    position=k,
                    title=f"Item {k}",
                    outcome=outcome,
                    settled_at=settled_at,
                    timebox_minutes=15,
                )  # fmt: skip
            )
    Attendee.objects.bulk_create(attendees)
    AgendaItem.objects.bulk_create(items)
    Decision.objects.bulk_create(
        Decision(meeting=item.meeting, text="Agreed", agenda_item=item)
        for item in items
        if item.outcome in (Outcome.SETTLED, Outcome.DECIDED)
    )


def recent_world(team: Team, organizer: User, member: User, team_admin: User, *, now: datetime):
    """Three meetings of the last few days for the pages' tests, written directly.

    - A, 3 days ago, 60 min: organizer, member, and a colleague who declined →
      2 × 60 = 120 person-minutes. One item, only discussed; recapped with no decision
      and no action item.
    - B, in the series "Design review", due 2 days ago, 45 min: organizer and member;
      its one item and then the meeting settled in writing the day before → 2 × 45
      = 90 person-minutes saved; its recap holds the settlement (a decision).
    - C, 4 days ago, shortened by 30 min to 30 min: organizer, member, admin →
      3 × 30 = 90 person-minutes held and 90 saved; no items, never recapped.
    Totals: 3.5 person-hours held, 1.5 saved by settling, 1.5 by shortening; 1 of 2
    recaps empty (50 %); 1 meeting only discussed; 1 item settled in writing.
    """
    from accounts.models import Membership

    colleague = User.objects.create_user(email="colleague@example.com", password="x")
    Membership.objects.create(user=colleague, team=team)
    weekly = Series.objects.create(
        team=team, organizer=organizer, title="Design review", rrule="FREQ=WEEKLY",
        first_start=now, duration=timedelta(minutes=45), time_zone="UTC",
    )  # fmt: skip

    def meeting(title: str, starts: datetime, minutes: int, **fields) -> Meeting:
        return Meeting.objects.create(
            team=team, organizer=organizer, title=title, time_zone="UTC", starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes), desired_outcome="Decide.", **fields,
        )  # fmt: skip

    a_start = now - timedelta(days=3)
    a = meeting("A", a_start, 60, agenda_sent_at=a_start - timedelta(days=1),
                recap_summary="Talked.", no_action_items=True,
                recap_published_at=a_start + timedelta(hours=2))  # fmt: skip
    b_start = now - timedelta(days=2)
    settled = b_start - timedelta(days=1)
    b = meeting("B", b_start, 45, series=weekly, occurrence_start=b_start,
                recap_summary="All settled.", no_action_items=True,
                settled_at=settled, recap_published_at=settled)  # fmt: skip
    c_start = now - timedelta(days=4)
    c = meeting("C", c_start, 30, agenda_sent_at=c_start - timedelta(days=1),
                shortened_minutes=30)  # fmt: skip
    Attendee.objects.bulk_create(
        [
            Attendee(meeting=a, user=organizer, rsvp="yes"),
            Attendee(meeting=a, user=member),
            Attendee(meeting=a, user=colleague, rsvp="no"),
            Attendee(meeting=b, user=organizer),
            Attendee(meeting=b, user=member, rsvp="yes"),
            *(Attendee(meeting=c, user=u) for u in (organizer, member, team_admin)),
        ]
    )
    AgendaItem.objects.create(meeting=a, title="Roadmap", outcome=Outcome.DISCUSSED)
    item = AgendaItem.objects.create(meeting=b, title="Logo", outcome=Outcome.SETTLED,
                                     settled_at=settled - timedelta(hours=1))  # fmt: skip
    Decision.objects.create(meeting=b, text="The old logo", agenda_item=item)
    return {"A": a, "B": b, "C": c, "series": weekly}
