from __future__ import annotations

from django.urls import include, path

from . import views

app_name = "meetings"

# Everything under one meeting: meetings/<pk>/...
meeting_patterns = [
    path("", views.meeting_detail, name="detail"),
    path("edit/", views.meeting_edit, name="edit"),
    path("cancel/", views.meeting_cancel, name="cancel"),
    # Agenda editor.
    path("agenda/outcome/", views.agenda_outcome, name="agenda_outcome"),
    path("agenda/items/", views.agenda_item_add, name="agenda_item_add"),
    path("agenda/items/<int:item_pk>/", views.agenda_item_edit, name="agenda_item_edit"),
    path("agenda/items/<int:item_pk>/move/", views.agenda_item_move, name="agenda_item_move"),
    path(
        "agenda/items/<int:item_pk>/remove/", views.agenda_item_remove, name="agenda_item_remove"
    ),
    path("agenda/send/", views.agenda_send, name="agenda_send"),
    path("agenda/amend/", views.agenda_amend, name="agenda_amend"),
    # Recap editor.
    path("recap/", views.recap_save, name="recap_save"),
    path("recap/decisions/", views.decision_add, name="decision_add"),
    path("recap/decisions/<int:decision_pk>/", views.decision_edit, name="decision_edit"),
    path(
        "recap/decisions/<int:decision_pk>/remove/",
        views.decision_remove,
        name="decision_remove",
    ),
    path("recap/actions/", views.action_item_add, name="action_item_add"),
    path("recap/actions/<int:item_pk>/", views.action_item_edit, name="action_item_edit"),
    path(
        "recap/actions/<int:item_pk>/remove/", views.action_item_remove, name="action_item_remove"
    ),
    path("recap/publish/", views.recap_publish, name="recap_publish"),
    path("acknowledge/", views.recap_acknowledge, name="acknowledge"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("meetings/", views.meeting_list, name="list"),
    path("meetings/new/", views.meeting_create, name="create"),
    path("meetings/members/", views.member_search, name="member_search"),
    path("meetings/<int:pk>/", include(meeting_patterns)),
    path("series/", include("meetings.series_urls")),
    # Action items across meetings.
    path("action-items/", views.action_items, name="action_items"),
    path(
        "action-items/<int:item_pk>/status/", views.action_item_status, name="action_item_status"
    ),
]
