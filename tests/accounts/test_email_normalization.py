"""One normalization of an e-mail address, for storage, log-in, lock-out and reset
limits: no spelling of a mailbox gets attempts, resets or an account of its own."""

from __future__ import annotations

import importlib

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User, normalize_email
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"

# Each confusable class of issue 12, spelled for the mailbox asha.kim@example.com.
SPELLINGS = {
    "long s (U+017F)": "aſha.kim@example.com",
    "Kelvin sign (U+212A)": "asha.\u212aim@example.com",
    "full-width letters": "ａｓｈａ.kim@ｅｘａｍｐｌｅ.com",
    "trailing dot": "asha.kim@example.com.",
    "mixed case": "Asha.KIM@Example.COM",
    "surrounding spaces": "  asha.kim@example.com ",
}


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_every_spelling_of_a_mailbox_normalizes_to_one_string(spelling):
    assert normalize_email(spelling) == "asha.kim@example.com"


def test_dotless_i_stays_a_different_address_instead_of_reaching_another_account():
    # PostgreSQL's UPPER('ı') is 'I': a case-insensitive lookup found asha's
    # account for "aıha"; the exact normalized lookup does not.
    assert normalize_email("aıha@example.com") != "aiha@example.com"


@pytest.fixture
def asha(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    return UserFactory(email="asha.kim@example.com")


def log_in(client, email: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=ip
    )


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_lockout_holds_for_every_spelling(client, asha, spelling):
    for _ in range(3):
        log_in(client, "asha.kim@example.com", "wrong")
    response = log_in(client, spelling)  # the right password
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_failures_under_every_spelling_count_against_one_address(client, asha, spelling):
    for _ in range(3):
        log_in(client, spelling, "wrong")
    assert log_in(client, "asha.kim@example.com").status_code == 429


def test_a_dotless_i_spelling_neither_logs_in_nor_lifts_the_lockout(client, asha):
    person = UserFactory(email="aiha@example.com")
    for _ in range(3):
        log_in(client, "aiha@example.com", "wrong")
    response = log_in(client, "aıha@example.com")
    assert response.status_code != 302 and "_auth_user_id" not in client.session
    assert log_in(client, "aiha@example.com").status_code == 429
    assert person.pk  # the account exists; it was simply not reached


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_reset_limit_holds_for_every_spelling(client, asha, settings, spelling):
    settings.PASSWORD_RESETS_PER_ADDRESS = 2
    for _ in range(2):
        client.post(reverse("accounts:password_reset"), {"email": "asha.kim@example.com"})
    assert len(mail.outbox) == 2
    response = client.post(reverse("accounts:password_reset"), {"email": spelling})
    assert response.status_code == 302  # the same page: the limit says nothing
    assert len(mail.outbox) == 2


def test_accounts_are_stored_and_found_in_the_normalized_form():
    user = User.objects.create_user("  ＡＳＨＡ@Example.COM. ", PASSWORD)
    assert user.email == "asha@example.com"
    assert User.objects.get_by_natural_key("aſha@EXAMPLE.com") == user


def test_per_account_cap_holds_across_client_ips_and_says_nothing_about_the_address(
    client, settings
):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURES_PER_ACCOUNT = 8
    asha = UserFactory(email="asha@example.com")
    for address in ("asha@example.com", "nobody@example.com"):
        # Four tries from each of two IPs: below the per-IP lock-out every time.
        for ip in ("10.0.0.1", "10.0.0.2"):
            for _ in range(4):
                assert log_in(client, address, "wrong", ip=ip).status_code == 200
        # The right password, from yet another IP, is not even checked now.
        response = log_in(client, address, PASSWORD if address == asha.email else "x", "10.0.0.9")
        assert response.status_code == 429
        assert b"Too many failed log-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_the_emailed_reset_link_lifts_the_per_account_cap(client, settings):
    import re

    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    asha = UserFactory(email="asha@example.com")
    for n in range(3):
        log_in(client, "asha@example.com", "wrong", ip=f"10.0.1.{n}")
    assert log_in(client, "asha@example.com").status_code == 429
    client.post(reverse("accounts:password_reset"), {"email": "asha@example.com"})
    link = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/)", mail.outbox[-1].body)
    page = client.get(link.group(1), follow=True)
    new = "a brand new passphrase"
    client.post(page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert log_in(client, "asha@example.com", new).status_code == 302
    assert client.session["_auth_user_id"] == str(asha.pk)


def _migration():
    return importlib.import_module("accounts.migrations.0002_normalize_emails")


def test_the_migration_normalizes_stored_addresses():
    from django.apps import apps

    person = UserFactory(email="asha@example.com")
    User.objects.filter(pk=person.pk).update(email="Aſha@Example.COM.")
    _migration().normalize(apps, None)
    person.refresh_from_db()
    assert person.email == "asha@example.com"


def test_the_migration_refuses_to_merge_two_accounts_and_names_them():
    from django.apps import apps

    first, second = UserFactory(email="kim@example.com"), UserFactory(email="kim2@example.com")
    User.objects.filter(pk=second.pk).update(email="KIM@example.com")
    with pytest.raises(RuntimeError, match="kim@example.com and KIM@example.com"):
        _migration().normalize(apps, None)
    second.refresh_from_db()
    assert second.email == "KIM@example.com" and first.email == "kim@example.com"
