"""Recurring meetings, mounted at /series/ from meetings/urls.py (namespace meetings:series)."""

from __future__ import annotations

from django.urls import path

from . import series_views as views

app_name = "series"

urlpatterns = [
    path("", views.series_list, name="list"),
    path("new/", views.series_create, name="create"),
    path("<int:pk>/", views.series_detail, name="detail"),
    path("<int:pk>/next/", views.series_next, name="next"),
    path("<int:pk>/end/", views.series_end, name="end"),
    path("<int:pk>/meetings/<int:meeting_pk>/edit/", views.occurrence_edit, name="edit"),
    path("<int:pk>/meetings/<int:meeting_pk>/cancel/", views.occurrence_cancel, name="cancel"),
    path("<int:pk>/template/", views.series_template_create, name="template_create"),
    path("templates/", views.template_list, name="templates"),
    path("templates/<int:pk>/", views.template_detail, name="template"),
    path("templates/<int:pk>/items/", views.template_item_add, name="template_item_add"),
    path(
        "templates/<int:pk>/items/<int:item_pk>/remove/",
        views.template_item_remove,
        name="template_item_remove",
    ),
]
