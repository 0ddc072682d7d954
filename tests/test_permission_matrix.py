"""Every URL pattern, walked as each kind of visitor, gets the status it should.

The team is the tenancy boundary: an outsider gets 404 for another team's
objects (their existence does not leak), a member without the right gets 403,
and only the organizer and team admins change a meeting. A new URL pattern
without a row here fails `test_every_url_pattern_is_in_the_matrix`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Invitation, Membership
from meetings import services
from meetings.notifications import action_messages, messages
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory

ROLES = ("anonymous", "outsider", "member", "attendee", "organizer", "admin")

OK, LOGIN, FORBIDDEN, HIDDEN = "ok", "login", 403, 404
# The JSON API answers an anonymous caller 401 (no redirect to a login page).
UNAUTHORIZED = 401


def expect(anonymous, outsider, member, attendee, organizer, admin) -> dict[str, object]:
    return dict(zip(ROLES, (anonymous, outsider, member, attendee, organizer, admin), strict=True))


PUBLIC = expect(OK, OK, OK, OK, OK, OK)
SIGNED_IN = expect(LOGIN, OK, OK, OK, OK, OK)
READ = expect(LOGIN, HIDDEN, OK, OK, OK, OK)
CHANGE = expect(LOGIN, HIDDEN, FORBIDDEN, FORBIDDEN, OK, OK)
ATTEND = expect(LOGIN, HIDDEN, FORBIDDEN, OK, OK, OK)
# Acknowledging a recap is for its attendees (the organizer is one); a team admin
# who was not there has nothing to acknowledge.
ACKNOWLEDGE = expect(LOGIN, HIDDEN, FORBIDDEN, OK, OK, FORBIDDEN)
TEAM_ADMIN = expect(LOGIN, HIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
# Pages about "my current team": an outsider sees their own team, where they are
# a plain member, so they are refused like any member.
OWN_TEAM_ADMIN = expect(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
# An action item's owner (our attendee) answers for it alone; its organizer may
# also move its due date; the organizer and team admins give it to someone else.
ITEM_OWNER = expect(LOGIN, HIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN)
ITEM_REDATE = expect(LOGIN, HIDDEN, FORBIDDEN, OK, OK, FORBIDDEN)
# The agenda's written discussion is for the meeting's attendees and the team's admins.
DISCUSS = expect(LOGIN, HIDDEN, FORBIDDEN, OK, OK, OK)
# An agenda item is settled in writing (or reopened) by its owner or the organizer;
# the matrix's item is the organizer's and has no owner.
SETTLE_ITEM = expect(LOGIN, HIDDEN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN)
# The same rules on the JSON API (signed in by session here; tokens in tests/meetings/api).
API_SIGNED_IN = expect(UNAUTHORIZED, OK, OK, OK, OK, OK)
API_READ = expect(UNAUTHORIZED, HIDDEN, OK, OK, OK, OK)
API_CHANGE = expect(UNAUTHORIZED, HIDDEN, FORBIDDEN, FORBIDDEN, OK, OK)
API_ATTEND = expect(UNAUTHORIZED, HIDDEN, FORBIDDEN, OK, OK, OK)
API_ITEM_OWNER = expect(UNAUTHORIZED, HIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN)
API_ITEM_REDATE = expect(UNAUTHORIZED, HIDDEN, FORBIDDEN, OK, OK, FORBIDDEN)
API_ACKNOWLEDGE = expect(UNAUTHORIZED, HIDDEN, FORBIDDEN, OK, OK, FORBIDDEN)


@dataclass
class World:
    team: object
    meeting: object
    users: dict
    series: object
    occurrence: object
    template: object
    template_item: object
    invitation: object
    token_invitation: str
    ack_token_url: str
    unsubscribe_url: str
    # The attendee's answer links to their action item, by URL name.
    answer_urls: dict


@pytest.fixture
def world(db) -> World:
    now = timezone.now()
    team = TeamFactory(slug="tenants")
    users = {}
    for role, membership_role in (
        ("member", "member"),
        ("attendee", "member"),
        ("organizer", "member"),
        ("admin", "admin"),
    ):
        users[role] = UserFactory(time_zone="Europe/Berlin")
        MembershipFactory(user=users[role], team=team, role=membership_role)
    MembershipFactory(user=UserFactory(), team=team, role="owner")
    users["outsider"] = UserFactory()
    MembershipFactory(user=users["outsider"], team=TeamFactory(), role="member")

    meeting = MeetingFactory(
        team=team, organizer=users["organizer"], attendees=[users["attendee"]], now=now
    )
    meeting.desired_outcome = "Decide."
    meeting.save(update_fields=["desired_outcome"])
    item = services.add_agenda_item(meeting=meeting, title="First", added_by=users["organizer"])
    services.add_decision(meeting=meeting, text="We decided.")
    services.add_action_item(
        meeting=meeting,
        description="Follow up",
        owner=users["attendee"],
        due_date=meeting.local_date,
        now=now,
    )
    meeting.item = item

    from meetings import series as series_service
    from meetings.models import AgendaTemplate, TemplateItem

    series = series_service.create_series(
        team=team,
        organizer=users["organizer"],
        title="Weekly",
        first_start=(now + timedelta(days=3)).replace(tzinfo=None, microsecond=0),
        duration=timedelta(minutes=30),
        time_zone="Europe/Berlin",
        rrule="FREQ=WEEKLY;COUNT=3",
        now=now,
    )
    occurrence = series.meetings.order_by("starts_at").first()
    template, _ = AgendaTemplate.objects.get_or_create(
        series=series, defaults={"team": team, "name": "Standing"}
    )
    template_item = TemplateItem.objects.create(template=template, title="Check-in")
    invitation = Invitation.objects.create(
        team=team, email="new@example.com", invited_by=users["admin"]
    )
    # A meeting that already happened and has a published recap, for the
    # acknowledgement link a recap digest carries.
    recapped = MeetingFactory(
        team=team,
        organizer=users["organizer"],
        attendees=[users["attendee"]],
        starts_at=now - timedelta(days=2),
        now=now,
    )
    recapped.recap_summary = "Done."
    recapped.no_action_items = True
    recapped.save(update_fields=["recap_summary", "no_action_items"])
    services.publish_recap(meeting=recapped, by=users["organizer"], now=now)
    attendee_row = recapped.attendees.get(user=users["attendee"])
    return World(
        team=team,
        meeting=meeting,
        users=users,
        series=series,
        occurrence=occurrence,
        template=template,
        template_item=template_item,
        invitation=invitation,
        token_invitation=account_services.invitation_token(invitation),
        ack_token_url=messages.acknowledge_url(attendee_row, now=now),
        unsubscribe_url=messages.unsubscribe_headers(
            users["attendee"], list_name="meeting", now=now, meeting=meeting
        )[0],
        answer_urls={
            name: action_messages.answer_url(meeting.action_items.get(), purpose, now=now)
            for purpose, name in action_messages.ANSWER_URLS.items()
        },
    )


def membership_of(world: World, role: str) -> int:
    return Membership.objects.get(user=world.users[role], team=world.team).pk


def action_item_pk(world: World) -> int:
    return world.meeting.action_items.get().pk


def attendee_token_pk(world: World) -> int:
    """A personal access token of the attendee: only its owner revokes it."""
    now = timezone.now()
    token, _ = account_services.create_api_token(
        user=world.users["attendee"], name="Script", scope="read",
        expires_at=now + timedelta(days=1), now=now,
    )  # fmt: skip
    return token.pk


def decision_pk(world: World) -> int:
    return world.meeting.decisions.get().pk


# -- issue 15: webhooks and chat channels (made on first use, so the world stays as it was) --


def webhook_pk(world: World) -> int:
    from meetings.models import Endpoint

    endpoint, _ = Endpoint.objects.get_or_create(
        team=world.team, name="Matrix hook",
        defaults={"kind": "webhook", "url": "https://93.184.215.14/hook",
                  "events": ["agenda.sent"], "secret": "whsec_bWF0cml4"},
    )  # fmt: skip
    return endpoint.pk


def delivery_pk(world: World) -> int:
    from meetings.models import Delivery, Event

    event, _ = Event.objects.get_or_create(
        team=world.team, key="matrix", defaults={"type": "agenda.sent", "meeting": world.meeting,
                                                 "payload": {}},
    )  # fmt: skip
    delivery, _ = Delivery.objects.get_or_create(
        endpoint_id=webhook_pk(world), event=event,
        defaults={"state": "failed", "attempts": 3, "response_code": 500,
                  "given_up_at": timezone.now(), "last_error": "500 Internal Server Error"},
    )  # fmt: skip
    return delivery.pk


def team_slug(world: World) -> str:
    return world.team.slug


Path = Callable[[World], str]


def url(name: str, *args: Callable[[World], object]) -> Path:
    return lambda w: reverse(name, args=[arg(w) for arg in args])


def mtg(w: World) -> int:
    return w.meeting.pk


def tail(full_url: str) -> str:
    return full_url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


# (url name, method, path builder, expectations)
MATRIX: list[tuple[str, str, Path, dict]] = [
    ("accounts:login", "GET", url("accounts:login"), PUBLIC),
    ("accounts:password_reset", "GET", url("accounts:password_reset"), PUBLIC),
    ("accounts:password_reset_done", "GET", url("accounts:password_reset_done"), PUBLIC),
    (
        "accounts:password_reset_confirm",
        "GET",
        lambda w: reverse("accounts:password_reset_confirm", args=["MQ", "set-password"]),
        PUBLIC,
    ),
    ("accounts:password_reset_complete", "GET", url("accounts:password_reset_complete"), PUBLIC),
    (
        "accounts:accept_invitation",
        "GET",
        lambda w: reverse("accounts:accept_invitation", args=[w.token_invitation]),
        # Anyone may open it (a stranger signs up as the invited address); a
        # logged-in account of another address is told it is not theirs.
        expect(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    ),
    ("healthz", "GET", lambda w: "/healthz", PUBLIC),
    # The API's schema and its docs page are public, like any API documentation.
    # django-ninja's root: nothing lives at /api/v1/ itself.
    ("api:api-root", "GET", url("api:api-root"), expect(*[HIDDEN] * 6)),
    ("api:openapi-json", "GET", url("api:openapi-json"), PUBLIC),
    ("api:openapi-view", "GET", url("api:openapi-view"), PUBLIC),
    ("api:teams", "GET", url("api:teams"), API_SIGNED_IN),
    ("api:meetings", "GET", url("api:meetings"), API_SIGNED_IN),
    # Into our team: an outsider (of another team) gets 404 for it.
    ("api:meeting_create", "POST", url("api:meeting_create"), API_READ),
    ("api:meeting", "GET", url("api:meeting", mtg), API_READ),
    ("api:meeting_cancel", "POST", url("api:meeting_cancel", mtg), API_CHANGE),
    ("api:agenda_item_add", "POST", url("api:agenda_item_add", mtg), API_ATTEND),
    ("api:agenda_send", "POST", url("api:agenda_send", mtg), API_CHANGE),
    ("api:recap_publish", "POST", url("api:recap_publish", mtg), API_CHANGE),
    ("api:action_items", "GET", url("api:action_items"), API_SIGNED_IN),
    ("api:action_item_done", "POST", url("api:action_item_done", action_item_pk), API_ATTEND),
    (
        "api:action_item_accept",
        "POST",
        url("api:action_item_accept", action_item_pk),
        API_ITEM_OWNER,
    ),
    (
        "api:action_item_redate",
        "POST",
        url("api:action_item_redate", action_item_pk),
        API_ITEM_REDATE,
    ),
    (
        "api:action_item_decline",
        "POST",
        url("api:action_item_decline", action_item_pk),
        API_ITEM_OWNER,
    ),
    # -- The API's agenda, recap and attendee operations (issue 15): the rules of the
    # pages they mirror, in the same order as the page rows below.
    ("api:meeting_update", "PATCH", url("api:meeting_update", mtg), API_CHANGE),
    ("api:attendees", "GET", url("api:attendees", mtg), API_READ),
    ("api:attendee_add", "POST", url("api:attendee_add", mtg), API_CHANGE),
    (
        "api:attendee_remove",
        "DELETE",
        url("api:attendee_remove", mtg, lambda w: w.users["attendee"].pk),
        API_CHANGE,
    ),
    ("api:agenda_outcome", "PUT", url("api:agenda_outcome", mtg), API_CHANGE),
    (
        "api:agenda_item_edit",
        "PATCH",
        url("api:agenda_item_edit", mtg, lambda w: w.meeting.item.pk),
        API_CHANGE,
    ),
    (
        "api:agenda_item_move",
        "POST",
        url("api:agenda_item_move", mtg, lambda w: w.meeting.item.pk),
        API_CHANGE,
    ),
    (
        "api:agenda_item_remove",
        "DELETE",
        url("api:agenda_item_remove", mtg, lambda w: w.meeting.item.pk),
        API_CHANGE,
    ),
    ("api:agenda_amend", "POST", url("api:agenda_amend", mtg), API_CHANGE),
    ("api:recap_save", "PATCH", url("api:recap_save", mtg), API_CHANGE),
    ("api:decision_add", "POST", url("api:decision_add", mtg), API_CHANGE),
    ("api:decision_edit", "PATCH", url("api:decision_edit", mtg, decision_pk), API_CHANGE),
    ("api:decision_remove", "DELETE", url("api:decision_remove", mtg, decision_pk), API_CHANGE),
    ("api:draft_action_item_add", "POST", url("api:draft_action_item_add", mtg), API_CHANGE),
    (
        "api:draft_action_item_edit",
        "PATCH",
        url("api:draft_action_item_edit", mtg, action_item_pk),
        API_CHANGE,
    ),
    (
        "api:draft_action_item_remove",
        "DELETE",
        url("api:draft_action_item_remove", mtg, action_item_pk),
        API_CHANGE,
    ),
    ("api:acknowledge", "POST", url("api:acknowledge", mtg), API_ACKNOWLEDGE),
    # -- end of the API's agenda, recap and attendee operations.
    ("meetings:email_acknowledge", "GET", lambda w: tail(w.ack_token_url), PUBLIC),
    ("meetings:email_unsubscribe", "GET", lambda w: tail(w.unsubscribe_url), PUBLIC),
    # The signed link is the credential: whoever holds it sees the one-button page.
    *[
        (name, "GET", lambda w, name=name: tail(w.answer_urls[name]), PUBLIC)
        for name in action_messages.ANSWER_URLS.values()
    ],
    (
        "meetings:calendar_feed",
        "GET",
        lambda w: reverse("meetings:calendar_feed", args=[w.users["attendee"].calendar_token]),
        PUBLIC,
    ),
    ("accounts:logout", "POST", url("accounts:logout"), PUBLIC),
    ("accounts:profile", "GET", url("accounts:profile"), SIGNED_IN),
    (
        "accounts:regenerate_calendar_token",
        "POST",
        url("accounts:regenerate_calendar_token"),
        SIGNED_IN,
    ),
    ("accounts:api_token_create", "POST", url("accounts:api_token_create"), SIGNED_IN),
    (
        "accounts:api_token_revoke",
        "POST",
        url("accounts:api_token_revoke", attendee_token_pk),
        expect(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),
    ),
    ("accounts:team", "GET", url("accounts:team"), SIGNED_IN),
    ("accounts:switch_team", "POST", url("accounts:switch_team"), SIGNED_IN),
    ("accounts:team_settings", "GET", url("accounts:team_settings"), OWN_TEAM_ADMIN),
    ("accounts:team_history", "GET", url("accounts:team_history"), OWN_TEAM_ADMIN),
    ("accounts:invite", "POST", url("accounts:invite"), OWN_TEAM_ADMIN),
    (
        "accounts:invitation_revoke",
        "POST",
        url("accounts:invitation_revoke", lambda w: w.invitation.pk),
        TEAM_ADMIN,
    ),
    (
        "accounts:member_role",
        "POST",
        url("accounts:member_role", lambda w: membership_of(w, "member")),
        TEAM_ADMIN,
    ),
    (
        "accounts:member_remove",
        "POST",
        url("accounts:member_remove", lambda w: membership_of(w, "member")),
        TEAM_ADMIN,
    ),
    (
        "meetings:team_compliance",
        "GET",
        url("meetings:team_compliance", lambda w: w.team.slug),
        TEAM_ADMIN,
    ),
    # -- issue 15: a team's webhooks and chat channels, for its admins only --------------
    ("meetings:integrations", "GET", url("meetings:integrations", team_slug), TEAM_ADMIN),
    ("meetings:webhook_create", "GET", url("meetings:webhook_create", team_slug), TEAM_ADMIN),
    ("meetings:webhook_create", "POST", url("meetings:webhook_create", team_slug), TEAM_ADMIN),
    ("meetings:channel_create", "GET", url("meetings:channel_create", team_slug), TEAM_ADMIN),
    ("meetings:channel_create", "POST", url("meetings:channel_create", team_slug), TEAM_ADMIN),
    ("meetings:endpoint", "GET", url("meetings:endpoint", team_slug, webhook_pk), TEAM_ADMIN),
    ("meetings:endpoint", "POST", url("meetings:endpoint", team_slug, webhook_pk), TEAM_ADMIN),
    (
        "meetings:endpoint_rotate",
        "POST",
        url("meetings:endpoint_rotate", team_slug, webhook_pk),
        TEAM_ADMIN,
    ),
    (
        "meetings:endpoint_disable",
        "POST",
        url("meetings:endpoint_disable", team_slug, webhook_pk),
        TEAM_ADMIN,
    ),
    (
        "meetings:endpoint_enable",
        "POST",
        url("meetings:endpoint_enable", team_slug, webhook_pk),
        TEAM_ADMIN,
    ),
    # Without JavaScript too, Delete first GETs a page that asks.
    (
        "meetings:endpoint_delete",
        "GET",
        url("meetings:endpoint_delete", team_slug, webhook_pk),
        TEAM_ADMIN,
    ),
    (
        "meetings:endpoint_delete",
        "POST",
        url("meetings:endpoint_delete", team_slug, webhook_pk),
        TEAM_ADMIN,
    ),
    (
        "meetings:endpoint_deliveries",
        "GET",
        url("meetings:endpoint_deliveries", team_slug, webhook_pk),
        TEAM_ADMIN,
    ),
    (
        "meetings:delivery_send_again",
        "POST",
        url("meetings:delivery_send_again", team_slug, webhook_pk, delivery_pk),
        TEAM_ADMIN,
    ),
    # -- end of issue 15 ------------------------------------------------------------------
    ("meetings:home", "GET", url("meetings:home"), SIGNED_IN),
    ("meetings:list", "GET", url("meetings:list"), SIGNED_IN),
    ("meetings:create", "GET", url("meetings:create"), SIGNED_IN),
    ("meetings:member_search", "GET", url("meetings:member_search"), SIGNED_IN),
    ("meetings:hours_check", "GET", url("meetings:hours_check"), SIGNED_IN),
    ("meetings:action_items", "GET", url("meetings:action_items"), SIGNED_IN),
    ("meetings:detail", "GET", url("meetings:detail", mtg), READ),
    ("meetings:meeting_ics", "GET", url("meetings:meeting_ics", mtg), READ),
    ("meetings:edit", "GET", url("meetings:edit", mtg), CHANGE),
    ("meetings:cancel", "POST", url("meetings:cancel", mtg), CHANGE),
    # The audit trail of a meeting is for the team's admins.
    ("meetings:history", "GET", url("meetings:history", mtg), TEAM_ADMIN),
    ("meetings:agenda_outcome", "POST", url("meetings:agenda_outcome", mtg), CHANGE),
    ("meetings:agenda_item_add", "POST", url("meetings:agenda_item_add", mtg), ATTEND),
    (
        "meetings:agenda_item_edit",
        "POST",
        url("meetings:agenda_item_edit", mtg, lambda w: w.meeting.item.pk),
        CHANGE,
    ),
    (
        "meetings:agenda_item_move",
        "POST",
        url("meetings:agenda_item_move", mtg, lambda w: w.meeting.item.pk),
        CHANGE,
    ),
    (
        "meetings:agenda_item_remove",
        "POST",
        url("meetings:agenda_item_remove", mtg, lambda w: w.meeting.item.pk),
        CHANGE,
    ),
    # Without JavaScript, Remove first GETs a page that asks.
    (
        "meetings:agenda_item_remove",
        "GET",
        url("meetings:agenda_item_remove", mtg, lambda w: w.meeting.item.pk),
        CHANGE,
    ),
    (
        "meetings:comment_add",
        "POST",
        url("meetings:comment_add", mtg, lambda w: w.meeting.item.pk),
        DISCUSS,
    ),
    (
        "meetings:item_settle",
        "POST",
        url("meetings:item_settle", mtg, lambda w: w.meeting.item.pk),
        SETTLE_ITEM,
    ),
    (
        "meetings:item_unsettle",
        "POST",
        url("meetings:item_unsettle", mtg, lambda w: w.meeting.item.pk),
        SETTLE_ITEM,
    ),
    ("meetings:shorten", "POST", url("meetings:shorten", mtg), CHANGE),
    ("meetings:settle", "POST", url("meetings:settle", mtg), CHANGE),
    ("meetings:agenda_send", "POST", url("meetings:agenda_send", mtg), CHANGE),
    ("meetings:agenda_amend", "POST", url("meetings:agenda_amend", mtg), CHANGE),
    ("meetings:recap_save", "POST", url("meetings:recap_save", mtg), CHANGE),
    ("meetings:decision_add", "POST", url("meetings:decision_add", mtg), CHANGE),
    (
        "meetings:decision_edit",
        "POST",
        url("meetings:decision_edit", mtg, decision_pk),
        CHANGE,
    ),
    (
        "meetings:decision_remove",
        "POST",
        url("meetings:decision_remove", mtg, decision_pk),
        CHANGE,
    ),
    # Without JavaScript, Remove first GETs a page that asks.
    (
        "meetings:decision_remove",
        "GET",
        url("meetings:decision_remove", mtg, decision_pk),
        CHANGE,
    ),
    ("meetings:action_item_add", "POST", url("meetings:action_item_add", mtg), CHANGE),
    (
        "meetings:action_item_edit",
        "POST",
        url("meetings:action_item_edit", mtg, action_item_pk),
        CHANGE,
    ),
    (
        "meetings:action_item_remove",
        "POST",
        url("meetings:action_item_remove", mtg, action_item_pk),
        CHANGE,
    ),
    # Without JavaScript, Remove first GETs a page that asks.
    (
        "meetings:action_item_remove",
        "GET",
        url("meetings:action_item_remove", mtg, action_item_pk),
        CHANGE,
    ),
    ("meetings:recap_publish", "POST", url("meetings:recap_publish", mtg), CHANGE),
    ("meetings:acknowledge", "POST", url("meetings:acknowledge", mtg), ACKNOWLEDGE),
    (
        "meetings:action_item_status",
        "POST",
        url("meetings:action_item_status", action_item_pk),
        # The owner (our attendee), the organizer and team admins change an item.
        ATTEND,
    ),
    (
        "meetings:action_item_accept",
        "POST",
        url("meetings:action_item_accept", action_item_pk),
        ITEM_OWNER,
    ),
    (
        "meetings:action_item_due_date",
        "POST",
        url("meetings:action_item_due_date", action_item_pk),
        ITEM_REDATE,
    ),
    (
        "meetings:action_item_reassign",
        "GET",
        url("meetings:action_item_reassign", action_item_pk),
        CHANGE,
    ),
    (
        "meetings:action_item_reassign",
        "POST",
        url("meetings:action_item_reassign", action_item_pk),
        CHANGE,
    ),
    ("meetings:series_list", "GET", url("meetings:series_list"), SIGNED_IN),
    ("meetings:series_create", "GET", url("meetings:series_create"), SIGNED_IN),
    ("meetings:templates", "GET", url("meetings:templates"), SIGNED_IN),
    ("meetings:series_detail", "GET", url("meetings:series_detail", lambda w: w.series.pk), READ),
    ("meetings:series_next", "GET", url("meetings:series_next", lambda w: w.series.pk), READ),
    ("meetings:series_end", "POST", url("meetings:series_end", lambda w: w.series.pk), CHANGE),
    (
        "meetings:occurrence_edit",
        "GET",
        url("meetings:occurrence_edit", lambda w: w.series.pk, lambda w: w.occurrence.pk),
        CHANGE,
    ),
    (
        "meetings:occurrence_cancel",
        "POST",
        url("meetings:occurrence_cancel", lambda w: w.series.pk, lambda w: w.occurrence.pk),
        CHANGE,
    ),
    (
        "meetings:series_template_create",
        "POST",
        url("meetings:series_template_create", lambda w: w.series.pk),
        CHANGE,
    ),
    # Anyone in the team may read a series' standing agenda; changing it is guarded below.
    (
        "meetings:template",
        "GET",
        url("meetings:template", lambda w: w.template.pk),
        READ,
    ),
    (
        "meetings:template_item_add",
        "POST",
        url("meetings:template_item_add", lambda w: w.template.pk),
        CHANGE,
    ),
    (
        "meetings:template_item_remove",
        "POST",
        url(
            "meetings:template_item_remove",
            lambda w: w.template.pk,
            lambda w: w.template_item.pk,
        ),
        CHANGE,
    ),
]


# A valid body for the API's writes: the API validates input before the view looks
# the object up, so an empty body would answer 422 before access is decided.
API_BODIES = {
    "api:meeting_create": lambda w: {
        "team_id": w.team.pk,
        "title": "Planning",
        "starts_at": (timezone.now() + timedelta(days=5)).isoformat(),
        "ends_at": (timezone.now() + timedelta(days=5, hours=1)).isoformat(),
        "time_zone": "UTC",
    },
    "api:agenda_item_add": lambda w: {"title": "From the API"},
    "api:action_item_done": lambda w: {"done": True},
    "api:action_item_redate": lambda w: {"due_date": w.meeting.local_date.isoformat()},
    "api:action_item_decline": lambda w: {"reason": "Not mine."},
    "api:meeting_update": lambda w: {"title": "Renamed"},
    "api:attendee_add": lambda w: {"user_id": w.users["member"].pk},
    "api:agenda_outcome": lambda w: {"desired_outcome": "Decide."},
    "api:agenda_item_edit": lambda w: {"title": "Renamed"},
    "api:agenda_item_move": lambda w: {"offset": 1},
    "api:recap_save": lambda w: {"summary": "Done."},
    "api:decision_add": lambda w: {"text": "Ship it."},
    "api:decision_edit": lambda w: {"text": "Ship it later."},
    "api:draft_action_item_add": lambda w: {
        "description": "Write it up",
        "owner_id": w.users["attendee"].pk,
        "due_date": w.meeting.local_date.isoformat(),
    },
    "api:draft_action_item_edit": lambda w: {"description": "Write it down"},
}


def all_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name == "admin":
                    continue  # the Django admin has its own staff-only tests
                inner = pattern.namespace
                walk(pattern.url_patterns, f"{namespace}{inner}:" if inner else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns, "")
    return names


def test_every_url_pattern_is_in_the_matrix():
    assert all_url_names() == {row[0] for row in MATRIX}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "method", "path", "expected"), MATRIX, ids=[row[0] for row in MATRIX]
)
def test_url_answers_each_visitor_as_expected(client, world, name, method, path, expected, role):
    if role != "anonymous":
        client.force_login(world.users[role])
    target = path(world)
    data = {}
    if name == "accounts:switch_team" and role != "anonymous":
        data = {"team": Membership.objects.filter(user=world.users[role]).first().team_id}
    if method == "GET":
        response = client.get(target)
    elif name.startswith("api:"):
        body = API_BODIES.get(name, lambda w: {})(world)
        response = client.generic(method, target, json.dumps(body), "application/json")
    else:
        response = client.post(target, data)
    want = expected[role]
    location = response.headers.get("Location", "")
    got_login = response.status_code == 302 and reverse("accounts:login") in location
    if want == LOGIN:
        assert got_login, f"{method} {target} as {role}: {response.status_code} {location}"
    elif want == OK:
        # 400 is a form refusing our empty POST: access was granted, the input was not;
        # on the API that is a 422 (a missing body, or a rule refusing the change).
        assert response.status_code in (200, 201, 204, 302, 303, 400, 422), (
            f"{method} {target} as {role}: {response.status_code}"
        )
        if name != "accounts:logout":
            assert not got_login, f"{method} {target} as {role} was sent to log in"
    else:
        assert response.status_code == want, (
            f"{method} {target} as {role}: {response.status_code}, expected {want}"
        )
