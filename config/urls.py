from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from meetings.api import api, page_not_found


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("", include("meetings.urls")),
]

# Under /api/v1/ a path no operation matches answers in the API's JSON error shape.
handler404 = page_not_found
