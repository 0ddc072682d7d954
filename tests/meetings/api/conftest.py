from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import ApiToken


def make_token(user, *, scope: str = "read", days: int = 30) -> str:
    now = timezone.now()
    _, raw = account_services.create_api_token(
        user=user, name="Script", scope=scope, expires_at=now + timedelta(days=days), now=now
    )
    return raw


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def read_token(organizer) -> str:
    return make_token(organizer)


@pytest.fixture
def write_token(organizer) -> str:
    return make_token(organizer, scope=ApiToken.Scope.WRITE)
