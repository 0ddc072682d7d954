from __future__ import annotations

from django.urls import path

from . import calendar_views

app_name = "calendar"

urlpatterns = [
    # Secret per-user feed for calendar subscriptions: no login, the token is the key.
    path("feed/<str:token>.ics", calendar_views.feed, name="feed"),
    path("meetings/<int:pk>.ics", calendar_views.meeting_ics, name="meeting"),
]
