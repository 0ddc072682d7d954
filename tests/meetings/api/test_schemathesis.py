"""Schemathesis against the live schema: every operation, as an authorized member
with real data (a write token of the organizer of an upcoming meeting with an
agenda, an ended one with a recap draft, and a recapped one with a published action
item), fuzzed by Hypothesis with valid and invalid input; then its stateful phase,
which follows the schema's OpenAPI links (a created meeting's id into the meeting,
agenda, attendee and recap operations, a created item's into its edit and remove).
No answer is a 5xx, every answer is one the schema documents (status, headers,
body), and invalid input is refused (4xx). The run's figures are printed at the end
of the pytest run (conftest.py), so the CI log has them.

Loaded from the running Django app (its WSGI handler) at /api/v1/openapi.json, so
it tests the schema the app really serves. Each case runs in a savepoint rolled
back after it, so every case meets the same rows.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.core.parameters import ParameterLocation

from meetings import services
from meetings.api import api
from tests.factories import MeetingFactory, ready_agenda

from .conftest import make_token, record_case, record_failure, record_status

# A schema-valid request may still break a meeting rule (a closed agenda, an
# unpublished recap, a due date before the meeting): that is the documented 422,
# which "positive data acceptance" would call a failure. Invalid input must be
# refused (negative data rejection, on): the input schemas are strict for that.
EXCLUDED = [checks.positive_data_acceptance]


# The schema as /api/v1/openapi.json serves it (test_the_schema_tested_is_the_one_served
# checks that), run through the app's own WSGI handler. Built at collection, without
# a request: schemathesis' fixture loader (`from_fixture`) does not work with pytest 9.2.
class _App:
    """The WSGI app, built per test (after the test settings: middleware reads them
    when it is built); the schema holds this stand-in from collection on."""

    handler = None

    def __call__(self, environ, start_response):
        return self.handler(environ, start_response)


app = _App()
SERVED = json.loads(json.dumps(api.get_openapi_schema()))
# A copy: the stateful phase adds the links it infers to the schema it runs.
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(SERVED)))
schema.app = app
# Our token, not made-up credentials: every case is an authorized member (the
# "ignored auth" check still sends each request without it, expecting a 401).
schema.config.generation.update(with_security_parameters=False)


@pytest.fixture(autouse=True)
def _through_wsgi(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # schemathesis' Host
    settings.API_REQUESTS_PER_MINUTE = 100_000  # rate limiting has its own test
    # The real WSGI handler closes the connection after each request, which would end
    # the test's transaction; Django's test client switches that off the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    app.handler = get_wsgi_application()
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_the_schema_tested_is_the_one_served(client):
    assert client.get("/api/v1/openapi.json").json() == SERVED


def test_every_operation_has_a_summary_and_describes_its_errors():
    for path, operations in SERVED["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert "422" in operation["responses"], (method, path)
            assert operation.get("description"), (method, path)


@pytest.fixture
def real(team, organizer, member, team_admin):
    now = timezone.now()
    upcoming = MeetingFactory(team=team, organizer=organizer, attendees=[member], now=now)
    ready_agenda(upcoming, by=organizer)  # a desired outcome and an item: it can go out
    starts = now - timedelta(hours=2)
    ended = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                           starts_at=starts, now=starts - timedelta(days=2))  # fmt: skip
    ready_agenda(ended, by=organizer)
    decision = services.add_decision(meeting=ended, text="Ship it.")
    draft = services.add_action_item(meeting=ended, description="Write it up", owner=member,
                                     due_date=ended.local_date, now=now)  # fmt: skip
    ended.recap_summary = "We shipped."
    ended.save(update_fields=["recap_summary"])
    recapped = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                              starts_at=starts, now=starts - timedelta(days=2))  # fmt: skip
    out = services.add_action_item(
        meeting=recapped, description="Follow up", owner=organizer,
        due_date=recapped.local_date + timedelta(days=2), now=now,
    )  # fmt: skip
    recapped.recap_summary = "Done."
    recapped.save(update_fields=["recap_summary"])
    services.publish_recap(meeting=recapped, by=organizer, now=now)
    return {
        "headers": {"Authorization": f"Bearer {make_token(organizer, scope='write')}"},
        "team": team.pk,
        "member": member.pk,
        "admin": team_admin.pk,
        "upcoming": upcoming.pk,
        "ended": ended.pk,
        "recapped": recapped.pk,
        "agenda_item": upcoming.agenda_items.get().pk,
        "ended_item": ended.agenda_items.get().pk,
        "decision": decision.pk,
        "draft": draft.pk,
        "out": out.pk,
    }


def _real_ids_in_body(case, real) -> None:
    """Ids in a valid body point at real rows (a made-up team id is only ever a 404).
    An invalid body is left alone: its invalid part may be one of these."""
    body = case.body
    if not isinstance(body, dict) or (case.meta and case.meta.is_negative_at(
            ParameterLocation.BODY)):  # fmt: skip
        return
    for key, value in (("team_id", real["team"]), ("owner_id", real["member"]),
                       ("user_id", real["admin"])):  # fmt: skip
        if isinstance(body.get(key), int):
            body[key] = value
    if body.get("attendee_ids"):
        body["attendee_ids"] = [real["member"]]
    for outcome in body.get("outcomes") or ():
        outcome["agenda_item_id"] = real["ended_item"]


def _real_rows(case, real) -> None:
    """Path ids point at the rows an operation works on: the agenda's at the upcoming
    meeting, the recap's at the ended one. Tenancy has its own tests."""
    path, params = case.operation.path, case.path_parameters
    # An invalid path is left as it is, to be refused as it is (a JSON 404).
    if params and not (case.meta and case.meta.is_negative_at(ParameterLocation.PATH)):
        if "meeting_id" in params:
            params["meeting_id"] = real[
                "recapped" if path.endswith("/acknowledge/")
                else "ended" if "/recap/" in path else "upcoming"
            ]  # fmt: skip
        if "item_id" in params:
            params["item_id"] = real["draft" if "/recap/" in path else "out"]
        for name, key in (("agenda_item_id", "agenda_item"), ("decision_id", "decision"),
                          ("user_id", "member")):  # fmt: skip
            if name in params:
                params[name] = real[key]
    _real_ids_in_body(case, real)


def _call(case, headers) -> None:
    record_case(case)
    response = case.call(headers=headers)
    record_status(response.status_code)
    try:
        case.validate_response(response, excluded_checks=EXCLUDED, headers=headers,
                               transport_kwargs={"headers": headers})  # fmt: skip
    except BaseException as failure:  # FailureGroup is a BaseExceptionGroup
        record_failure(case, failure)
        raise


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented(case, real):
    cache.clear()
    _real_rows(case, real)
    with transaction.atomic():
        _call(case, real["headers"])
        transaction.set_rollback(True)


def test_links_lead_to_every_operation_on_a_created_object():
    """The stateful phase only follows links the schema has: every operation on a
    meeting or one of its parts is reached from the create that makes it. (Action
    items under /action-items/ come out when a recap is published, not from a create.)"""
    paths = SERVED["paths"]
    targets = {
        link["operationId"]
        for operations in paths.values()
        for operation in operations.values()
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    }
    on_objects = {
        operation["operationId"]
        for path, operations in paths.items()
        if path.startswith("/api/v1/meetings/{meeting_id}/")
        for operation in operations.values()
    }
    assert on_objects - targets == set()


def test_stateful_workflows_follow_the_links(real):
    """Create a meeting, then work on it through the links: each scenario a chain of
    calls on what the previous ones made, rolled back at its end."""

    class Workflows(schema.as_state_machine()):
        def setup(self):
            cache.clear()
            self.savepoint = transaction.atomic()
            self.savepoint.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self.savepoint.__exit__(None, None, None)

        def before_call(self, case):
            _real_ids_in_body(case, real)
            record_case(case, stateful=True)

        def after_call(self, response, case):
            record_status(response.status_code)

        def get_call_kwargs(self, case):
            return {"headers": real["headers"]}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                case.validate_response(response, excluded_checks=EXCLUDED,
                                       headers=kwargs.get("headers"),
                                       transport_kwargs=kwargs)  # fmt: skip
            except BaseException as failure:  # FailureGroup is a BaseExceptionGroup
                record_failure(case, failure)
                raise

    Workflows.run(
        settings=settings(
            max_examples=30,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
