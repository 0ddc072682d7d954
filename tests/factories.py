"""Small factories for test data. Meetings go through the service, as in the app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory
from django.utils import timezone

from accounts.models import Membership, Team, User
from meetings import series as series_service
from meetings import services
from meetings.models import Meeting, Series


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    time_zone = "UTC"
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Membership.Role.MEMBER


def MeetingFactory(  # noqa: N802 - reads like the other factories
    *,
    team: Team,
    organizer: User,
    attendees: list[User] = (),
    title: str = "Weekly sync",
    starts_at: datetime | None = None,
    duration: timedelta = timedelta(hours=1),
    time_zone: str = "Europe/Berlin",
    now: datetime | None = None,
) -> Meeting:
    """A meeting starting two days after `now`, unless told otherwise."""
    now = now or timezone.now()
    starts_at = starts_at or (now + timedelta(days=2))
    return services.create_meeting(
        team=team,
        organizer=organizer,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + duration,
        time_zone=time_zone,
        attendees=attendees,
        now=min(now, starts_at),
    )


def make_series(
    team: Team,
    organizer: User,
    *,
    first_start: datetime,
    now: datetime,
    title: str = "Weekly",
    duration: timedelta = timedelta(minutes=30),
    time_zone: str = "UTC",
    rrule: str = "FREQ=WEEKLY",
    **extra,
) -> Series:
    """A series through the service; `first_start` is naive local time in `time_zone`."""
    return series_service.create_series(
        team=team,
        organizer=organizer,
        title=title,
        first_start=first_start,
        duration=duration,
        time_zone=time_zone,
        rrule=rrule,
        now=now,
        **extra,
    )


def ready_agenda(meeting: Meeting, *, by: User, items: int = 1) -> Meeting:
    """Give a meeting a desired outcome and `items` agenda items, ready to send."""
    meeting.desired_outcome = "Decide the thing."
    meeting.save(update_fields=["desired_outcome"])
    for n in range(items):
        services.add_agenda_item(meeting=meeting, title=f"Item {n + 1}", added_by=by)
    return meeting


EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
