"""Script and markup typed into accounts fields shows as text, never runs."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Team
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1)) **<b>nested</b>**",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_names_render_escaped_on_accounts_pages(client, payload):
    team = Team.objects.create(name=payload, slug="hostile")
    owner = UserFactory(display_name=payload)
    MembershipFactory(user=owner, team=team, role="owner")
    MembershipFactory(user=UserFactory(display_name=payload), team=team)
    MembershipFactory(user=owner)  # a second team, so the switcher shows the name too
    client.force_login(owner)
    client.post(reverse("accounts:switch_team"), {"team": team.pk})
    for name in ("accounts:team", "accounts:team_settings", "accounts:profile"):
        body = client.get(reverse(name)).content.decode()
        assert payload not in body, name
        assert "<script>alert" not in body
        assert "&lt;" in body


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_team_and_inviter_names_are_escaped_on_the_invitation_page(client, payload):
    team = Team.objects.create(name=payload, slug="hostile")
    inviter = UserFactory(display_name=payload)
    MembershipFactory(user=inviter, team=team, role="owner")
    invitation = services.invite(
        team=team, email="x@example.com", role="member", invited_by=inviter, now=timezone.now()
    )
    url = reverse("accounts:accept_invitation", args=[services.invitation_token(invitation)])
    body = client.get(url).content.decode()
    assert payload not in body
    assert "&lt;" in body


def test_pages_allow_no_inline_script_by_policy(member_client):
    response = member_client.get(reverse("accounts:team"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy
