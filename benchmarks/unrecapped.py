"""Unrecapped dashboard at scale: 100,000 meetings on PostgreSQL.

    DATABASE_URL=postgres://... .venv/bin/python -m benchmarks.unrecapped [--meetings N]

Creates a throw-away database (Django's test database machinery, named after
DATABASE_URL's with a `test_` prefix and `_unrecapped` suffix), fills it with
SQL `generate_series` (seconds, not minutes), runs ANALYZE, then reports for the
staff dashboard at /admin/meetings/unrecapped/:

- the number of queries of one page render, with 100 and with N meetings;
- the plan node that reads meetings for the page (it must be the partial index
  `meeting_unrecapped_idx`) and its EXPLAIN ANALYZE time;
- the median wall time of the page render and of the compliance report.

The database is dropped at the end, even on failure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault(
    "SECRET_KEY", "benchmark-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
)
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.messages.storage.fallback import FallbackStorage  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.client import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

RECAPPED_SHARE = 0.97  # most meetings got their recap; about 3 % still owe one


def make_people() -> tuple[list[int], list[int]]:
    """20 teams and 200 organizers; returns their ids."""
    from accounts.models import Membership, Team, User

    teams = [Team.objects.create(name=f"Team {n}", slug=f"team-{n}") for n in range(20)]
    users = User.objects.bulk_create(
        User(email=f"organizer{n}@example.com", display_name=f"Organizer {n}") for n in range(200)
    )
    Membership.objects.bulk_create(
        Membership(user=user, team=teams[n % len(teams)]) for n, user in enumerate(users)
    )
    return [t.pk for t in teams], [u.pk for u in users]


def fill(meetings: int, team_ids: list[int], user_ids: list[int]) -> None:
    """`meetings` meetings, one every ten minutes back from now, written in SQL."""
    with connection.cursor() as cursor:
        # Meeting n ends n * 10 minutes before now (two years for 100,000); every
        # row is valid under the model's check constraints.
        cursor.execute(
            """
            INSERT INTO meetings_meeting (
                team_id, organizer_id, title, starts_at, ends_at, time_zone, location,
                created_at, desired_outcome, agenda_sent_at, sequence, recap_summary,
                recap_notes, no_action_items, recap_published_at
            )
            SELECT
                (%(teams)s::bigint[])[1 + (n %% array_length(%(teams)s::bigint[], 1))],
                (%(users)s::bigint[])[1 + (n %% array_length(%(users)s::bigint[], 1))],
                'Meeting ' || n,
                now() - make_interval(mins => n * 10 + 60),
                now() - make_interval(mins => n * 10),
                'UTC', '', now() - make_interval(mins => n * 10 + 60 * 48),
                CASE WHEN n %% 4 = 0 THEN '' ELSE 'Decide' END,
                CASE WHEN n %% 4 = 0 THEN NULL
                     ELSE now() - make_interval(mins => n * 10 + 61 + 60 * (n %% 50)) END,
                0,
                CASE WHEN random() < %(recapped)s THEN 'Summary' ELSE '' END,
                '', true, NULL
            FROM generate_series(1, %(meetings)s) AS n
            """,
            {
                "teams": team_ids,
                "users": user_ids,
                "meetings": meetings,
                "recapped": RECAPPED_SHARE,
            },  # fmt: skip
        )
        cursor.execute(
            "UPDATE meetings_meeting SET recap_published_at = ends_at + "
            "make_interval(mins => (id % 3000)::int) WHERE recap_summary <> ''"
        )
        cursor.execute("ANALYZE")


def page_render(request) -> tuple[int, float]:
    from meetings.admin import unrecapped_view

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = unrecapped_view(request)
        response.render()
        elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    return len(queries), elapsed


def plan_node(plan: str) -> str:
    for line in plan.splitlines():
        if "meetings_meeting" in line and ("Scan" in line or "scan" in line):
            return line.strip().lstrip("->").strip()
    return "(no scan of meetings_meeting found)"


def run(meetings: int, repeats: int) -> dict:
    from accounts.models import User
    from meetings.models import Meeting
    from meetings.reports.compliance import compliance_report
    from meetings.reports.unrecapped import unrecapped_meetings

    staff = User.objects.create_superuser("bench-staff@example.com", "x")
    factory = RequestFactory()

    def request_with_messages():
        r = factory.get("/admin/meetings/unrecapped/")
        r.user = staff
        r.session = {}
        r._messages = FallbackStorage(r)
        return r

    people = make_people()
    fill(100, *people)
    small_queries, _ = page_render(request_with_messages())
    Meeting.objects.all().delete()
    fill(meetings, *people)
    now = timezone.now()
    owing = Meeting.objects.awaiting_recap(now).count()
    timings = [page_render(request_with_messages()) for _ in range(repeats)]
    page_query = unrecapped_meetings(now)[:50]
    analyzed = page_query.explain(analyze=True)
    report_ms = []
    for _ in range(repeats):
        started = time.perf_counter()
        today = timezone.localdate(now)
        compliance_report(Meeting.objects.all(), start=today.replace(day=1), end=today, now=now)
        report_ms.append((time.perf_counter() - started) * 1000)
    execution = next(
        (line for line in analyzed.splitlines() if line.startswith("Execution Time")), ""
    )
    return {
        "meetings": Meeting.objects.count(),
        "owing a recap": owing,
        "queries per page (100 meetings)": small_queries,
        f"queries per page ({meetings:,} meetings)": timings[0][0],
        "page query plan node": plan_node(analyzed),
        "page query (EXPLAIN ANALYZE)": execution,
        "page render median ms": round(statistics.median(t for _, t in timings), 1),
        "compliance report median ms": round(statistics.median(report_ms), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL database.", file=sys.stderr)
        return 2
    settings.DEBUG = False
    # Plain static storage: the benchmark renders admin pages without collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    base_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"test_{base_name}_unrecapped"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        results = run(args.meetings, args.repeats)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    width = max(len(key) for key in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
