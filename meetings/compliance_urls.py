from __future__ import annotations

from django.urls import path

from . import compliance_views

app_name = "compliance"

urlpatterns = [
    path("<slug:slug>/", compliance_views.team_compliance, name="team"),
]
