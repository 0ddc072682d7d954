"""Login throttling counts an address in any letter case, and a password reset lifts it."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def person(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    return UserFactory(email="asha@example.com")


def log_in(client, email: str, password: str = PASSWORD):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def test_lockout_holds_whatever_the_letter_case_of_the_address(client, person):
    for _ in range(3):
        log_in(client, "asha@example.com", "wrong")
    # Retyping the address in capitals used to get a fresh set of attempts.
    for variant in ("ASHA@example.com", "Asha@Example.COM", " asha@example.com "):
        response = log_in(client, variant)
        assert response.status_code == 429, variant
    assert "_auth_user_id" not in client.session


def test_failures_in_different_cases_add_up(client, person):
    for variant in ("asha@example.com", "ASHA@EXAMPLE.COM", "Asha@example.com"):
        log_in(client, variant, "wrong")
    assert log_in(client, "asha@example.com").status_code == 429


def test_choosing_a_new_password_by_the_emailed_link_ends_the_lockout(client, person):
    for _ in range(3):
        log_in(client, "Asha@example.com", "wrong")
    assert log_in(client, "asha@example.com").status_code == 429
    # The lock-out page's way out: reset the password through the email.
    client.post(reverse("accounts:password_reset"), {"email": "asha@example.com"})
    link = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/)", mail.outbox[-1].body)
    assert link is not None
    form_page = client.get(link.group(1), follow=True)
    set_password_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_password_url,
        {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
    )
    assert response.status_code == 302
    response = log_in(client, "asha@example.com", "a brand new passphrase")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(person.pk)
