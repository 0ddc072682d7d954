"""With DEBUG off, 403/404/500 are friendly pages that say what happened and link home."""

from __future__ import annotations

import pytest
from django.template import loader
from django.test import Client

from tests.factories import MeetingFactory


@pytest.fixture(autouse=True)
def _debug_off(settings) -> None:
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


def test_unknown_address_answers_a_friendly_404_with_a_home_link(client, member):
    client.force_login(member)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "This page does not exist" in body
    assert "/no-such-page/" in body
    assert 'href="/"' in body
    # The site's own layout, not Django's bare "Not Found".
    assert 'class="site-header"' in body


def test_another_teams_meeting_answers_the_same_friendly_404(client, outsider, meeting):
    client.force_login(outsider)
    response = client.get(f"/meetings/{meeting.pk}/")
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()


def test_404_for_an_anonymous_visitor_renders(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()


def test_forbidden_change_answers_a_friendly_403(client, member, team, organizer):
    meeting = MeetingFactory(team=team, organizer=organizer)
    client.force_login(member)
    response = client.get(f"/meetings/{meeting.pk}/edit/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "You cannot do that here" in body
    assert 'href="/"' in body
    assert 'class="site-header"' in body


def test_403_shows_the_message_the_view_gave(client, member):
    client.force_login(member)
    response = client.post("/accounts/team/invite/", {"email": "x@example.com", "role": "member"})
    assert response.status_code == 403
    assert "Only team owners and admins" in response.content.decode()


@pytest.mark.urls("tests.qa.urls_boom")
def test_a_crash_answers_the_friendly_500(db, member):
    client = Client(raise_request_exception=False)
    client.force_login(member)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body
    assert 'href="/"' in body


def test_500_page_renders_without_request_or_database():
    # Django's server_error view renders it with no request and no context
    # processors; the database may be what failed, so it must not touch it.
    # No `db` fixture here: pytest-django makes any query an error.
    body = loader.get_template("500.html").render()
    assert "Something went wrong on our side" in body


def test_500_page_renders_even_without_a_static_manifest(settings, tmp_path):
    # A deploy that forgot collectstatic fails on every {% static %}; the error
    # page must still come out instead of Django's bare plain-text fallback.
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        },
    }
    body = loader.get_template("500.html").render()
    assert 'href="/static/css/bookend.css"' in body


def test_stale_form_token_answers_the_friendly_out_of_date_page(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post("/accounts/profile/", {"display_name": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "This page was out of date" in body
    assert "Nothing was saved" in body
    # bookend.js tells this 403 apart from "no right" by this marker.
    assert 'data-reason="csrf"' in body
