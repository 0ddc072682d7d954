"""`make bench` keeps working: the reminder benchmark, small, end to end.

It runs in a subprocess with its own throw-away database, Redis queue, Celery
workers and SMTP sink, as `make bench` does, only with 2,000 meetings.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAST_LINE = re.compile(
    r"sweep_vs_writes=(\d+\.\d\d) sweep_queries=(\d+) delivery_vs_smtplib=(\d+\.\d\d)"
)


def test_reminder_benchmark_runs_and_prints_its_figures():
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.reminders",
         "--meetings", "2000", "--rounds", "1", "--workers", "1"],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    figures = LAST_LINE.fullmatch(lines[-1])
    assert figures, lines[-1]
    sweep_vs_writes, queries, delivery_vs_smtplib = figures.groups()
    assert float(sweep_vs_writes) > 0 and float(delivery_vs_smtplib) > 0
    # The sweep's query count is the same for the whole table and a tenth of it.
    counts = re.search(r"sweep queries: (\d+) with 2,000 meetings, (\d+) with 200", result.stdout)
    assert counts and counts.group(1) == counts.group(2) == queries
    assert "round 1: SQL" in result.stdout
