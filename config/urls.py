from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("healthz", healthz, name="healthz"),
    # Signed links from emails (recap acknowledgement, unsubscribe): no login needed.
    path("email/", include("meetings.email_urls")),
    # Personal calendar feeds and .ics downloads.
    path("calendar/", include("meetings.calendar_urls")),
    # Compliance figures for team admins.
    path("compliance/", include("meetings.compliance_urls")),
    path("", include("meetings.urls")),
]
