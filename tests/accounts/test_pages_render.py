from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name", ["accounts:profile", "accounts:team", "accounts:team_settings", "meetings:home"]
)
def test_admin_pages_render_with_the_navigation(owner_client, name):
    response = owner_client.get(reverse(name))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/accounts/team/"' in body
    assert reverse("meetings:action_items") in body


@pytest.mark.parametrize(
    "name", ["accounts:login", "accounts:password_reset", "accounts:password_reset_done"]
)
def test_public_pages_render_for_anonymous_visitors(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert b"Log out" not in response.content
