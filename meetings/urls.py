"""Every URL of the meetings app, in one namespace ("meetings:").

The paths are part of the product: bookmarks, links in sent emails and calendar
subscriptions point at them, so they never change.
"""

from __future__ import annotations

from django.urls import include, path

from accounts import converters  # noqa: F401 - registers <token:...>

from .views import (
    actions,
    agenda,
    calendar,
    compliance,
    discussion,
    email_links,
    integrations,
    meeting,
    pages,
    recap,
    series,
    templates,
)

app_name = "meetings"

# Everything under one meeting: meetings/<pk>/...
meeting_patterns = [
    path("", meeting.meeting_detail, name="detail"),
    path("edit/", meeting.meeting_edit, name="edit"),
    path("cancel/", meeting.meeting_cancel, name="cancel"),
    path("history/", meeting.meeting_history, name="history"),
    # Agenda editor.
    path("agenda/outcome/", agenda.agenda_outcome, name="agenda_outcome"),
    path("agenda/items/", agenda.agenda_item_add, name="agenda_item_add"),
    path("agenda/items/<int:item_pk>/", agenda.agenda_item_edit, name="agenda_item_edit"),
    path("agenda/items/<int:item_pk>/move/", agenda.agenda_item_move, name="agenda_item_move"),
    path(
        "agenda/items/<int:item_pk>/remove/", agenda.agenda_item_remove, name="agenda_item_remove"
    ),
    # Settling it in writing: comments on items, items settled or reopened, the
    # meeting shortened to what is left or settled in writing altogether.
    path("agenda/items/<int:item_pk>/comments/", discussion.comment_add, name="comment_add"),
    path("agenda/items/<int:item_pk>/settle/", discussion.item_settle, name="item_settle"),
    path("agenda/items/<int:item_pk>/reopen/", discussion.item_unsettle, name="item_unsettle"),
    path("shorten/", discussion.meeting_shorten, name="shorten"),
    path("settle/", discussion.meeting_settle, name="settle"),
    path("agenda/send/", agenda.agenda_send, name="agenda_send"),
    path("agenda/amend/", agenda.agenda_amend, name="agenda_amend"),
    # Recap editor.
    path("recap/", recap.recap_save, name="recap_save"),
    path("recap/decisions/", recap.decision_add, name="decision_add"),
    path("recap/decisions/<int:decision_pk>/", recap.decision_edit, name="decision_edit"),
    path(
        "recap/decisions/<int:decision_pk>/remove/",
        recap.decision_remove,
        name="decision_remove",
    ),
    path("recap/actions/", recap.action_item_add, name="action_item_add"),
    path("recap/actions/<int:item_pk>/", recap.action_item_edit, name="action_item_edit"),
    path(
        "recap/actions/<int:item_pk>/remove/", recap.action_item_remove, name="action_item_remove"
    ),
    path("recap/publish/", recap.recap_publish, name="recap_publish"),
    path("acknowledge/", recap.recap_acknowledge, name="acknowledge"),
]

# Recurring meetings and agenda templates: series/...
series_patterns = [
    path("", series.series_list, name="series_list"),
    path("new/", series.series_create, name="series_create"),
    path("<int:pk>/", series.series_detail, name="series_detail"),
    path("<int:pk>/next/", series.series_next, name="series_next"),
    path("<int:pk>/end/", series.series_end, name="series_end"),
    path(
        "<int:pk>/meetings/<int:meeting_pk>/edit/", series.occurrence_edit, name="occurrence_edit"
    ),
    path(
        "<int:pk>/meetings/<int:meeting_pk>/cancel/",
        series.occurrence_cancel,
        name="occurrence_cancel",
    ),
    path("<int:pk>/template/", templates.series_template_create, name="series_template_create"),
    path("templates/", templates.template_list, name="templates"),
    path("templates/<int:pk>/", templates.template_detail, name="template"),
    path("templates/<int:pk>/items/", templates.template_item_add, name="template_item_add"),
    path(
        "templates/<int:pk>/items/<int:item_pk>/remove/",
        templates.template_item_remove,
        name="template_item_remove",
    ),
]

# A team's webhooks and chat channels, for its admins: teams/<slug>/integrations/...
integration_patterns = [
    path("", integrations.integrations, name="integrations"),
    path("webhooks/new/", integrations.webhook_create, name="webhook_create"),
    path("channels/new/", integrations.channel_create, name="channel_create"),
    path("<int:pk>/", integrations.endpoint, name="endpoint"),
    path("<int:pk>/rotate-secret/", integrations.endpoint_rotate, name="endpoint_rotate"),
    path("<int:pk>/disable/", integrations.endpoint_disable, name="endpoint_disable"),
    path("<int:pk>/enable/", integrations.endpoint_enable, name="endpoint_enable"),
    path("<int:pk>/delete/", integrations.endpoint_delete, name="endpoint_delete"),
    path("<int:pk>/deliveries/", integrations.endpoint_deliveries, name="endpoint_deliveries"),
    path(
        "<int:pk>/deliveries/<int:delivery_pk>/send-again/",
        integrations.delivery_send_again,
        name="delivery_send_again",
    ),
]

urlpatterns = [
    path("", pages.home, name="home"),
    path("meetings/", pages.meeting_list, name="list"),
    path("meetings/new/", meeting.meeting_create, name="create"),
    path("meetings/members/", meeting.member_search, name="member_search"),
    path("meetings/hours-check/", meeting.hours_check, name="hours_check"),
    path("meetings/<int:pk>/", include(meeting_patterns)),
    path("series/", include(series_patterns)),
    # Action items across meetings.
    path("action-items/", actions.action_items, name="action_items"),
    path(
        "action-items/<int:item_pk>/status/",
        actions.action_item_status,
        name="action_item_status",
    ),
    path(
        "action-items/<int:item_pk>/accept/", actions.action_item_accept, name="action_item_accept"
    ),
    path(
        "action-items/<int:item_pk>/due-date/",
        actions.action_item_due_date,
        name="action_item_due_date",
    ),
    path(
        "action-items/<int:item_pk>/reassign/",
        actions.action_item_reassign,
        name="action_item_reassign",
    ),
    # Compliance figures for a team's admins.
    path("compliance/<slug:slug>/", compliance.team_compliance, name="team_compliance"),
    path("teams/<slug:slug>/integrations/", include(integration_patterns)),
    # Calendars: a secret per-user feed (no login, the token is the key) and .ics files.
    path("calendar/feed/<token:token>.ics", calendar.feed, name="calendar_feed"),
    path("calendar/meetings/<int:pk>.ics", calendar.meeting_ics, name="meeting_ics"),
    # Signed links from emails (recap acknowledgement, unsubscribe, action item
    # answers): no login needed.
    path("email/acknowledge/<token:token>/", email_links.acknowledge, name="email_acknowledge"),
    path("email/unsubscribe/<token:token>/", email_links.unsubscribe, name="email_unsubscribe"),
    # An action item's owner answers it from its e-mails: one purpose per link.
    path(
        "email/action/accept/<token:token>/", email_links.action_accept, name="email_action_accept"
    ),
    path("email/action/done/<token:token>/", email_links.action_done, name="email_action_done"),
    path(
        "email/action/redate/<token:token>/", email_links.action_redate, name="email_action_redate"
    ),
    path(
        "email/action/decline/<token:token>/",
        email_links.action_decline,
        name="email_action_decline",
    ),
]
