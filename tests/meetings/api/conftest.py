from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import ApiToken


def make_token(user, *, scope: str = "read", days: int = 30) -> str:
    now = timezone.now()
    _, raw = account_services.create_api_token(
        user=user, name="Script", scope=scope, expires_at=now + timedelta(days=days), now=now
    )
    return raw


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def read_token(organizer) -> str:
    return make_token(organizer)


@pytest.fixture
def write_token(organizer) -> str:
    return make_token(organizer, scope=ApiToken.Scope.WRITE)


# -- Schemathesis' run summary, for the CI log ----------------------------------------
# test_schemathesis.py records each case and failure here; pytest prints the figures
# after its own summary, with or without -s and -q (pytest_terminal_summary).

RUN = {"operations": set(), "cases": 0, "stateful": 0, "stateful_operations": set(),
       "statuses": Counter(), "failures": []}  # fmt: skip


def record_case(case, *, stateful: bool = False) -> None:
    label = f"{case.operation.method.upper()} {case.operation.path}"
    RUN["operations"].add(label)
    RUN["cases"] += 1
    if stateful:
        RUN["stateful"] += 1
        RUN["stateful_operations"].add(label)


def record_failure(case, failure: Exception) -> None:
    found = getattr(failure, "exceptions", [failure])
    titles = "; ".join(sorted({getattr(f, "title", type(f).__name__) for f in found}))
    RUN["failures"].append(f"{case.operation.method.upper()} {case.operation.path}: {titles}")


def record_status(status: int) -> None:
    RUN["statuses"][f"{status // 100}xx"] += 1


def pytest_terminal_summary(terminalreporter) -> None:
    if not RUN["cases"]:
        return
    from .test_schemathesis import schema

    total = sum(len(ops) for ops in schema.raw_schema["paths"].values())
    write = terminalreporter.write_line
    terminalreporter.write_sep("=", "Schemathesis run summary")
    write(f"operations tested: {len(RUN['operations'])} of {total} in the schema")
    write(f"cases generated: {RUN['cases']} ({RUN['stateful']} in stateful workflows, "
          f"reaching {len(RUN['stateful_operations'])} operations)")  # fmt: skip
    write("responses: " + ", ".join(f"{k} {v}" for k, v in sorted(RUN["statuses"].items())))
    distinct = sorted(set(RUN["failures"]))
    write(f"failures: {len(RUN['failures'])} failing calls, {len(distinct)} distinct")
    for failure in distinct[:20]:
        write(f"  {failure}")
