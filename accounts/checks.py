"""Start-up checks: what would otherwise break every page at the first request.

With DEBUG off, static files are served from `collectstatic`'s output and its
manifest of hashed names; a file missing from it makes every page that links
it fail. Checked by `manage.py check --deploy` and at start-up by
`config/wsgi.py` (gunicorn runs no checks), with the fix in the message.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core import checks

SHOWN = 5


# A tag of its own: `collectstatic` runs the staticfiles checks first, and must
# not be stopped by the files it is about to collect.
STATIC_COLLECTED = "bookend_static_collected"


@checks.register(STATIC_COLLECTED, deploy=True)
def static_files_collected(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return []  # DEBUG: served from the source folders, nothing to collect
    missing = []
    # What collectstatic skips (dot files, editor backups) is not expected either.
    ignored = apps.get_app_config("staticfiles").ignore_patterns
    for finder in get_finders():
        for path, _storage in finder.list(ignore_patterns=ignored):
            try:
                staticfiles_storage.stored_name(path)
            except ValueError:
                missing.append(path)
    if not missing:
        return []
    shown = ", ".join(sorted(missing)[:SHOWN]) + (" …" if len(missing) > SHOWN else "")
    return [
        checks.Error(
            f"{len(missing)} static file(s) are not collected ({shown}), so pages "
            "linking them would fail.",
            hint="Run `python manage.py collectstatic --noinput` (with the same "
            "settings and STATIC_ROOT) before starting the server.",
            id="bookend.E001",
        )
    ]


# Backends that keep messages on this machine: right for `make run`, wrong in
# production, where every agenda, recap and reminder would silently go nowhere.
LOCAL_MAILERS = ("config.devmail.", "django.core.mail.backends.console.")


@checks.register(checks.Tags.mail, deploy=True)
def email_is_sent(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    backend = settings.MAILERS["default"]["BACKEND"]
    if not backend.startswith(LOCAL_MAILERS):
        return []
    return [
        checks.Warning(
            f"E-mail is not sent anywhere ({backend}): agendas, recaps and "
            "reminders would only be printed or written to var/mail/.",
            hint="Set EMAIL_URL, e.g. smtp+tls://user:password@mail.example.com:587.",
            id="bookend.W001",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def integrations_post_to_public_https_only(app_configs=None, **kwargs) -> list:
    if not getattr(settings, "INTEGRATIONS_ALLOW_LOOPBACK", False):
        return []
    return [
        checks.Warning(
            "INTEGRATIONS_ALLOW_LOOPBACK is on: webhooks and chat channels may post "
            "to http:// and to this machine's own services.",
            hint="Leave it off in production (it follows DEBUG unless set).",
            id="bookend.W002",
        )
    ]
