from __future__ import annotations

app_name = "calendar"

urlpatterns: list = []
