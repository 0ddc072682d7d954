"""Seed a demo team with meetings in every status. Safe to run again: keeps data."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Team, User
from meetings import series as series_service
from meetings import services
from meetings.models import Meeting, Notification

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo"  # noqa: S105 - a demo login, printed by `make run`

TEAMMATES = [
    ("asha@example.com", "Asha Rao", "Asia/Kolkata"),
    ("marco@example.com", "Marco Weber", "Europe/Berlin"),
    ("lena@example.com", "Lena Ortiz", "America/New_York"),
    ("kenji@example.com", "Kenji Sato", "Asia/Tokyo"),
]


class Command(BaseCommand):
    help = "Create the demo team (demo@example.com / demo) unless it already exists."

    def handle(self, *args, **options) -> None:
        if User.objects.filter(email=DEMO_EMAIL).exists():
            self.stdout.write("Demo data already present; keeping it.")
            return
        with transaction.atomic():
            now = timezone.now()
            self._seed(now)
            # The seed replays history (agendas sent days ago, a recap published):
            # its digests count as delivered then, so the demo's inboxes start
            # quiet and only live reminders from the sweep arrive.
            Notification.objects.filter(state=Notification.State.PENDING).update(
                state=Notification.State.SENT, sent_at=now
            )
        self.stdout.write(self.style.SUCCESS("Seeded the demo team."))

    def _seed(self, now: datetime) -> None:
        demo = User.objects.create_user(
            DEMO_EMAIL,
            DEMO_PASSWORD,
            display_name="Dana Demo",
            time_zone="Europe/London",
            is_staff=True,
            is_superuser=True,
        )
        team = Team.objects.create(name="Demo Team", slug="demo-team")
        Membership.objects.create(user=demo, team=team, role=Membership.Role.OWNER)
        mates = []
        for email, name, zone in TEAMMATES:
            user = User.objects.create_user(
                email, DEMO_PASSWORD, display_name=name, time_zone=zone
            )
            Membership.objects.create(user=user, team=team, role=Membership.Role.MEMBER)
            mates.append(user)
        asha, marco, lena, kenji = mates

        def at(days: int, hour: int) -> datetime:
            day = (now + timedelta(days=days)).astimezone(demo.zone).date()
            return datetime.combine(day, time(hour), tzinfo=demo.zone)

        def meeting(title: str, start: datetime, minutes: int, people: list[User]) -> Meeting:
            return services.create_meeting(
                team=team,
                organizer=demo,
                title=title,
                starts_at=start,
                ends_at=start + timedelta(minutes=minutes),
                time_zone=demo.time_zone,
                location="https://meet.example.com/demo",
                attendees=people,
                now=start - timedelta(days=3),
            )

        def agenda(m: Meeting, outcome: str, items: list[tuple[str, User, int]]) -> None:
            m.desired_outcome = outcome
            m.save(update_fields=["desired_outcome"])
            for title, owner, minutes in items:
                services.add_agenda_item(
                    meeting=m, title=title, owner=owner, timebox_minutes=minutes, added_by=demo
                )

        # Upcoming, no agenda yet: the sweep will remind Dana.
        meeting("Q1 roadmap review", at(2, 15), 60, [asha, marco, lena])

        # Upcoming with its agenda sent.
        planning = meeting("Sprint planning", at(1, 14), 45, [asha, kenji])
        agenda(
            planning,
            "Agree the sprint goal and who takes the three top tickets.",
            [("Sprint goal", demo, 10), ("Ticket triage", asha, 25), ("Risks", kenji, 10)],
        )
        services.send_agenda(meeting=planning, by=demo, now=planning.starts_at - timedelta(days=2))

        # Ended with an agenda, recap not written yet.
        retro = meeting("Incident retro: login outage", at(-1, 10), 60, [marco, lena])
        agenda(
            retro,
            "Understand why logins failed on Tuesday and decide the follow-ups.",
            [("Timeline", marco, 20), ("Root cause", lena, 25), ("Follow-ups", demo, 15)],
        )
        services.send_agenda(meeting=retro, by=demo, now=retro.starts_at - timedelta(days=1))

        # Recapped, with action items for two owners.
        sync = meeting("Weekly design sync", at(-3, 16), 30, [asha, marco, kenji])
        agenda(
            sync,
            "Pick the onboarding flow we build next sprint.",
            [("Onboarding options", asha, 20), ("Decision", demo, 10)],
        )
        services.send_agenda(meeting=sync, by=demo, now=sync.starts_at - timedelta(days=1))
        sync.recap_summary = "We build the **checklist** onboarding; the tour waits for Q2."
        sync.save(update_fields=["recap_summary"])
        services.add_decision(meeting=sync, text="Checklist onboarding ships next sprint.")
        after = sync.ends_at + timedelta(hours=1)
        services.add_action_item(
            meeting=sync,
            description="Write the checklist copy",
            owner=asha,
            due_date=sync.local_date + timedelta(days=5),
            created_by=demo,
            now=after,
        )
        services.add_action_item(
            meeting=sync,
            description="Estimate the checklist API",
            owner=marco,
            due_date=sync.local_date + timedelta(days=2),
            created_by=demo,
            now=after,
        )
        services.publish_recap(meeting=sync, by=demo, now=after)

        # Held without agenda: an ad-hoc call recorded after the fact.
        meeting("Ad-hoc call with Lena", at(-2, 13), 20, [lena])

        # A weekly series: meetings are generated ahead and carry open items over.
        monday = (now + timedelta(days=7 - now.astimezone(demo.zone).weekday())).astimezone(
            demo.zone
        )
        series_service.create_series(
            team=team,
            organizer=demo,
            title="Team weekly",
            first_start=datetime.combine(monday.date(), time(10)),
            duration=timedelta(minutes=30),
            time_zone=demo.time_zone,
            rrule="FREQ=WEEKLY;BYDAY=MO",
            attendees=mates,
            now=now,
        )
