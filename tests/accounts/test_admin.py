from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["user", "team", "membership", "invitation"])
def test_admin_lists_and_edit_pages_work(client, team, team_admin, member, model):
    staff = UserFactory(is_staff=True, is_superuser=True)
    invitation = services.invite(
        team=team, email="i@example.com", role="member", invited_by=team_admin, now=timezone.now()
    )
    client.force_login(staff)
    assert client.get(reverse(f"admin:accounts_{model}_changelist")).status_code == 200
    obj = {
        "user": member,
        "team": team,
        "membership": member.memberships.get(),
        "invitation": invitation,
    }[model]
    assert client.get(reverse(f"admin:accounts_{model}_change", args=[obj.pk])).status_code == 200
