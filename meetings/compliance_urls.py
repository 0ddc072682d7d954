from __future__ import annotations

app_name = "compliance"

urlpatterns: list = []
