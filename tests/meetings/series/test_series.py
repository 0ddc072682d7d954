"""Series: generation up to the horizon, idempotency, templates, edits, splits, cancel."""

from __future__ import annotations

import threading
import zoneinfo
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from meetings import series as series_service
from meetings import services
from meetings.models import AgendaTemplate, Meeting, RuleBroken, Series, TemplateItem

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday


def weekly(team, organizer, *, attendees=(), rrule="FREQ=WEEKLY;BYDAY=TU", now=NOW, **extra):
    return series_service.create_series(
        team=team,
        organizer=organizer,
        title="Weekly sync",
        first_start=datetime(2026, 3, 3, 9, 0),
        duration=timedelta(minutes=30),
        time_zone="Europe/Berlin",
        rrule=rrule,
        attendees=attendees,
        now=now,
        **extra,
    )


def test_series_generates_meetings_up_to_the_horizon(team, organizer, member, settings):
    settings.SERIES_HORIZON_DAYS = 28
    series = weekly(team, organizer, attendees=[member])
    meetings = list(series.meetings.order_by("starts_at"))
    assert len(meetings) == 4  # 3, 10, 17, 24 March; 31 March is past 28 days
    assert all(m.starts_at.astimezone(BERLIN).time() == time(9, 0) for m in meetings)
    assert all(m.ends_at - m.starts_at == timedelta(minutes=30) for m in meetings)
    assert [m.occurrence_start for m in meetings] == [m.starts_at for m in meetings]
    assert set(meetings[0].attendees.values_list("user_id", flat=True)) == {
        organizer.pk,
        member.pk,
    }
    assert series.generated_until == NOW + timedelta(days=28)


def test_generation_keeps_nine_local_across_dst(team, organizer, settings):
    settings.SERIES_HORIZON_DAYS = 60
    series = weekly(team, organizer)
    utc_hours = {m.starts_at.hour for m in series.meetings.all()}
    local = {m.starts_at.astimezone(BERLIN).time() for m in series.meetings.all()}
    assert local == {time(9, 0)}
    assert utc_hours == {7, 8}  # CET before 29 March, CEST after


def test_generation_twice_creates_nothing_new(team, organizer):
    series = weekly(team, organizer)
    count = series.meetings.count()
    assert series_service.generate(series, now=NOW) == []
    assert series_service.generate_due(now=NOW) == 0
    assert series.meetings.count() == count


def test_generation_moves_with_time_and_skips_past_occurrences(team, organizer, settings):
    settings.SERIES_HORIZON_DAYS = 14
    series = weekly(team, organizer, now=NOW + timedelta(days=3))  # after the 3 March one
    starts = [m.starts_at.astimezone(BERLIN).day for m in series.meetings.all()]
    assert starts == [10, 17]
    created = series_service.generate_due(now=NOW + timedelta(days=10))
    assert created == 1
    assert [m.starts_at.astimezone(BERLIN).day for m in series.meetings.all()] == [10, 17, 24]


def test_database_refuses_a_second_meeting_for_one_occurrence(team, organizer):
    series = weekly(team, organizer)
    first = series.meetings.first()
    with (
        pytest.raises(IntegrityError, match="meeting_unique_series_occurrence"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO meetings_meeting (team_id, series_id, occurrence_start, title, "
            "organizer_id, starts_at, ends_at, time_zone, location, created_at, "
            "desired_outcome, sequence, recap_summary, recap_notes, no_action_items) "
            "SELECT team_id, series_id, occurrence_start, title, organizer_id, starts_at, "
            "ends_at, time_zone, location, created_at, desired_outcome, sequence, "
            "recap_summary, recap_notes, no_action_items FROM meetings_meeting WHERE id = %s",
            [first.pk],
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_generation_creates_each_occurrence_once(team, organizer, settings):
    settings.SERIES_HORIZON_DAYS = 7
    series = weekly(team, organizer)
    Meeting.objects.filter(series=series).delete()
    Series.objects.filter(pk=series.pk).update(generated_until=None)
    later = NOW - timedelta(hours=1)
    errors = []

    def run():
        try:
            series_service.generate(Series.objects.get(pk=series.pk), now=later)
        except Exception as exc:  # pragma: no cover - the assertion shows it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Meeting.objects.filter(series=series).count() == 1


def test_bad_rule_is_refused_and_nothing_is_created(team, organizer):
    with pytest.raises(RuleBroken, match="daily, weekly"):
        weekly(team, organizer, rrule="FREQ=SECONDLY")
    assert not Series.objects.exists()
    assert not Meeting.objects.exists()


def test_attendees_must_be_team_members(team, organizer, outsider):
    with pytest.raises(RuleBroken, match="member of"):
        weekly(team, organizer, attendees=[outsider])
    assert not Series.objects.exists()


def test_new_meetings_start_from_the_series_template(team, organizer):
    library = AgendaTemplate.objects.create(team=team, name="Sync", desired_outcome="Unblock.")
    TemplateItem.objects.create(template=library, position=0, title="Wins", timebox_minutes=5)
    TemplateItem.objects.create(template=library, position=1, title="Blockers", timebox_minutes=15)
    series = weekly(team, organizer, template=library)
    own = series.own_template
    assert own is not None and own.pk != library.pk  # the series has its own copy
    for meeting in series.meetings.all():
        assert meeting.desired_outcome == "Unblock."
        assert [(i.title, i.timebox_minutes) for i in meeting.agenda_items.all()] == [
            ("Wins", 5),
            ("Blockers", 15),
        ]
    # Editing the series template changes meetings generated from then on only.
    own.items.filter(title="Wins").update(title="Shout-outs")
    Series.objects.filter(pk=series.pk).update(generated_until=None)
    Meeting.objects.filter(series=series).order_by("-starts_at").first().delete()
    series_service.generate(Series.objects.get(pk=series.pk), now=NOW)
    last = series.meetings.order_by("-starts_at").first()
    assert last.agenda_items.first().title == "Shout-outs"
    assert library.items.first().title == "Wins"


def test_template_of_another_team_is_refused(team, organizer):
    other = AgendaTemplate.objects.create(team=series_team_other(), name="Theirs")
    with pytest.raises(RuleBroken, match="another team"):
        weekly(team, organizer, template=other)


def series_team_other():
    from tests.factories import TeamFactory

    return TeamFactory()


def test_edit_this_meeting_keeps_its_occurrence(team, organizer):
    series = weekly(team, organizer)
    meeting = series.meetings.all()[1]
    original = meeting.occurrence_start
    new_start = meeting.starts_at + timedelta(hours=2)
    services.update_meeting(
        meeting=meeting,
        by=organizer,
        title="Moved sync",
        starts_at=new_start,
        ends_at=new_start + timedelta(minutes=45),
        location="Room 2",
        now=NOW,
    )
    meeting.refresh_from_db()
    assert (meeting.title, meeting.starts_at, meeting.occurrence_start) == (
        "Moved sync",
        new_start,
        original,
    )
    assert meeting.sequence == 1
    assert series_service.generate(series, now=NOW) == []  # not recreated at the old time
    others = series.meetings.exclude(pk=meeting.pk)
    assert not others.filter(title="Moved sync").exists()


def test_edit_by_a_plain_member_is_refused(team, organizer, member):
    series = weekly(team, organizer, attendees=[member])
    meeting = series.meetings.first()
    with pytest.raises(PermissionError):
        services.update_meeting(
            meeting=meeting,
            by=member,
            title="Mine now",
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            location="",
            now=NOW,
        )
    assert Meeting.objects.get(pk=meeting.pk).title == "Weekly sync"


def test_edit_after_start_is_refused(team, organizer):
    series = weekly(team, organizer)
    meeting = series.meetings.first()
    with pytest.raises(RuleBroken, match="already started"):
        services.update_meeting(
            meeting=meeting,
            by=organizer,
            title="Late",
            starts_at=meeting.starts_at + timedelta(days=1),
            ends_at=meeting.ends_at + timedelta(days=1),
            location="",
            now=meeting.starts_at + timedelta(minutes=1),
        )
    assert Meeting.objects.get(pk=meeting.pk).title == "Weekly sync"


def test_cancel_one_occurrence_and_it_is_not_regenerated(team, organizer):
    series = weekly(team, organizer)
    meeting = series.meetings.all()[2]
    services.cancel_meeting(meeting=meeting, by=organizer, now=NOW)
    Series.objects.filter(pk=series.pk).update(generated_until=None)
    series_service.generate(Series.objects.get(pk=series.pk), now=NOW)
    same_day = series.meetings.filter(occurrence_start=meeting.occurrence_start)
    assert same_day.count() == 1
    assert same_day.get().canceled_at == NOW


def test_this_and_following_splits_the_series(team, organizer, member, settings):
    settings.SERIES_HORIZON_DAYS = 28
    old = weekly(team, organizer, attendees=[member])
    third = old.meetings.all()[2]  # 17 March
    kept_item_meeting = old.meetings.all()[3]  # 24 March, has agenda work
    kept_item_meeting.agenda_items.create(title="Prepared item")
    new = series_service.split_series(
        meeting=third,
        by=organizer,
        title="Sync (new time)",
        local_start=time(10, 0),
        duration=timedelta(minutes=45),
        rrule="FREQ=WEEKLY;BYDAY=TU",
        location="",
        now=NOW,
    )
    old.refresh_from_db()
    assert old.rrule == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260310T090000"
    assert [m.starts_at.astimezone(BERLIN).day for m in old.meetings.all()] == [3, 10]
    moved = list(new.meetings.all())
    assert [m.starts_at.astimezone(BERLIN).strftime("%d %H:%M") for m in moved] == [
        "17 10:00",
        "24 10:00",
    ]
    assert moved[1].pk == kept_item_meeting.pk  # the same meeting, its agenda kept
    assert moved[1].agenda_items.get().title == "Prepared item"
    assert all(m.sequence == 1 for m in moved)
    assert new.parent_id == old.pk
    assert set(new.attendees.values_list("user_id", flat=True)) == {member.pk}


def test_split_to_other_weekday_cancels_meetings_without_a_match(team, organizer, settings):
    settings.SERIES_HORIZON_DAYS = 28
    old = weekly(team, organizer)
    third = old.meetings.all()[2]
    new = series_service.split_series(
        meeting=third,
        by=organizer,
        title="Thursday sync",
        local_start=time(9, 0),
        duration=timedelta(minutes=30),
        rrule="FREQ=WEEKLY;BYDAY=TH",
        location="",
        now=NOW,
    )
    canceled = old.meetings.filter(canceled_at__isnull=False)
    assert [m.starts_at.astimezone(BERLIN).day for m in canceled] == [17, 24]
    assert [m.starts_at.astimezone(BERLIN).day for m in new.meetings.all()] == [19, 26]


def test_splitting_at_the_first_meeting_ends_the_old_series(team, organizer):
    old = weekly(team, organizer)
    series_service.split_series(
        meeting=old.meetings.first(),
        by=organizer,
        title="Renamed",
        local_start=time(9, 0),
        duration=timedelta(minutes=30),
        rrule="FREQ=WEEKLY;BYDAY=TU",
        location="",
        now=NOW,
    )
    old.refresh_from_db()
    assert old.ended_at == NOW
    assert not old.meetings.exists()


def test_end_series_cancels_future_meetings_and_stops_generation(team, organizer):
    series = weekly(team, organizer)
    series_service.end_series(series=series, by=organizer, now=NOW)
    assert not series.meetings.filter(canceled_at__isnull=True).exists()
    assert series_service.generate(series, now=NOW + timedelta(days=30)) == []
