"""The webhook and chat channel forms: the URL guard's message at the field, one
name per team, and chat channels limited to the team-wide events."""

from __future__ import annotations

import pytest

from meetings.forms.integrations import CHAT_ONLY, ChannelForm, EndpointForm
from meetings.models import CHAT_EVENTS, Endpoint, EventType

# A public address written as a literal: the guard resolves nothing, so no DNS is needed.
PUBLIC = "https://93.184.215.14/hooks/bookend"


def webhook(team, **data) -> EndpointForm:
    fields = {"name": "CI", "url": PUBLIC, "events": ["agenda.sent"], **data}
    return EndpointForm(fields, team_id=team.pk)


def channel(team, **data) -> ChannelForm:
    fields = {"kind": "slack", "name": "#team", "url": PUBLIC, "events": ["recap.published"]}
    return ChannelForm({**fields, **data}, team_id=team.pk)


def test_a_public_https_webhook_is_accepted(team):
    form = webhook(team)
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"name": "CI", "url": PUBLIC, "events": ["agenda.sent"]}


def test_the_webhook_form_offers_the_whole_catalogue_with_its_labels(team):
    assert list(webhook(team).fields["events"].choices) == list(EventType.choices)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "Enter a valid URL."),
        ("ftp://93.184.215.14/x", "Use an https:// URL."),
        ("http://93.184.215.14/x", "Use an https:// URL."),
        ("https://user:pw@93.184.215.14/x", "Put no user name or password in the URL"),
        ("https://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("https://127.0.0.1/", "a loopback address"),
        ("https://[::1]/", "a loopback address"),
        ("https://10.0.0.7/", "a private or reserved address"),
        ("https://192.168.1.1/", "a private or reserved address"),
    ],
)
def test_an_unsafe_url_is_refused_with_the_guards_message(team, settings, url, message):
    settings.INTEGRATIONS_ALLOW_LOOPBACK = False
    form = webhook(team, url=url)
    assert not form.is_valid()
    assert message in form.errors["url"][0]


def test_the_metadata_service_stays_refused_even_where_loopback_is_allowed(team, settings):
    settings.INTEGRATIONS_ALLOW_LOOPBACK = True
    form = webhook(team, url="https://169.254.169.254/")
    assert not form.is_valid()
    assert "link-local" in form.errors["url"][0]


def test_a_name_is_used_once_per_team(team, other_team_endpoint):
    Endpoint.objects.create(team=team, kind="slack", name="CI", url=PUBLIC, events=[])
    form = webhook(team, name="  CI ")
    assert not form.is_valid()
    assert form.errors["name"] == [
        "This team already has a webhook or chat channel with this name."
    ]
    # Another team's endpoint of the same name is no obstacle.
    assert webhook(team, name=other_team_endpoint.name).is_valid()


def test_editing_keeps_its_own_name(team):
    mine = Endpoint.objects.create(
        team=team, kind="webhook", name="CI", url=PUBLIC, events=[], secret="whsec_eA=="
    )
    form = EndpointForm(
        {"name": "CI", "url": PUBLIC, "events": ["agenda.sent"]}, team_id=team.pk, endpoint=mine
    )
    assert form.is_valid(), form.errors


def test_at_least_one_event(team):
    form = webhook(team, events=[])
    assert form.errors["events"] == ["Pick at least one event."]


def test_a_chat_channel_offers_only_the_team_wide_events(team):
    form = channel(team)
    assert [value for value, _ in form.fields["events"].choices] == list(CHAT_EVENTS)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["kind"] == "slack"


@pytest.mark.parametrize(
    "event", ["action_item.assigned", "action_item.overdue", "agenda.amended"]
)
def test_a_chat_channel_refuses_events_outside_the_chat_set(team, event):
    form = channel(team, events=["agenda.sent", event])
    assert not form.is_valid()
    assert form.errors["events"] == [CHAT_ONLY]
    assert "reminders addressed to one person stay in e-mail" in CHAT_ONLY


def test_a_chat_channel_is_slack_mattermost_or_teams(team):
    assert [v for v, _ in channel(team).fields["kind"].choices] == ["slack", "mattermost", "teams"]
    assert "kind" in channel(team, kind="webhook").errors


@pytest.fixture
def other_team_endpoint(db):
    from tests.factories import TeamFactory

    return Endpoint.objects.create(
        team=TeamFactory(), kind="webhook", name="Theirs", url=PUBLIC, events=[],
        secret="whsec_eA==",
    )  # fmt: skip
