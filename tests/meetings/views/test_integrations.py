"""The integrations pages: team admins register webhooks and chat channels, see a
webhook's secret once, edit, disable, enable, rotate and delete them, and read each
one's delivery log with Send again. Every change leaves an audit event of the team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AuditEvent
from meetings.models import Delivery, Endpoint, Event
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory

PUBLIC = "https://93.184.215.14/hooks/bookend"


def url(name: str, *args) -> str:
    return reverse(f"meetings:{name}", args=args)


@pytest.fixture
def admin_client(client, team_admin):
    client.force_login(team_admin)
    return client


@pytest.fixture
def hook(team, team_admin) -> Endpoint:
    return Endpoint.objects.create(
        team=team, kind="webhook", name="CI", url=PUBLIC, events=["agenda.sent"],
        secret="whsec_b2xkLXNlY3JldA==", created_by=team_admin,
    )  # fmt: skip


def add_deliveries(endpoint: Endpoint, meeting, count: int, *, start=None) -> list[Delivery]:
    start = start or timezone.now() - timedelta(days=1)
    rows = []
    for n in range(count):
        at = start + timedelta(minutes=n)
        event = Event.objects.create(
            team=endpoint.team, type="agenda.sent", key=f"k{endpoint.pk}-{n}",
            meeting=meeting, payload={}, created_at=at,
        )  # fmt: skip
        rows.append(Delivery(endpoint=endpoint, event=event, created_at=at, state="failed",
                             attempts=5, response_code=503, last_error="503 Service Unavailable",
                             last_attempt_at=at, given_up_at=at))  # fmt: skip
    return Delivery.objects.bulk_create(rows)


def actions(team) -> list[str]:
    events = AuditEvent.objects.filter(team=team, action__startswith="integration.")
    return list(events.order_by("pk").values_list("action", flat=True))


# -- the list ---------------------------------------------------------------------------


def test_team_settings_links_to_the_integrations_page(admin_client, team):
    page = admin_client.get(reverse("accounts:team_settings")).content.decode()
    assert url("integrations", team.slug) in page


def test_the_list_shows_kind_name_host_events_state_and_last_delivery(
    admin_client, team, hook, upcoming
):
    hook.failures, hook.failing_since = 3, timezone.now() - timedelta(hours=2)
    hook.save()
    Endpoint.objects.create(team=team, kind="teams", name="Room", events=["recap.published"],
                            url="https://93.184.215.14/x/secret-token",
                            disabled_at=timezone.now(), disabled_reason="Gone (410)")  # fmt: skip
    add_deliveries(hook, upcoming, 2)
    page = admin_client.get(url("integrations", team.slug)).content.decode()
    assert "Add webhook" in page and "Add chat channel" in page
    assert "Microsoft Teams" in page and "Webhook" in page
    assert "93.184.215.14" in page and "secret-token" not in page  # the host, not the path
    assert "Agenda sent" in page and "Recap published" in page
    assert "Failing</span> 3 attempts in a row since" in page
    assert "Disabled</span> since" in page and "Gone (410)" in page
    assert "Failed (refused for good) (503)" in page


@pytest.mark.parametrize("size", [1, 6])
def test_the_list_costs_the_same_queries_for_any_number_of_endpoints(
    admin_client, team, upcoming, size, django_assert_num_queries
):
    for n in range(size):
        endpoint = Endpoint.objects.create(team=team, kind="slack", name=f"E{n}", url=PUBLIC,
                                           events=["agenda.sent"])  # fmt: skip
        add_deliveries(endpoint, upcoming, 2)
    # session, user, memberships, endpoints, their last deliveries
    with django_assert_num_queries(5):
        response = admin_client.get(url("integrations", team.slug))
    assert len(response.context["endpoints"]) == size


# -- registering a webhook: the secret once ---------------------------------------------


def test_adding_a_webhook_shows_its_secret_once(admin_client, team, team_admin):
    response = admin_client.post(
        url("webhook_create", team.slug),
        {"name": "CI", "url": PUBLIC, "events": ["agenda.sent", "recap.published"]},
    )
    endpoint = Endpoint.objects.get(team=team)
    assert response.status_code == 302
    assert response["Location"] == url("endpoint", team.slug, endpoint.pk)
    assert endpoint.secret.startswith("whsec_") and endpoint.created_by == team_admin
    assert endpoint.events == ["agenda.sent", "recap.published"]

    # HEAD (a link checker, a prefetch) does not swallow it.
    admin_client.head(url("endpoint", team.slug, endpoint.pk))
    first = admin_client.get(url("endpoint", team.slug, endpoint.pk)).content.decode()
    assert endpoint.secret in first
    assert "shown this once" in first
    for header in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        assert header in first
    again = admin_client.get(url("endpoint", team.slug, endpoint.pk)).content.decode()
    assert endpoint.secret not in again
    # Not on the list either, and never in the audit trail.
    assert endpoint.secret not in admin_client.get(url("integrations", team.slug)).content.decode()
    event = AuditEvent.objects.get(team=team, action="integration.created")
    assert event.meeting_id is None and event.subject_id == endpoint.pk
    assert endpoint.secret not in str(event.changes) + event.summary


def test_the_secret_of_one_endpoint_is_not_shown_on_another(admin_client, team, hook):
    admin_client.post(url("webhook_create", team.slug),
                      {"name": "New", "url": PUBLIC, "events": ["agenda.sent"]})  # fmt: skip
    new = Endpoint.objects.get(name="New")
    assert new.secret not in admin_client.get(url("endpoint", team.slug, hook.pk)).content.decode()
    assert new.secret in admin_client.get(url("endpoint", team.slug, new.pk)).content.decode()


@pytest.mark.parametrize(
    ("url_value", "message"),
    [
        ("https://169.254.169.254/latest/meta-data/", "link-local address"),
        ("https://127.0.0.1/", "a loopback address"),
        ("nonsense", "Enter a valid URL."),
    ],
)
def test_an_unsafe_url_saves_nothing_and_says_why(
    admin_client, team, settings, url_value, message
):
    settings.INTEGRATIONS_ALLOW_LOOPBACK = False
    response = admin_client.post(
        url("webhook_create", team.slug),
        {"name": "CI", "url": url_value, "events": ["agenda.sent"]},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and "The webhook was not added" in page
    assert 'aria-invalid="true"' in page
    assert not Endpoint.objects.exists() and not AuditEvent.objects.filter(team=team).exists()


def test_a_duplicate_name_saves_nothing(admin_client, team, hook):
    response = admin_client.post(
        url("webhook_create", team.slug), {"name": "CI", "url": PUBLIC, "events": ["agenda.sent"]}
    )
    assert "already has a webhook or chat channel with this name" in response.content.decode()
    assert Endpoint.objects.count() == 1


def test_a_name_taken_in_a_race_is_a_field_error_not_a_500(team, team_admin, hook):
    from django.core.exceptions import ValidationError

    from meetings.services import integrations

    with pytest.raises(ValidationError) as refused:
        integrations.create_endpoint(team=team, kind="slack", name="CI", url=PUBLIC,
                                     events=[], by=team_admin, now=timezone.now())  # fmt: skip
    assert "name" in refused.value.message_dict
    assert Endpoint.objects.count() == 1


def test_hostile_input_gets_a_message_not_a_500(admin_client, team):
    for data in ({"name": "x\x00", "url": "https://\x00/", "events": ["nope"]},
                 {"name": "a" * 500, "url": "https://" + "a" * 3000, "events": []},
                 {"url": "https://[::1"}):  # fmt: skip
        response = admin_client.post(url("webhook_create", team.slug), data)
        assert response.status_code == 200
    assert not Endpoint.objects.exists()


# -- chat channels ----------------------------------------------------------------------


def test_adding_a_chat_channel(admin_client, team):
    page = admin_client.get(url("channel_create", team.slug)).content.decode()
    assert "reminders addressed to one person stay in e-mail" in page
    assert "Action item assigned" not in page  # only the team-wide events are offered
    response = admin_client.post(
        url("channel_create", team.slug),
        {"kind": "mattermost", "name": "#eng", "url": PUBLIC, "events": ["recap.published"]},
    )
    assert response.status_code == 302
    channel = Endpoint.objects.get(team=team)
    assert (channel.kind, channel.secret, channel.events) == (
        "mattermost",
        "",
        ["recap.published"],
    )
    assert (
        "whsec_" not in admin_client.get(url("endpoint", team.slug, channel.pk)).content.decode()
    )


def test_a_chat_channel_refuses_personal_events(admin_client, team):
    response = admin_client.post(
        url("channel_create", team.slug),
        {"kind": "slack", "name": "#eng", "url": PUBLIC, "events": ["action_item.overdue"]},
    )
    assert "reminders addressed to one person stay in e-mail" in response.content.decode()
    assert not Endpoint.objects.exists()


# -- editing ----------------------------------------------------------------------------


def test_editing_rechecks_the_url(admin_client, team, hook, settings):
    settings.INTEGRATIONS_ALLOW_LOOPBACK = False
    response = admin_client.post(
        url("endpoint", team.slug, hook.pk),
        {"name": "Renamed", "url": "https://10.1.2.3/", "events": ["agenda.sent"]},
    )
    assert "a private or reserved address" in response.content.decode()
    hook.refresh_from_db()
    assert (hook.name, hook.url) == ("CI", PUBLIC)


def test_editing_saves_and_records_what_changed(admin_client, team, hook):
    response = admin_client.post(
        url("endpoint", team.slug, hook.pk),
        {"name": "Builds", "url": PUBLIC, "events": ["recap.published"]},
    )
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.name, hook.events) == ("Builds", ["recap.published"])
    event = AuditEvent.objects.get(action="integration.changed")
    assert event.changes["name"] == ["CI", "Builds"] and "url" not in event.changes


def test_editing_to_another_endpoints_name_is_refused(admin_client, team, hook):
    Endpoint.objects.create(team=team, kind="slack", name="Chat", url=PUBLIC, events=[])
    admin_client.post(url("endpoint", team.slug, hook.pk),
                      {"name": "Chat", "url": PUBLIC, "events": ["agenda.sent"]})  # fmt: skip
    hook.refresh_from_db()
    assert hook.name == "CI"


# -- rotate, disable, enable, delete ----------------------------------------------------


def test_rotating_shows_the_new_secret_once(admin_client, team, hook):
    old = hook.secret
    assert admin_client.get(url("endpoint_rotate", team.slug, hook.pk)).status_code == 405
    admin_client.post(url("endpoint_rotate", team.slug, hook.pk))
    hook.refresh_from_db()
    assert hook.secret != old and hook.secret.startswith("whsec_")
    assert hook.secret in admin_client.get(url("endpoint", team.slug, hook.pk)).content.decode()
    assert (
        hook.secret not in admin_client.get(url("endpoint", team.slug, hook.pk)).content.decode()
    )
    assert actions(team) == ["integration.secret_rotated"]


def test_a_chat_channel_has_no_secret_to_rotate(admin_client, team):
    chat = Endpoint.objects.create(team=team, kind="slack", name="#x", url=PUBLIC, events=[])
    response = admin_client.post(url("endpoint_rotate", team.slug, chat.pk), follow=True)
    assert "Only a webhook has a signing secret." in response.content.decode()
    chat.refresh_from_db()
    assert chat.secret == ""


def test_disable_then_enable_queues_what_waited(admin_client, team, hook, upcoming, team_admin):
    admin_client.post(url("endpoint_disable", team.slug, hook.pk))
    hook.refresh_from_db()
    assert hook.disabled_at is not None and team_admin.name in hook.disabled_reason
    page = admin_client.get(url("endpoint", team.slug, hook.pk)).content.decode()
    assert "Disabled</span> since" in page and "Enable" in page
    # A second click changes nothing.
    admin_client.post(url("endpoint_disable", team.slug, hook.pk))

    waiting = add_deliveries(hook, upcoming, 1)[0]
    Delivery.objects.filter(pk=waiting.pk).update(state="pending", given_up_at=None)
    response = admin_client.post(url("endpoint_enable", team.slug, hook.pk), follow=True)
    assert "1 waiting delivery is on its way" in response.content.decode()
    hook.refresh_from_db()
    waiting.refresh_from_db()
    assert hook.disabled_at is None and hook.disabled_reason == ""
    assert waiting.requeued_at is not None
    admin_client.post(url("endpoint_enable", team.slug, hook.pk))
    assert actions(team) == ["integration.disabled", "integration.enabled"]


def test_delete_asks_first_then_deletes(admin_client, team, hook, upcoming):
    add_deliveries(hook, upcoming, 2)
    page = admin_client.get(url("endpoint_delete", team.slug, hook.pk)).content.decode()
    assert "Delete “CI”?" in page and 'method="post"' in page
    assert Endpoint.objects.filter(pk=hook.pk).exists()
    response = admin_client.post(url("endpoint_delete", team.slug, hook.pk))
    assert response["Location"] == url("integrations", team.slug)
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()
    assert actions(team) == ["integration.deleted"]


# -- deliveries -------------------------------------------------------------------------


def test_deliveries_newest_first_with_meeting_and_viewers_time(client, team, hook, upcoming):
    viewer = UserFactory(time_zone="Asia/Kolkata")
    MembershipFactory(user=viewer, team=team, role="owner")
    client.force_login(viewer)
    start = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)
    older, newer = add_deliveries(hook, upcoming, 2, start=start)
    response = client.get(url("endpoint_deliveries", team.slug, hook.pk))
    rows = list(response.context["page"].object_list)
    assert [d.pk for d in rows] == [newer.pk, older.pk]
    page = response.content.decode()
    assert "Agenda sent" in page and url("detail", upcoming.pk) in page
    assert "503 Service Unavailable" in page and "Asia/Kolkata" in page
    # 10:01 UTC is 15:31 in Kolkata.
    assert "15:31" in page and f"delivery-{newer.pk}-again" in page


@pytest.mark.parametrize("size", [5, 50])
def test_deliveries_cost_the_same_queries_for_5_and_50(
    admin_client, team, hook, upcoming, size, django_assert_num_queries
):
    add_deliveries(hook, upcoming, size)
    # session, user, memberships, endpoint, count, page (with events and meetings)
    with django_assert_num_queries(6):
        response = admin_client.get(url("endpoint_deliveries", team.slug, hook.pk))
    assert len(response.context["page"].object_list) == size


def test_deliveries_are_paginated_by_50(admin_client, team, hook, upcoming):
    add_deliveries(hook, upcoming, 53)
    first = admin_client.get(url("endpoint_deliveries", team.slug, hook.pk))
    assert len(first.context["page"].object_list) == 50
    assert "Page 1 of 2" in first.content.decode()
    for page in ("2", "x", "999999999999999999999", "-1"):
        assert admin_client.get(
            url("endpoint_deliveries", team.slug, hook.pk), {"page": page}
        ).status_code == 200  # fmt: skip


def test_send_again_requeues_a_failed_delivery(admin_client, team, hook, upcoming):
    delivery = add_deliveries(hook, upcoming, 1)[0]
    response = admin_client.post(
        url("delivery_send_again", team.slug, hook.pk, delivery.pk), follow=True
    )
    assert "Agenda sent is queued again." in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.requeued_at is not None) == (
        "pending", 0, True,
    )  # fmt: skip
    # Pending now: a second click queues nothing twice and records nothing.
    response = admin_client.post(
        url("delivery_send_again", team.slug, hook.pk, delivery.pk), follow=True
    )
    assert "already on its way" in response.content.decode()
    assert actions(team) == ["integration.sent_again"]


def test_send_again_with_htmx_answers_the_table(admin_client, team, hook, upcoming, htmx):
    delivery = add_deliveries(hook, upcoming, 1)[0]
    response = admin_client.post(
        url("delivery_send_again", team.slug, hook.pk, delivery.pk), headers=htmx
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="messages"') and 'id="deliveries"' in page
    assert "autofocus" in page and "Pending" in page


# -- tenancy ----------------------------------------------------------------------------


def test_another_teams_endpoint_and_delivery_are_404(admin_client, team, hook, upcoming):
    theirs_team = TeamFactory()
    theirs = Endpoint.objects.create(team=theirs_team, kind="slack", name="T", url=PUBLIC,
                                     events=[])  # fmt: skip
    stranger = UserFactory()
    MembershipFactory(user=stranger, team=theirs_team)
    their_meeting = MeetingFactory(team=theirs_team, organizer=stranger, now=timezone.now())
    their_delivery = add_deliveries(theirs, their_meeting, 1)[0]
    for path in (url("endpoint", team.slug, theirs.pk),
                 url("endpoint_deliveries", team.slug, theirs.pk),
                 url("endpoint_delete", team.slug, theirs.pk),
                 url("integrations", theirs_team.slug)):  # fmt: skip
        assert admin_client.get(path).status_code == 404, path
    posts = (
        url("endpoint_disable", team.slug, theirs.pk),
        url("delivery_send_again", team.slug, hook.pk, their_delivery.pk),
        url("delivery_send_again", theirs_team.slug, theirs.pk, their_delivery.pk),
    )
    for path in posts:
        assert admin_client.post(path).status_code == 404, path
    theirs.refresh_from_db()
    assert theirs.disabled_at is None


def test_a_plain_member_gets_403_and_changes_nothing(client, member, team, hook):
    client.force_login(member)
    assert client.get(url("integrations", team.slug)).status_code == 403
    assert client.post(url("endpoint_delete", team.slug, hook.pk)).status_code == 403
    assert Endpoint.objects.filter(pk=hook.pk).exists()


def test_a_change_to_an_endpoint_deleted_meanwhile_is_refused_not_a_500(team, team_admin, hook):
    from django.core.exceptions import ValidationError

    from meetings.services import integrations

    now = timezone.now()
    integrations.delete_endpoint(endpoint=hook, by=team_admin, now=now)
    for change in (integrations.disable_endpoint, integrations.enable_endpoint,
                   integrations.rotate_secret, integrations.delete_endpoint):  # fmt: skip
        with pytest.raises(ValidationError, match="no longer exists"):
            change(endpoint=hook, by=team_admin, now=now)
    assert actions(team) == ["integration.deleted"]


junk = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=1_000, max_value=5_000).map(lambda n: "x" * n),
    st.sampled_from(["", " ", "\x00", "https://", "https://[::1", "https://93.184.215.14:99999/",
                     "https://93.184.215.14/\x00", "javascript:alert(1)", "//93.184.215.14/",
                     "https://xn--/", "https://a..b/", "https://%00/", "agenda.sent"]),
)  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=junk, url_value=junk, events=st.lists(junk, max_size=3), kind=junk,
       chat=st.booleans())  # fmt: skip
def test_any_input_gets_a_page_or_a_redirect_never_a_500(
    admin_client, team, name, url_value, events, kind, chat
):
    with transaction.atomic():
        path = url("channel_create" if chat else "webhook_create", team.slug)
        data = {"name": name, "url": url_value, "events": events, "kind": kind}
        response = admin_client.post(path, data)
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            assert not Endpoint.objects.exists()
        transaction.set_rollback(True)
