"""Links from emails: signed tokens instead of a login (see meetings/signing.py)."""

from __future__ import annotations

from django.urls import path

from . import email_views

app_name = "email"

urlpatterns = [
    path("acknowledge/<str:token>/", email_views.acknowledge, name="acknowledge"),
    path("unsubscribe/<str:token>/", email_views.unsubscribe, name="unsubscribe"),
]
