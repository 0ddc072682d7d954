from __future__ import annotations

import os

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from accounts.checks import STATIC_COLLECTED  # noqa: E402 - needs the apps loaded

# gunicorn runs no system checks: refuse to start rather than serve an error on
# every page (static files not collected, see accounts/checks.py).
_checked = checks.run_checks(tags=[STATIC_COLLECTED], include_deployment_checks=True)
_errors = [e for e in _checked if e.is_serious()]
if _errors:
    raise ImproperlyConfigured("\n".join(f"{e.msg} {e.hint}" for e in _errors))
