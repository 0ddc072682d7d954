"""Unrecapped dashboard at scale: 1,000,000 meetings on PostgreSQL.

    DATABASE_URL=postgres://... .venv/bin/python -m benchmarks.unrecapped [--meetings N]

Creates a throw-away database (Django's test database machinery, named after
DATABASE_URL's with a `test_` prefix and `_unrecapped` suffix), fills it with
one SQL `generate_series` statement (about 30,000 of the 1,000,000 owe a recap),
runs VACUUM ANALYZE, then reports for the
staff dashboard at /admin/meetings/unrecapped/:

- the number of queries of one page render, with 100 and with N meetings;
- the plan node that reads meetings for the page (it must be the partial index
  `meeting_unrecapped_idx`) and its EXPLAIN ANALYZE time;
- the query count and median wall time of a page render, first page and a page
  around row 20,000 (keyset pages: the same cost);
- the EXPLAIN ANALYZE time of the page query and of the capped count;
- the median time of the compliance figures, which htmx loads on their own
  request after the page.

The last line is `page_query_ms=<first page's query> render_ms=<page render>`.

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
        # One statement: whether a meeting was recapped is drawn once per row in
        # the inner SELECT, and the recap lands up to 50 hours after the end.
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
                CASE WHEN recapped THEN 'Summary' ELSE '' END,
                '', true,
                CASE WHEN recapped
                     THEN now() - make_interval(mins => n * 10) + make_interval(mins => n %% 3000)
                END
            FROM (
                SELECT n, random() < %(recapped)s AS recapped
                FROM generate_series(1, %(meetings)s) AS n
            ) AS drawn
            """,
            {
                "teams": team_ids,
                "users": user_ids,
                "meetings": meetings,
                "recapped": RECAPPED_SHARE,
            },  # fmt: skip
        )
        cursor.execute("VACUUM ANALYZE meetings_meeting")


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


def analyze(queryset) -> tuple[str, float]:
    """The plan node reading meetings, and the best execution time of 3 runs (ms)."""
    best, plan = None, ""
    for _ in range(3):
        plan = queryset.explain(analyze=True)
        line = next(x for x in plan.splitlines() if x.startswith("Execution Time"))
        ms = float(line.split(":")[1].split()[0])
        best = ms if best is None else min(best, ms)
    return plan_node(plan), best


def run(meetings: int, repeats: int) -> dict:
    from accounts.models import User
    from meetings.models import Meeting
    from meetings.reports.compliance import compliance_report
    from meetings.reports.unrecapped import (
        COUNT_CAP,
        PAGE_SIZE,
        cursor_of,
        unrecapped_meetings,
    )

    staff = User.objects.create_superuser("bench-staff@example.com", "x")
    factory = RequestFactory()

    def request_with_messages(query: str = ""):
        r = factory.get(f"/admin/meetings/unrecapped/?{query}")
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
    # A page deep in the backlog (about row 20,000): keyset, so it costs what page 1 costs.
    deep = unrecapped_meetings(now).order_by("ends_at", "pk")[min(owing, 20_000) - 1]
    deep_query = f"after={cursor_of(deep)}&page=400"
    render_page = [page_render(request_with_messages()) for _ in range(repeats)]
    render_deep = [page_render(request_with_messages(deep_query)) for _ in range(repeats)]
    node, first_ms = analyze(unrecapped_meetings(now)[: PAGE_SIZE + 1])
    deep_ms = analyze(
        unrecapped_meetings(now)
        .filter(ends_at__gte=deep.ends_at)
        .exclude(ends_at=deep.ends_at, pk__lte=deep.pk)[: PAGE_SIZE + 1]
    )[1]
    _, count_ms = analyze(
        Meeting.objects.awaiting_recap(now).order_by().values("pk")[: COUNT_CAP + 1]
    )
    report_ms = []
    for _ in range(repeats):
        started = time.perf_counter()
        today = timezone.localdate(now)
        compliance_report(Meeting.objects.all(), start=today.replace(day=1), end=today, now=now)
        report_ms.append((time.perf_counter() - started) * 1000)
    # The compliance figures, as htmx loads them after the page.
    fragment = []
    for _ in range(repeats):
        request = request_with_messages("compliance=1")
        request.htmx = True
        fragment.append(page_render(request))
    render_ms = statistics.median(t for _, t in render_page)
    return {
        "meetings": Meeting.objects.count(),
        "owing a recap": owing,
        "queries per page (100 meetings)": small_queries,
        f"queries per page ({meetings:,} meetings)": render_page[0][0],
        "queries per page (row 20,000)": render_deep[0][0],
        "page query plan node": node,
        "page query ms (first page, EXPLAIN ANALYZE)": first_ms,
        "page query ms (row 20,000)": deep_ms,
        f"capped count ms (up to {COUNT_CAP + 1})": count_ms,
        "page render median ms": round(render_ms, 1),
        "page render median ms (row 20,000)": round(
            statistics.median(t for _, t in render_deep), 1
        ),
        "compliance report median ms": round(statistics.median(report_ms), 1),
        "compliance fragment render median ms (own request)": round(
            statistics.median(t for _, t in fragment), 1
        ),
        "result": f"page_query_ms={first_ms:.1f} render_ms={render_ms:.1f}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=1_000_000)
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
