from __future__ import annotations

app_name = "email"

urlpatterns: list = []
