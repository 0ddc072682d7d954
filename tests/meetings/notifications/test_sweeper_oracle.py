"""The reminder sweep agrees with an independent oracle of DESIGN.md's reminder table.

Hypothesis builds small random worlds (one team with a random policy; people in
DST-crossing zones with random working hours and roles; one to three meetings
created before or after their start, whose agenda may be sent, which may be
canceled or recapped through the real services) and sweeps them at one to four
increasing moments. After every sweep the outbox (kind, stage, recipient,
send_after of the four reminder kinds) must equal what the oracle below derives
straight from the table, without `meetings.notifications.stages`: per kind the
latest stage due, each queued once (its first send_after kept), waiting for the
recipient's next working window unless that would make it useless. The oracle's
own next working moment is computed with zoneinfo, including the DST gaps and
folds around the moments the generator favours.

The deterministic tests pin a hand-computed outbox (so the oracle is not vacuous)
and the property test asserts that its examples produced every reminder kind,
rows waiting for working hours and rows sent at once because waiting was useless.
The last tests pin working windows that open inside the hour a DST change skips
or repeats: the reminder must wait for the first instant the recipient works.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from meetings import notifications, services
from meetings.models import Meeting, Notification
from tests.factories import MembershipFactory, TeamFactory, UserFactory, ready_agenda

# DESIGN.md's four reminder kinds, spelled as the outbox stores them.
AGENDA = "agenda_reminder"
NOTICE = "no_agenda_notice"
RECAP = "recap_reminder"
ESCALATION = "recap_escalation"
KINDS = (AGENDA, NOTICE, RECAP, ESCALATION)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
DAILY_LIMIT = 30
ADMIN_ROLES = ("owner", "admin")

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")
# Meetings cluster around DST changes of the zones above (all 2026), and one quiet week.
DST_CHANGES = (
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York springs forward
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # Berlin springs forward
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe falls back 30 min
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe springs forward 30 min
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # Berlin falls back
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York falls back
)
QUIET_WEEK = datetime(2026, 2, 4, 12, 0, tzinfo=UTC)

# What the generated examples must have produced between them (see COVERAGE).
REQUIRED_COVERAGE = {
    *(f"kind:{kind}" for kind in KINDS),
    "send_after:in_hours",
    "send_after:waits",
    "send_after:useless_wait",
    "action:send_agenda",
    "action:cancel",
    "action:publish_recap",
    "created_after_start",
}
COVERAGE: Counter[str] = Counter()


def lease() -> timedelta:
    return timedelta(seconds=getattr(django_settings, "OUTBOX_LEASE_SECONDS", 600))


# -- the world a test example describes ---------------------------------------------


@dataclass(frozen=True)
class Person:
    zone: str
    work_days: int  # bit 0 = Monday
    work_start: time
    work_end: time
    role: str


@dataclass(frozen=True)
class MeetingPlan:
    organizer: int  # index into World.people
    attendees: tuple[int, ...]
    optional: tuple[int, ...]
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    agenda_sent_at: datetime | None = None
    canceled_at: datetime | None = None
    recap_published_at: datetime | None = None


@dataclass(frozen=True)
class World:
    agenda_lead_time: timedelta
    recap_grace: timedelta
    escalate_after: timedelta
    notify_no_agenda: bool
    people: tuple[Person, ...]
    meetings: tuple[MeetingPlan, ...]
    sweeps: tuple[datetime, ...]


# -- the oracle: DESIGN.md's table, read independently ---------------------------------

Key = tuple[int, str, str, int]  # meeting index, kind, stage, recipient index


def is_working(person: Person, moment: datetime) -> bool:
    local = moment.astimezone(ZoneInfo(person.zone))
    on_day = bool(person.work_days >> local.weekday() & 1)
    return on_day and person.work_start <= local.time() < person.work_end


def _offset_changes(zone: ZoneInfo, lo: datetime, hi: datetime) -> list[datetime]:
    """The instants in (lo, hi] at which `zone`'s UTC offset changes, to the second."""
    changes = []
    step = timedelta(minutes=30)
    a, off_a = lo, lo.astimezone(zone).utcoffset()
    while a < hi:
        b = a + step
        off_b = b.astimezone(zone).utcoffset()
        if off_b != off_a:
            x, y = a, b  # offset(x) is the old one, offset(y) the new one
            while y - x > timedelta(seconds=1):
                mid = x + timedelta(seconds=(y - x).total_seconds() // 2)
                if mid.astimezone(zone).utcoffset() == off_a:
                    x = mid
                else:
                    y = mid
            changes.append(y)
        a, off_a = b, off_b
    return changes


def next_working(person: Person, moment: datetime) -> datetime:
    """The first instant at or after `moment` inside the person's working hours.

    Working time is a union of intervals; each starts either where the local wall
    clock reaches work_start (either reading of an ambiguous wall time) or at a
    DST change that jumps the clock into the window. So the first working instant
    is the earliest working one among those candidates.
    """
    if is_working(person, moment):
        return moment
    zone = ZoneInfo(person.zone)
    first_day = moment.astimezone(zone).date() - DAY
    candidates = _offset_changes(zone, moment, moment + 10 * DAY)
    for n in range(11):
        day = first_day + n * DAY
        for fold in (0, 1):
            wall = datetime.combine(day, person.work_start, tzinfo=zone).replace(fold=fold)
            candidates.append(wall.astimezone(UTC))
    found = [c for c in candidates if c >= moment and is_working(person, c)]
    assert found, f"{person} never works"
    return min(found)


def send_after(person: Person, now: datetime, useless_after: datetime | None):
    """(send_after, why): at once (leased) inside working hours or when waiting would be
    useless, else the start of the next working window."""
    if is_working(person, now):
        return now + lease(), "in_hours"
    window = next_working(person, now)
    if useless_after is not None and window >= useless_after:
        return now + lease(), "useless_wait"
    return window, "waits"


def anchor(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def happened(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment <= now


Stage = tuple[str, str, datetime, datetime | None]  # kind, stage, due, useless after


def table(world: World, m: MeetingPlan, now: datetime) -> list[Stage]:
    """Every stage that applies to `m` at `now`, in the table's order."""
    start, end = m.starts_at, m.ends_at
    sent = happened(m.agenda_sent_at, now)
    rows: list[Stage] = []
    if not sent and now < start:
        deadline = start - world.agenda_lead_time
        rows += [
            (AGENDA, f"due_tomorrow@{anchor(start)}", deadline - 24 * HOUR, deadline),
            (AGENDA, f"due_now@{anchor(start)}", deadline, start),
            (AGENDA, f"last_call@{anchor(start)}", start - 2 * HOUR, start),
        ]
    if world.notify_no_agenda and m.created_at < start and not sent and now < end:
        rows.append((NOTICE, f"at_start@{anchor(start)}", start, end))
    grace_end = end + world.recap_grace
    rows.append((RECAP, f"after_end@{anchor(end)}", end + HOUR, None))
    rows.append((RECAP, f"grace@{anchor(end)}", grace_end, None))
    rows += [
        (RECAP, f"daily{n}@{anchor(end)}", grace_end + n * DAY, None)
        for n in range(1, DAILY_LIMIT + 1)
    ]
    rows.append((ESCALATION, f"escalation@{anchor(end)}", end + world.escalate_after, None))
    return rows


def recipients(world: World, m: MeetingPlan, kind: str) -> list[int]:
    if kind == NOTICE:
        return sorted({*m.attendees, *m.optional} - {m.organizer})
    if kind == ESCALATION:
        admins = {i for i, p in enumerate(world.people) if p.role in ADMIN_ROLES}
        return sorted({m.organizer} | admins)
    return [m.organizer]


def oracle_sweep(world: World, now: datetime) -> dict[Key, tuple[datetime, str]]:
    """What one sweep at `now` queues: per meeting and kind, the latest stage due."""
    queued: dict[Key, tuple[datetime, str]] = {}
    for i, m in enumerate(world.meetings):
        if m.created_at > now or happened(m.canceled_at, now):
            continue
        if happened(m.recap_published_at, now):
            continue
        latest: dict[str, tuple[str, datetime, datetime | None]] = {}
        for kind, stage, due, useless in table(world, m, now):
            # On a tie the stage later in the table wins ("last call" over "due now").
            if due <= now and (kind not in latest or due >= latest[kind][1]):
                latest[kind] = (stage, due, useless)
        for kind, (stage, _due, useless) in latest.items():
            for r in recipients(world, m, kind):
                queued[(i, kind, stage, r)] = send_after(world.people[r], now, useless)
    return queued


def oracle_outbox(world: World, sweeps: int | None = None) -> dict[Key, tuple[datetime, str]]:
    """The outbox after the first `sweeps` sweeps: a row keeps its first send_after."""
    outbox: dict[Key, tuple[datetime, str]] = {}
    for now in world.sweeps[:sweeps]:
        for key, value in oracle_sweep(world, now).items():
            outbox.setdefault(key, value)
    return outbox


# -- playing a world through the real services and sweep --------------------------------


def play(world: World) -> dict[Key, datetime]:
    """Build the world, run its actions and sweeps in time order, and check the outbox
    against the oracle after every sweep. Returns the final outbox."""
    team = TeamFactory(
        agenda_lead_time=world.agenda_lead_time,
        recap_grace=world.recap_grace,
        escalate_after=world.escalate_after,
        notify_no_agenda=world.notify_no_agenda,
    )
    users = []
    for p in world.people:
        user = UserFactory(
            time_zone=p.zone, work_days=p.work_days, work_start=p.work_start, work_end=p.work_end
        )
        MembershipFactory(user=user, team=team, role=p.role)
        users.append(user)
    # At one moment: create, send, cancel, publish, then sweep.
    events = [(t, 4, "sweep", n) for n, t in enumerate(world.sweeps)]
    for i, m in enumerate(world.meetings):
        events.append((m.created_at, 0, "create", i))
        for order, action, at in (
            (1, "send_agenda", m.agenda_sent_at),
            (2, "cancel", m.canceled_at),
            (3, "publish_recap", m.recap_published_at),
        ):
            if at is not None:
                events.append((at, order, action, i))
    pks: dict[int, int] = {}
    actual: dict[Key, datetime] = {}
    for at, _order, action, i in sorted(events):
        if action == "sweep":
            notifications.sweep(now=at)
            actual = outbox_rows(pks, users)
            expected = {key: value[0] for key, value in oracle_outbox(world, i + 1).items()}
            assert_same_outbox(actual, expected, at)
            continue
        plan = world.meetings[i]
        organizer = users[plan.organizer]
        if action == "create":
            meeting = services.create_meeting(
                team=team,
                organizer=organizer,
                title=f"Meeting {i}",
                starts_at=plan.starts_at,
                ends_at=plan.ends_at,
                time_zone="Europe/Berlin",
                attendees=[users[a] for a in plan.attendees],
                optional_attendees=[users[a] for a in plan.optional],
                now=at,
            )
            pks[meeting.pk] = i
            continue
        meeting = Meeting.objects.get(pk=next(pk for pk, n in pks.items() if n == i))
        if action == "send_agenda":
            ready_agenda(meeting, by=organizer)
            services.send_agenda(meeting=meeting, by=organizer, now=at)
        elif action == "cancel":
            services.cancel_meeting(meeting=meeting, by=organizer, now=at)
        else:
            services.save_and_publish_recap(
                meeting=meeting,
                by=organizer,
                summary="We decided the thing.",
                notes="",
                no_action_items=True,
                now=at,
            )
    return actual


def outbox_rows(pks: dict[int, int], users) -> dict[Key, datetime]:
    person = {user.pk: n for n, user in enumerate(users)}
    rows = Notification.objects.filter(kind__in=KINDS).values_list(
        "meeting_id", "kind", "stage", "recipient_id", "send_after"
    )
    return {
        (pks[meeting_id], kind, stage, person[recipient_id]): after
        for meeting_id, kind, stage, recipient_id, after in rows
    }


def assert_same_outbox(
    actual: dict[Key, datetime], expected: dict[Key, datetime], now: datetime
) -> None:
    problems = [f"missing {k} send_after={expected[k]}" for k in expected.keys() - actual.keys()]
    problems += [f"unexpected {k} send_after={actual[k]}" for k in actual.keys() - expected.keys()]
    problems += [
        f"{k}: send_after {actual[k]} != oracle {expected[k]}"
        for k in actual.keys() & expected.keys()
        if actual[k] != expected[k]
    ]
    assert not problems, f"after the sweep at {now}:\n" + "\n".join(sorted(problems))


def run_isolated(world: World) -> dict[Key, datetime]:
    """Play `world` in its own transaction, rolled back afterwards."""
    with transaction.atomic():
        result = play(world)
        transaction.set_rollback(True)
    return result


# -- generating worlds -------------------------------------------------------------------


def minutes(lo: int, hi: int) -> st.SearchStrategy[timedelta]:
    return st.integers(lo, hi).map(lambda n: n * MINUTE)


@st.composite
def people(draw) -> Person:
    start = draw(
        st.one_of(
            st.integers(0, 94).map(lambda q: q * 15),  # anywhere on a quarter hour
            st.sampled_from([8 * 60, 9 * 60, 9 * 60 + 30]),  # office hours
            st.sampled_from([0, 90, 105, 120, 135, 150, 165]),  # at the DST changes
        )
    )
    end = min(start + 15 * draw(st.integers(1, 96)), 23 * 60 + 59)
    return Person(
        zone=draw(st.sampled_from(ZONES)),
        work_days=draw(st.one_of(st.sampled_from([0b0011111, 0b1111111]), st.integers(1, 127))),
        work_start=time(start // 60, start % 60),
        work_end=time(end // 60, end % 60),
        role=draw(st.sampled_from(["owner", "admin", "member", "member"])),
    )


def moment_in(draw, lo: datetime, hi: datetime, near: list[datetime]) -> datetime:
    """A whole minute in [lo, hi], often right around one of the `near` moments."""
    span = int((hi - lo) / MINUTE)
    uniform = st.integers(0, span).map(lambda n: lo + n * MINUTE)
    shifted = {t + d * MINUTE for t in near for d in (-1, 0, 1)}
    close = sorted(t for t in shifted if lo <= t <= hi)
    return draw(st.one_of(uniform, st.sampled_from(close)) if close else uniform)


def durations(fixed: list[timedelta], lo: int, hi: int) -> st.SearchStrategy[timedelta]:
    """One of the `fixed` durations, or any whole number of minutes in [lo, hi]."""
    return st.one_of(st.sampled_from(fixed), minutes(lo, hi))


@st.composite
def worlds(draw) -> World:
    lead = draw(durations([15 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, DAY, 2 * DAY], 5, 72 * 60))
    grace = draw(durations([30 * MINUTE, HOUR, DAY], 5, 72 * 60))
    escalate = grace + draw(durations([MINUTE, 2 * DAY], 1, 5 * 24 * 60))
    notify = draw(st.sampled_from([True, True, True, False]))
    staff = tuple(draw(st.lists(people(), min_size=2, max_size=4)))
    everyone = st.integers(0, len(staff) - 1)

    # Meetings on a five-minute grid, within days of a DST change (or a quiet week).
    first = draw(st.sampled_from([*DST_CHANGES, QUIET_WEEK]))
    first += 5 * draw(minutes(-4 * 24 * 12, 4 * 24 * 12))
    shapes = []
    for n in range(draw(st.integers(1, 3))):
        start = first if n == 0 else first + 5 * draw(minutes(-3 * 24 * 12, 3 * 24 * 12))
        end = start + 5 * draw(minutes(3, 72))
        if draw(st.sampled_from([True, True, True, False])):  # announced in advance
            created = start - draw(minutes(1, int((lead + 3 * DAY) / MINUTE)))
            if draw(st.booleans()):  # before its first agenda stage
                created = start - lead - 24 * HOUR - draw(minutes(1, 2 * 24 * 60))
        else:  # recorded at or after its start, perhaps after its end
            created = start + draw(minutes(0, int((end - start + 3 * HOUR) / MINUTE)))
        shapes.append((start, end, created))

    # The sweeps: during a meeting (the no-agenda notice has only that window, so it
    # weighs thrice), in the days before it, around the stages' due times, around the
    # DST changes, before the last start, or anywhere up to past the last daily stage.
    points = []
    for start, end, created in shapes:
        deadline, grace_end = start - lead, end + grace
        points += [created, deadline - DAY, deadline, start - 2 * HOUR, start, end, end + HOUR]
        points += [grace_end + n * DAY for n in (0, 1, 2, 30, 31)] + [end + escalate]
    during = [start + k * (end - start) / 4 for start, end, _ in shapes for k in range(4)]
    ahead = [start - k * (lead + 25 * HOUR) / 6 for start, _, _ in shapes for k in range(1, 7)]
    lo = min(start for start, _, _ in shapes) - lead - 30 * HOUR
    last_start = max(start for start, _, _ in shapes)
    hi = max(end for _, end, _ in shapes) + escalate + 32 * DAY
    jitter = st.sampled_from([0, 0, 1, -1, 30, -30, 7 * 60, 13 * 60, 24 * 60 + 7])
    moment = st.one_of(
        *[st.sampled_from(during)] * 3,
        st.sampled_from(ahead),
        st.builds(lambda t, d: t + d * MINUTE, st.sampled_from(points), jitter),
        st.builds(
            lambda t, d: t + d * MINUTE,
            st.sampled_from(DST_CHANGES),
            st.sampled_from([-90, -30, 0, 10, 70]),
        ),
        minutes(0, int((last_start - lo) / MINUTE)).map(lambda d: lo + d),
        minutes(0, int((hi - lo) / MINUTE)).map(lambda d: lo + d),
    )
    sweeps = tuple(sorted(set(draw(st.lists(moment, min_size=1, max_size=4)))))

    # Who attends, and the transitions, often right around a sweep.
    plans = []
    for start, end, created in shapes:
        organizer = draw(everyone)
        someone_else = (organizer + 1) % len(staff)
        attendees = draw(st.sets(everyone))  # the service adds the organizer
        attendees |= draw(st.sampled_from([{someone_else}, {someone_else}, set()]))
        optional = draw(st.sets(everyone)) - attendees
        sent = canceled = published = None
        if created < start and draw(st.sampled_from([False, False, True])):
            sent = moment_in(draw, created, start - MINUTE, list(sweeps))
        if created < start and draw(st.sampled_from([False, False, True])):
            canceled = moment_in(draw, sent or created, start - MINUTE, list(sweeps))
        if canceled is None and draw(st.booleans()):
            since = max(created, end)
            published = moment_in(draw, since, since + 35 * DAY, list(sweeps))
        plans.append(
            MeetingPlan(
                organizer=organizer,
                attendees=tuple(sorted(attendees)),
                optional=tuple(sorted(optional)),
                starts_at=start,
                ends_at=end,
                created_at=created,
                agenda_sent_at=sent,
                canceled_at=canceled,
                recap_published_at=published,
            )
        )
    return World(lead, grace, escalate, notify, staff, tuple(plans), sweeps)


def note_coverage(world: World) -> None:
    seen = set()
    for (_m, kind, _stage, _r), (_after, why) in oracle_outbox(world).items():
        seen |= {f"kind:{kind}", f"send_after:{why}"}
    for m in world.meetings:
        seen |= {
            f"action:{action}"
            for action, at in (
                ("send_agenda", m.agenda_sent_at),
                ("cancel", m.canceled_at),
                ("publish_recap", m.recap_published_at),
            )
            if at is not None and at <= world.sweeps[-1]
        }
        if m.created_at >= m.starts_at:
            seen.add("created_after_start")
    for label in sorted(seen):
        event(label)
    COVERAGE.update(seen)
    COVERAGE["examples"] += 1


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def sweep_matches_oracle(world: World) -> None:
    run_isolated(world)
    note_coverage(world)


@pytest.mark.django_db
def test_sweep_matches_the_oracle_on_random_worlds():
    COVERAGE.clear()
    sweep_matches_oracle()
    # Not vacuous: between them the examples queued every kind, waited for working
    # hours, skipped a useless wait, and went through every transition.
    assert COVERAGE.keys() >= REQUIRED_COVERAGE, REQUIRED_COVERAGE - COVERAGE.keys()


# -- a fixed world, computed by hand -----------------------------------------------------

OFFICE = {"work_days": 0b0011111, "work_start": time(9, 0), "work_end": time(17, 0)}
FIXED = World(
    agenda_lead_time=24 * HOUR,
    recap_grace=24 * HOUR,
    escalate_after=72 * HOUR,
    notify_no_agenda=True,
    people=(
        Person("Europe/Berlin", role="member", **OFFICE),  # organizer
        Person("Asia/Kolkata", role="member", **OFFICE),  # attendee
        Person("America/New_York", role="admin", **OFFICE),  # team admin
    ),
    meetings=(
        MeetingPlan(
            organizer=0,
            attendees=(1,),
            optional=(),
            starts_at=datetime(2026, 2, 3, 15, 0, tzinfo=UTC),  # Tuesday
            ends_at=datetime(2026, 2, 3, 16, 0, tzinfo=UTC),
            created_at=datetime(2026, 1, 30, 12, 0, tzinfo=UTC),
        ),
    ),
    sweeps=(
        datetime(2026, 2, 2, 15, 0, tzinfo=UTC),  # Mon 16:00 Berlin: "due now"
        datetime(2026, 2, 3, 15, 30, tzinfo=UTC),  # during the meeting: no agenda
        datetime(2026, 2, 6, 16, 0, tzinfo=UTC),  # Fri: daily2 and the escalation
    ),
)


def test_fixed_world_gives_the_hand_computed_outbox(db):
    s, e = "20260203T1500Z", "20260203T1600Z"
    monday_9_berlin = datetime(2026, 2, 9, 8, 0, tzinfo=UTC)
    expected = {
        # Monday 16:00 Berlin is working time: at once.
        (0, AGENDA, f"due_now@{s}", 0): FIXED.sweeps[0] + lease(),
        # 21:00 in Kolkata; the next window (Wed 09:00 IST) is after the end: at once.
        (0, NOTICE, f"at_start@{s}", 1): FIXED.sweeps[1] + lease(),
        # Friday 17:00 Berlin is just past the window: Monday 09:00 CET.
        (0, RECAP, f"daily2@{e}", 0): monday_9_berlin,
        (0, ESCALATION, f"escalation@{e}", 0): monday_9_berlin,
        # Friday 11:00 in New York: at once.
        (0, ESCALATION, f"escalation@{e}", 2): FIXED.sweeps[2] + lease(),
    }
    assert {k: v[0] for k, v in oracle_outbox(FIXED).items()} == expected
    assert run_isolated(FIXED) == expected


def test_oracle_next_working_moment_across_dst_changes():
    berlin = Person("Europe/Berlin", 0b1111111, time(2, 30), time(4, 0), "member")
    # Spring forward: 02:30 does not exist; the window opens with the clock at 03:00.
    assert next_working(berlin, datetime(2026, 3, 29, 0, 50, tzinfo=UTC)) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )
    late = Person("Europe/Berlin", 0b1111111, time(2, 30), time(2, 40), "member")
    # Fall back: at 02:10 CET (the second pass) the next window is 02:30 CET, not the
    # 02:30 CEST that has already passed.
    assert next_working(late, datetime(2026, 10, 25, 1, 10, tzinfo=UTC)) == datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC
    )
    office = Person("America/New_York", 0b0011111, time(9, 0), time(17, 0), "member")
    # Friday evening before the fall back: Monday 09:00 EST.
    assert next_working(office, datetime(2026, 10, 30, 22, 0, tzinfo=UTC)) == datetime(
        2026, 11, 2, 14, 0, tzinfo=UTC
    )


# -- working windows that open inside a DST change ----------------------------------------
# A window starting at 02:00-03:00 local meets the hour a DST change skips or repeats.
# The reminder must still wait for the first instant the recipient really is working.


def dst_world(person: Person, sweep: datetime) -> World:
    """One meeting recorded at its start (no agenda stages), ended an hour before `sweep`:
    the sweep queues its "after_end" recap reminder."""
    end = sweep - HOUR
    return World(
        agenda_lead_time=24 * HOUR,
        recap_grace=24 * HOUR,
        escalate_after=72 * HOUR,
        notify_no_agenda=True,
        people=(person,),
        meetings=(MeetingPlan(0, (), (), end - HOUR, end, end - HOUR),),
        sweeps=(sweep,),
    )


EVERY_DAY = 0b1111111
DST_CASES = {
    # Sun 29 Mar 2026, Berlin: 02:00 CET jumps to 03:00 CEST (01:00 UTC). A 02:00-02:15
    # window does not exist that day; the next one is Mon 02:00 CEST = Mon 00:00 UTC.
    "window_skipped_by_spring_forward": (
        Person("Europe/Berlin", EVERY_DAY, time(2, 0), time(2, 15), "member"),
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # Sun 00:30 CET
        datetime(2026, 3, 30, 0, 0, tzinfo=UTC),
    ),
    # Same night, a 02:30-04:00 window: working from 03:00 CEST (01:00 UTC), the first
    # instant the wall clock is inside it.
    "window_shortened_by_spring_forward": (
        Person("Europe/Berlin", EVERY_DAY, time(2, 30), time(4, 0), "member"),
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    ),
    # Sun 25 Oct 2026, Berlin: 03:00 CEST falls back to 02:00 CET (01:00 UTC). At 02:10
    # CET (second pass) a 02:30-02:40 window is still ahead: 02:30 CET = 01:30 UTC.
    "window_repeated_by_fall_back": (
        Person("Europe/Berlin", EVERY_DAY, time(2, 30), time(2, 40), "member"),
        datetime(2026, 10, 25, 1, 10, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    ),
}


@pytest.mark.parametrize("case", DST_CASES)
def test_reminder_waits_for_a_window_opening_inside_a_dst_change(db, case):
    person, sweep, window = DST_CASES[case]
    world = dst_world(person, sweep)
    key = (0, RECAP, f"after_end@{anchor(sweep - HOUR)}", 0)
    assert not is_working(person, sweep)
    assert {k: v[0] for k, v in oracle_outbox(world).items()} == {key: window}
    assert run_isolated(world) == {key: window}
