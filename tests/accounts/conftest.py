from __future__ import annotations

import pytest

from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def owner(team):
    user = UserFactory(time_zone="Europe/Lisbon")
    MembershipFactory(user=user, team=team, role="owner")
    return user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def admin_client(client, team_admin):
    client.force_login(team_admin)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


HTMX = {"HTTP_HX_REQUEST": "true"}


class RefusingMailer:
    """A mail backend whose SMTP server is down."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server is down")

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass
