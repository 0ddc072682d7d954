"""Personal access tokens on the API: hashed at rest, scoped, expiring, revocable,
and only as good as the user's active account and memberships at each request."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import ApiToken, Membership

from .conftest import bearer, make_token

pytestmark = pytest.mark.django_db
TEAMS = "/api/v1/teams/"


def test_the_secret_is_stored_only_as_a_hash(organizer):
    raw = make_token(organizer)
    token = ApiToken.objects.get()
    assert raw.startswith(f"bk_{token.prefix}_")
    assert token.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {str(v) for v in ApiToken.objects.values().get().values()}


def test_a_token_reaches_the_api_as_its_user(client, organizer, meeting, read_token):
    response = client.get(TEAMS, headers=bearer(read_token))
    assert response.status_code == 200
    assert [t["id"] for t in response.json()] == [meeting.team_id]


@pytest.mark.parametrize(
    "header",
    ["Bearer bk_nope_nope", "Bearer ", "Bearer bk_", "Basic abc", "Bearer x" * 300],
)
def test_a_wrong_token_is_401_in_the_error_shape(client, read_token, header):
    response = client.get(TEAMS, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "Unauthorized", "field": None}]}


def test_a_tampered_secret_with_a_real_prefix_is_refused(client, read_token):
    assert client.get(TEAMS, headers=bearer(read_token[:-2] + "xx")).status_code == 401


def test_an_expired_token_stops_working(client, organizer):
    raw = make_token(organizer)
    past = timezone.now() - timedelta(seconds=1)
    ApiToken.objects.update(created_at=past - timedelta(days=1), expires_at=past)
    assert client.get(TEAMS, headers=bearer(raw)).status_code == 401


def test_a_revoked_token_stops_working_at_once(client, organizer, read_token):
    assert client.get(TEAMS, headers=bearer(read_token)).status_code == 200
    account_services.revoke_api_token(token=ApiToken.objects.get(), now=timezone.now())
    assert client.get(TEAMS, headers=bearer(read_token)).status_code == 401


def test_the_token_of_a_deactivated_user_stops_working(client, organizer, read_token):
    organizer.is_active = False
    organizer.save(update_fields=["is_active"])
    assert client.get(TEAMS, headers=bearer(read_token)).status_code == 401


def test_a_removed_member_sees_nothing_of_the_team_at_once(client, organizer, meeting, read_token):
    url = f"/api/v1/meetings/{meeting.pk}/"
    assert client.get(url, headers=bearer(read_token)).status_code == 200
    Membership.objects.filter(user=organizer, team=meeting.team).delete()
    assert client.get(url, headers=bearer(read_token)).status_code == 404
    assert client.get("/api/v1/meetings/", headers=bearer(read_token)).json()["items"] == []
    assert client.get(TEAMS, headers=bearer(read_token)).json() == []


def test_a_read_token_may_not_write(client, upcoming, read_token):
    response = client.post(f"/api/v1/meetings/{upcoming.pk}/cancel/", headers=bearer(read_token))
    assert response.status_code == 403
    assert "only read" in response.json()["errors"][0]["message"]
    upcoming.refresh_from_db()
    assert upcoming.canceled_at is None


def test_a_write_token_writes(client, upcoming, write_token):
    response = client.post(f"/api/v1/meetings/{upcoming.pk}/cancel/", headers=bearer(write_token))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "canceled"


def test_last_used_is_recorded_at_most_once_per_interval(client, read_token):
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    client.get(TEAMS, headers=bearer(read_token))
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get(TEAMS, headers=bearer(read_token))
    token.refresh_from_db()
    assert token.last_used_at == first  # within LAST_USED_PRECISION: no second write
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=6))
    client.get(TEAMS, headers=bearer(read_token))
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(minutes=6)


def test_too_many_requests_answer_429_with_retry_after(client, settings, read_token, organizer):
    settings.API_REQUESTS_PER_MINUTE = 3
    for _ in range(3):
        assert client.get(TEAMS, headers=bearer(read_token)).status_code == 200
    response = client.get(TEAMS, headers=bearer(read_token))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["errors"][0]["message"] == "Too many requests."
    # The limit is per token: another token of the same user has its own.
    other = make_token(organizer)
    assert client.get(TEAMS, headers=bearer(other)).status_code == 200


def test_the_session_works_for_the_browser_with_csrf_on_writes(upcoming, organizer):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(organizer)
    assert browser.get(TEAMS).status_code == 200
    response = browser.post(f"/api/v1/meetings/{upcoming.pk}/cancel/")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "CSRF check Failed"
    browser.get(reverse("accounts:profile"))  # sets the CSRF cookie
    csrf = browser.cookies[settings.CSRF_COOKIE_NAME].value
    response = browser.post(
        f"/api/v1/meetings/{upcoming.pk}/cancel/", headers={"X-CSRFToken": csrf}
    )
    assert response.status_code == 200, response.content


def test_a_token_needs_a_name_and_a_valid_scope_in_the_database(organizer):
    now = timezone.now()
    with pytest.raises(IntegrityError):
        ApiToken.objects.create(
            user=organizer, name="x", scope="admin", prefix="p1", secret_hash="h",
            created_at=now, expires_at=now + timedelta(days=1),
        )  # fmt: skip


# -- the profile page ---------------------------------------------------------------------


def test_profile_creates_a_token_and_shows_it_once(client, organizer):
    client.force_login(organizer)
    response = client.post(
        reverse("accounts:api_token_create"),
        {"name": "Report script", "scope": "write", "lifetime": "30"},
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert (token.name, token.scope, token.user) == ("Report script", "write", organizer)
    assert timedelta(days=29) < token.expires_at - token.created_at <= timedelta(days=30)
    shown = response.content.decode()
    secret = shown.split('id="new-token" type="text" readonly value="', 1)[1].split('"', 1)[0]
    assert hashlib.sha256(secret.encode()).hexdigest() == token.secret_hash
    # Never again: the profile page shows the prefix only.
    again = client.get(reverse("accounts:profile")).content.decode()
    assert secret not in again
    assert f"bk_{token.prefix}" in again


def test_profile_creates_a_token_with_htmx_as_a_fragment(client, organizer, htmx):
    client.force_login(organizer)
    response = client.post(
        reverse("accounts:api_token_create"),
        {"name": "CI", "scope": "read", "lifetime": "7"},
        headers=htmx,
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="tokens"')
    assert 'id="new-token"' in body


def test_profile_refuses_a_token_without_a_name(client, organizer):
    client.force_login(organizer)
    response = client.post(
        reverse("accounts:api_token_create"), {"name": " ", "scope": "read", "lifetime": "7"}
    )
    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_profile_revokes_a_token(client, organizer, read_token):
    client.force_login(organizer)
    token = ApiToken.objects.get()
    response = client.post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_revokes_someone_elses_token(client, member, read_token):
    client.force_login(member)
    token = ApiToken.objects.get()
    response = client.post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
