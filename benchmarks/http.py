"""Pages against /healthz, side by side, under gunicorn with 2 workers and wrk.

    DATABASE_URL=postgres://.../bookend_bench_http .venv/bin/python -m benchmarks.http

Creates (drops first) the PostgreSQL database named by DATABASE_URL, migrates
it, seeds it through the project's services (a team of 10, a meeting that
ended an hour ago with 12 agenda items, 10 attendees, 8 decisions and 20
action items, its recap being written by the organizer; 20 more meetings, half
of them owing a recap), collects static files, starts gunicorn (2 workers,
DEBUG off) on a free port, logs in through the real login form as the organizer
(a staff user, for the admin dashboard), then runs wrk against each URL with the
same session: same duration, 2 connections, after a warm-up. Every URL must
answer 200 (a redirect to the login page fails the run).

Prints a table (requests per second, ratio /healthz rps ÷ page rps with
/healthz measured first and last and averaged, queries of one render) and, as
the last line, `home=<r> list=<r> meeting=<r> actions=<r> admin=<r>`. The
database is dropped and gunicorn stopped at the end.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bookend_bench_http"
PASSWORD = "bench-password-not-secret"
SERVER_ENV = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
    "CELERY_TASK_ALWAYS_EAGER": "0",
}
PAGES = ["healthz", "home", "list", "meeting", "actions", "admin"]


def _setup_django(static_root: str) -> None:
    # Seeding enqueues digests after commit; an in-memory broker keeps them here.
    os.environ.update(SERVER_ENV, STATIC_ROOT=static_root, CELERY_BROKER_URL="memory://")
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault(
        "SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
    )
    import django

    django.setup()


def _maintenance(statements: list[str]) -> None:
    """Run `statements` on the server's `postgres` database (CREATE/DROP DATABASE)."""
    import psycopg
    from django.db import connection

    connection.close()
    settings = connection.settings_dict
    params = {key: settings[key.upper()] for key in ("host", "port", "user", "password")}
    with psycopg.connect(
        dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v}
    ) as admin:
        for statement in statements:
            admin.execute(statement.format(name=settings["NAME"]))


def recreate_database() -> None:
    _maintenance(['DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', 'CREATE DATABASE "{name}"'])


def drop_database() -> None:
    _maintenance(['DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


def seed() -> dict:
    """The data of the issue, written through the services as the app writes it."""
    from django.utils import timezone

    from accounts.models import Membership, Team, User
    from meetings import services
    from meetings.models import AgendaItem

    now = timezone.now()
    zones = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC", "Asia/Tokyo"]
    team = Team.objects.create(name="Bench team", slug="bench")
    organizer = User.objects.create_superuser("organizer@example.com", PASSWORD)
    organizer.display_name, organizer.time_zone = "Olga Organizer", "Europe/Berlin"
    organizer.save()
    people = [organizer]
    for n in range(9):
        people.append(
            User.objects.create_user(
                f"member{n}@example.com",
                PASSWORD,
                display_name=f"Member {n}",
                time_zone=zones[n % len(zones)],
            )
        )
    for person in people:
        Membership.objects.create(
            team=team,
            user=person,
            role=Membership.Role.ADMIN if person is organizer else Membership.Role.MEMBER,
        )

    def meeting(title: str, starts_at, attendees, *, organizer=organizer):
        return services.create_meeting(
            team=team,
            organizer=organizer,
            title=title,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            time_zone="Europe/Berlin",
            attendees=attendees,
            now=min(now, starts_at) - timedelta(days=3),
        )

    start = now - timedelta(hours=2)
    planned = start - timedelta(days=2)
    main = meeting("Quarterly planning", start, people[1:])
    services.set_desired_outcome(
        meeting=main,
        text="Agree **the plan** for the quarter, and who owns each part.\n\n"
        "- budget\n- hiring\n- [roadmap](https://example.com/roadmap)",
        by=organizer,
        now=planned,
    )
    for n in range(12):
        services.add_agenda_item(
            meeting=main,
            title=f"Topic {n + 1}",
            owner=people[n % len(people)],
            timebox_minutes=5,
            notes=f"Notes for *topic {n + 1}*:\n\n1. context\n2. options\n3. `decision`",
            added_by=organizer,
            now=planned,
        )
    services.send_agenda(meeting=main, by=organizer, now=planned)
    after = now - timedelta(minutes=30)
    main.refresh_from_db()
    services.save_recap(
        meeting=main,
        summary="We agreed the **plan**; see decisions and action items below.",
        notes="Longer notes with a [link](https://example.com) and a list:\n\n- one\n- two",
        no_action_items=False,
        outcomes={item.pk: AgendaItem.Outcome.DISCUSSED for item in main.agenda_items.all()},
        by=organizer,
        now=after,
    )
    for n in range(8):
        services.record_decision(
            meeting=main, text=f"Decision {n + 1}: we **will** do _thing {n + 1}_.",
            by=organizer, now=after,
        )  # fmt: skip
    for n in range(20):
        services.add_action_item(
            meeting=main,
            description=f"Action {n + 1}: follow up on topic {n % 12 + 1}",
            owner=people[n % len(people)],
            due_date=timezone.localdate(now) + timedelta(days=n),
            created_by=organizer,
            now=after,
        )
    # The rest of a busy fortnight: 10 upcoming meetings and 10 past ones owing a recap.
    for n in range(10):
        meeting(f"Upcoming {n}", now + timedelta(days=1 + n), people[1:4])
        meeting(f"Past {n}", now - timedelta(days=1 + n), people[1:4])
    return {"organizer": organizer, "meeting": main}


def count_queries(paths: dict[str, str], organizer) -> dict[str, int]:
    """Queries of one render of each page, logged in, through Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    client.force_login(organizer)
    counts = {}
    for name, path in paths.items():
        client.get(path)  # warm: the session's team, template loaders
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(queries)
    return counts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def login(base: str) -> str:
    """Log in through the real form; returns the Cookie header of the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/accounts/login/") as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": "organizer@example.com", "password": PASSWORD}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request) as response:
        assert "/accounts/login/" not in response.url, "login failed"
    cookies = {c.name: c.value for c in jar}
    assert "sessionid" in cookies, "no session cookie after login"
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def check_200(url: str, cookie: str) -> None:
    """The page answers 200 itself: a redirect (to the login page) fails the run."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers={"Cookie": cookie})) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    if status != 200:
        raise SystemExit(f"{url} answered {status}, not 200")


def wrk(url: str, cookie: str, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s",
         "-H", f"Cookie: {cookie}", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if not match:
        raise SystemExit(f"wrk printed no rate for {url}:\n{out}")
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} answers were not 2xx/3xx:\n{out}")
    return float(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per URL")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per URL")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk (make bench-http does).", file=sys.stderr)
        return 2
    static_root = tempfile.mkdtemp(prefix="bookend-bench-static-")
    _setup_django(static_root)
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL database.", file=sys.stderr)
        return 2
    recreate_database()
    server = None
    try:
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        data = seed()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        paths = {
            "healthz": "/healthz",
            "home": "/",
            "list": "/meetings/",
            "meeting": f"/meetings/{data['meeting'].pk}/",
            "actions": "/action-items/",
            "admin": "/admin/meetings/unrecapped/",
        }
        queries = count_queries({k: v for k, v in paths.items() if k != "healthz"},
                                data["organizer"])  # fmt: skip
        connection.close()
        port = free_port()
        env = os.environ.copy()
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application",
             "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz")
        cookie = login(base)
        rates = {}
        for name, path in paths.items():
            check_200(base + path, cookie)
            wrk(base + path, cookie, args.warmup, args.connections)
            rates[name] = wrk(base + path, cookie, args.seconds, args.connections)
        # /healthz again at the end: the baseline is the mean of both, so a
        # machine that got busier or quieter meanwhile moves the ratios less.
        again = wrk(base + paths["healthz"], cookie, args.seconds, args.connections)
        rates["healthz"] = (rates["healthz"] + again) / 2
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        if not args.keep:
            drop_database()
        shutil.rmtree(static_root, ignore_errors=True)
    base_rate = rates["healthz"]
    ratios = {name: base_rate / rate for name, rate in rates.items()}
    print(f"{'page':<8} {'path':<30} {'rps':>9} {'ratio':>6} {'queries':>7}")
    for name, path in paths.items():
        print(f"{name:<8} {path:<30} {rates[name]:>9.1f} {ratios[name]:>6.1f} "
              f"{queries.get(name, 0):>7}")  # fmt: skip
    print(" ".join(f"{name}={ratios[name]:.1f}" for name in PAGES[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
