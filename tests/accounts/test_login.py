from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def person(db):
    return UserFactory(email="asha@example.com")


def log_in(client, email: str, password: str = PASSWORD):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def test_login_with_email_in_any_case_lands_on_home(client, person):
    response = log_in(client, "ASHA@Example.COM")
    assert response.status_code == 302
    assert response.url == reverse("meetings:home")
    assert client.session["_auth_user_id"] == str(person.pk)
    assert "Welcome back" in client.get(response.url).content.decode()


def test_wrong_password_shows_a_message_and_logs_nobody_in(client, person):
    response = log_in(client, "asha@example.com", "wrong")
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_follows_a_safe_next_but_not_an_external_one(client, person):
    url = reverse("accounts:login")
    data = {"username": person.email, "password": PASSWORD}
    response = client.post(url, {**data, "next": reverse("accounts:profile")})
    assert response.url == reverse("accounts:profile")
    client.logout()
    response = client.post(url, {**data, "next": "https://evil.example/"})
    assert response.url == reverse("meetings:home")


def test_logout_is_a_post_and_ends_the_session(client, person):
    client.force_login(person)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert "_auth_user_id" not in client.session
    assert "You are logged out" in client.get(response.url).content.decode()


@pytest.mark.parametrize(
    "name",
    ["accounts:profile", "accounts:team", "accounts:team_settings", "meetings:home"],
)
def test_pages_redirect_anonymous_visitors_to_login(client, db, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("accounts:switch_team", []),
        ("accounts:invite", []),
        ("accounts:regenerate_calendar_token", []),
        ("accounts:member_role", [1]),
        ("accounts:member_remove", [1]),
        ("accounts:invitation_revoke", [1]),
    ],
)
def test_actions_redirect_anonymous_posts_to_login(client, db, name, args):
    response = client.post(reverse(name, args=args))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_logged_in_user_visiting_login_goes_home(client, person):
    client.force_login(person)
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 302
    assert response.url == reverse("meetings:home")


def test_failed_logins_lock_out_then_cool_off(client, person, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    for _ in range(3):
        log_in(client, person.email, "wrong")
    # Locked: even the right password is refused, with the lock-out page.
    response = log_in(client, person.email)
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "paused for 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The cool-off is finite: once the attempts are older than it, login works again.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )
    response = log_in(client, person.email)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(person.pk)


def test_lockout_is_per_address_so_others_can_still_log_in(client, person, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 2
    other = UserFactory(email="bo@example.com")
    for _ in range(2):
        log_in(client, person.email, "wrong")
    response = log_in(client, other.email)
    assert response.status_code == 302
