from __future__ import annotations

import hashlib
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_password_reset_mails_a_link_that_sets_a_new_password(client):
    person = UserFactory(email="kim@example.com")
    response = client.post(reverse("accounts:password_reset"), {"email": "KIM@example.com"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["kim@example.com"]
    assert message.subject == "Reset your Bookend password"
    assert message.alternatives[0].mimetype == "text/html"
    # The link is built on SITE_URL, never on the request's Host header.
    link = re.search(r"http://localhost:8000(/accounts/password-reset/\S+/)", message.body).group(
        1
    )
    assert "localhost:8000" in message.alternatives[0].content

    page = client.get(link, follow=True)
    assert b"Choose a new password" in page.content
    set_url = page.redirect_chain[-1][0]
    new = "a much better passphrase 42"
    done = client.post(set_url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert done.url == reverse("accounts:password_reset_complete")
    person.refresh_from_db()
    assert person.check_password(new)
    # The link works once.
    again = client.get(link, follow=True)
    assert b"This link does not work" in again.content


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, db):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_password_reset_pages_are_public(client, db):
    for name in ("accounts:password_reset", "accounts:password_reset_done"):
        assert client.get(reverse(name)).status_code == 200


def _request_reset(client, email: str, ip: str = "203.0.113.7"):
    response = client.post(reverse("accounts:password_reset"), {"email": email}, REMOTE_ADDR=ip)
    # Throttled or not, the visitor sees the same page: it tells nobody whether
    # the address has an account or was asked for too often.
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")


def test_password_reset_mails_one_address_at_most_its_hourly_limit(client, settings):
    settings.PASSWORD_RESETS_PER_ADDRESS = 3
    UserFactory(email="kim@example.com")
    for typed in ("kim@example.com", "KIM@example.com", " Kim@Example.com ", "kim@example.com"):
        _request_reset(client, typed, ip=f"198.51.100.{len(mail.outbox) + 1}")
    assert len(mail.outbox) == 3
    # Another address is not held back by Kim's limit.
    UserFactory(email="lee@example.com")
    _request_reset(client, "lee@example.com")
    assert [m.to for m in mail.outbox[3:]] == [["lee@example.com"]]


def test_password_reset_mails_from_one_client_at_most_its_hourly_limit(client, settings):
    settings.PASSWORD_RESETS_PER_CLIENT = 2
    for n in range(3):
        UserFactory(email=f"person{n}@example.com")
        _request_reset(client, f"person{n}@example.com")
    assert len(mail.outbox) == 2
    _request_reset(client, "person2@example.com", ip="192.0.2.99")
    assert len(mail.outbox) == 3


def test_the_limit_holds_in_a_shared_redis_cache(client, settings):
    """As docker-compose runs it (CACHE_URL=redis://...): the counters live in Redis,
    where every web process sees them."""
    base = settings.CELERY_BROKER_URL.rsplit("/", 1)[0]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"{base}/13",
            "KEY_PREFIX": "bookend-test",
        }
    }
    cache.clear()
    settings.PASSWORD_RESETS_PER_ADDRESS = 1
    UserFactory(email="kim@example.com")
    try:
        _request_reset(client, "kim@example.com")
        _request_reset(client, "kim@example.com")
        assert len(mail.outbox) == 1
        key = f"reset:address:{hashlib.sha256(b'kim@example.com').hexdigest()}"
        assert cache.get(key) == 2
    finally:
        cache.clear()
