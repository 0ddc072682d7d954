from __future__ import annotations

import re

import pytest
from django.core import mail
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
