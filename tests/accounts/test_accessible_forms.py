"""Every field on the accounts pages has a label, and every page marks where you are."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services

pytestmark = pytest.mark.django_db


class FieldCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[dict] = []
        self.labels: set[str] = set()
        self.label_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.label_depth += 1
            if attrs.get("for"):
                self.labels.add(attrs["for"])
        if tag in {"input", "select", "textarea"} and attrs.get("type") not in {
            "hidden",
            "submit",
        }:
            self.fields.append({**attrs, "_wrapped": self.label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self.label_depth -= 1


def unlabelled(html: str) -> list[dict]:
    parser = FieldCollector()
    parser.feed(html)
    return [
        f
        for f in parser.fields
        if not f["_wrapped"] and f.get("id") not in parser.labels and not f.get("aria-label")
    ]


@pytest.mark.parametrize(
    "name",
    ["accounts:profile", "accounts:team", "accounts:team_settings"],
)
def test_every_field_has_a_label_for_admins(admin_client, name):
    html = admin_client.get(reverse(name)).content.decode()
    assert unlabelled(html) == []


@pytest.mark.parametrize("name", ["accounts:login", "accounts:password_reset"])
def test_every_field_has_a_label_on_public_pages(client, db, name):
    assert unlabelled(client.get(reverse(name)).content.decode()) == []


def test_every_field_has_a_label_on_sign_up(client, team, team_admin):
    invitation = services.invite(
        team=team, email="n@example.com", role="member", invited_by=team_admin, now=timezone.now()
    )
    url = reverse("accounts:accept_invitation", args=[services.invitation_token(invitation)])
    html = client.post(url, {"display_name": ""}).content.decode()
    assert unlabelled(html) == []
    assert 'aria-invalid="true"' in html


def test_the_nav_marks_the_current_page(admin_client):
    html = admin_client.get(reverse("accounts:team")).content.decode()
    assert 'href="/accounts/team/" aria-current="page"' in html
    assert html.count('aria-current="page"') == 1
