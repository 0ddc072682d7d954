from __future__ import annotations

from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the Celery tasks in every process, not only in the worker: the
        # outbox and the services enqueue them by name (celery's registry), so
        # that the modules below meetings.tasks never import it.
        from . import tasks  # noqa: F401
