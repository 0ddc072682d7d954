from __future__ import annotations

from django.urls import include, path

from . import views

app_name = "meetings"

urlpatterns = [
    path("", views.home, name="home"),
    path("meetings/", views.meeting_list, name="list"),
    path("meetings/new/", views.meeting_create, name="create"),
    path("meetings/members/", views.member_search, name="member_search"),
    path("meetings/<int:pk>/", views.meeting_detail, name="detail"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel, name="cancel"),
    # Agenda editor.
    path("meetings/<int:pk>/agenda/outcome/", views.agenda_outcome, name="agenda_outcome"),
    path("meetings/<int:pk>/agenda/items/", views.agenda_item_add, name="agenda_item_add"),
    path(
        "meetings/<int:pk>/agenda/items/<int:item_pk>/",
        views.agenda_item_edit,
        name="agenda_item_edit",
    ),
    path(
        "meetings/<int:pk>/agenda/items/<int:item_pk>/move/",
        views.agenda_item_move,
        name="agenda_item_move",
    ),
    path(
        "meetings/<int:pk>/agenda/items/<int:item_pk>/remove/",
        views.agenda_item_remove,
        name="agenda_item_remove",
    ),
    path("meetings/<int:pk>/agenda/send/", views.agenda_send, name="agenda_send"),
    path("meetings/<int:pk>/agenda/amend/", views.agenda_amend, name="agenda_amend"),
    # Recap editor.
    path("meetings/<int:pk>/recap/", views.recap_save, name="recap_save"),
    path("meetings/<int:pk>/recap/decisions/", views.decision_add, name="decision_add"),
    path(
        "meetings/<int:pk>/recap/decisions/<int:decision_pk>/",
        views.decision_edit,
        name="decision_edit",
    ),
    path(
        "meetings/<int:pk>/recap/decisions/<int:decision_pk>/remove/",
        views.decision_remove,
        name="decision_remove",
    ),
    path("meetings/<int:pk>/recap/actions/", views.action_item_add, name="action_item_add"),
    path(
        "meetings/<int:pk>/recap/actions/<int:item_pk>/",
        views.action_item_edit,
        name="action_item_edit",
    ),
    path(
        "meetings/<int:pk>/recap/actions/<int:item_pk>/remove/",
        views.action_item_remove,
        name="action_item_remove",
    ),
    path("meetings/<int:pk>/recap/publish/", views.recap_publish, name="recap_publish"),
    path("meetings/<int:pk>/acknowledge/", views.recap_acknowledge, name="acknowledge"),
    path("series/", include("meetings.series_urls")),
    # Action items across meetings.
    path("action-items/", views.action_items, name="action_items"),
    path(
        "action-items/<int:item_pk>/status/",
        views.action_item_status,
        name="action_item_status",
    ),
]
