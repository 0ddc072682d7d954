"""`make run` as a newcomer meets it: web, worker and beat started by honcho from
the Procfile, an agenda e-mailed by the worker, and the link in that e-mail opened
on the web process; then Ctrl-C.

honcho hands each process its own PORT (5000, 5100, 5200), which once sent every
emailed link to a port nothing listened on.
"""

from __future__ import annotations

import email
import email.policy
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"

SEND_AN_AGENDA = """
from django.utils import timezone
from meetings import services
from meetings.models import Meeting
now = timezone.now()
meeting = Meeting.objects.filter(
    agenda_sent_at__isnull=True, starts_at__gt=now, canceled_at__isnull=True
).order_by("starts_at").first()
organizer = meeting.organizer
services.set_desired_outcome(meeting=meeting, text="Pick the date", by=organizer, now=now)
services.add_agenda_item(meeting=meeting, title="Checklist", added_by=organizer, now=now)
services.send_agenda(meeting=meeting, by=organizer, now=now)
print(meeting.pk, meeting.title)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.3)
    pytest.fail(f"gave up waiting for {what}")


def answers(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


@pytest.fixture
def make_run(tmp_path):
    """`make run PORT=…` itself, in a var directory of its own (SQLite and the
    filesystem broker, as on a fresh clone), in its own process group the way a
    terminal runs it."""
    port = free_port()
    env = {
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "PATH": os.environ["PATH"],
        "BOOKEND_VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    log = (tmp_path / "make-run.log").open("wb")
    run = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield env, port, run, tmp_path
    finally:
        # honcho's children have process groups of their own: a SIGKILL to this
        # group would orphan them, so ask honcho to stop them first.
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGINT)
            try:
                run.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
        log.close()


def test_an_emailed_link_opens_on_the_web_process_and_ctrl_c_stops_everything(make_run):
    env, port, run, tmp_path = make_run
    site = f"http://127.0.0.1:{port}"
    wait_for(lambda: answers(f"{site}/healthz"), 120, f"the web process on {site}")
    output = (tmp_path / "make-run.log").read_text(errors="replace")
    assert f"Bookend is starting at {site}/" in output
    # A shell in the same environment as the worker: make run's DEBUG and SITE_URL.
    env = {**env, "DEBUG": "1", "SITE_URL": site}

    sent = subprocess.run(
        [str(BIN / "python"), "manage.py", "shell", "-c", SEND_AN_AGENDA],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    meeting_id, title = sent.stdout.strip().splitlines()[-1].split(" ", 1)

    mail = tmp_path / "var" / "mail"

    def agenda_email():
        for path in sorted(mail.glob("*.eml")) if mail.exists() else ():
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["Subject"].startswith(f"Agenda: {title}"):
                return message
        return None

    message = wait_for(agenda_email, 60, "the worker to e-mail the agenda")
    text = message.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(r"https?://\S+", text)
    meeting_link = f"{site}/meetings/{meeting_id}/"
    assert meeting_link in links, links
    # Every link to this machine is to the web process (the meeting's own video
    # link, elsewhere, is left as typed).
    local = [link for link in links if re.match(r"https?://(localhost|127\.0\.0\.1)[:/]", link)]
    assert len(local) >= 3 and all(link.startswith(site + "/") for link in local), links
    # The worker printed a readable summary, not MIME.
    output = (tmp_path / "make-run.log").read_text(errors="replace")
    assert f"Subject: Agenda: {title}" in output
    assert "Content-Transfer-Encoding" not in output

    # Open the link as the organizer would: log in, then follow it.
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = f"{site}/accounts/login/"
    form = browser.open(login).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
    fields = {"csrfmiddlewaretoken": token, "username": "demo@example.com", "password": "demo"}
    request = urllib.request.Request(
        login, data=urllib.parse.urlencode(fields).encode(), headers={"Referer": login}
    )
    browser.open(request)
    page = browser.open(meeting_link)
    assert page.status == 200
    assert page.url == meeting_link
    assert title in page.read().decode()

    # Ctrl-C: a terminal's SIGINT to honcho stops web, worker and beat.
    started = time.monotonic()
    os.killpg(run.pid, signal.SIGINT)
    run.wait(timeout=30)
    stopped_after = time.monotonic() - started
    output = (tmp_path / "make-run.log").read_text(errors="replace")
    for name in ("web", "worker", "beat"):
        assert re.search(rf"{name}\.1 stopped \(rc=0\)", output), output[-2000:]
    # Issue 11 asks for 5 s; a loaded CI machine gets some slack.
    assert stopped_after < 8, stopped_after
