from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, Membership, User
from tests.accounts.conftest import HTMX
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "violet teapot marathon"


def invite(client, email="new@example.com", role="member", **extra):
    return client.post(reverse("accounts:invite"), {"email": email, "role": role}, **extra)


def link_in(message) -> str:
    return re.search(r"http://localhost:8000(/accounts/invitation/\S+/)", message.body).group(1)


def test_admin_invites_by_email_and_the_email_carries_a_signed_link(
    admin_client, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(admin_client, "New@Example.com", "admin")
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.team == team
    assert (invitation.email, invitation.role) == ("new@example.com", "admin")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@example.com"]
    assert team.name in message.subject
    assert message.alternatives[0].mimetype == "text/html"
    check = services.check_invitation_token(link_in(message).split("/")[-2])
    assert check.invitation == invitation and check.problem == ""
    page = admin_client.get(reverse("accounts:team"))
    assert "Invitation sent to new@example.com" in page.content.decode()


def test_invite_with_htmx_returns_only_the_invitations_fragment(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(admin_client, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert '<section class="card stack" id="invitations"' in body
    assert "<html" not in body
    assert "new@example.com" in body
    assert 'hx-swap-oob="true"' in body and "Invitation sent" in body


def test_a_plain_member_cannot_invite(member_client):
    response = invite(member_client)
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_an_admin_cannot_invite_an_owner(admin_client):
    response = invite(admin_client, role="owner")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Invitation.objects.exists()


def test_inviting_a_current_member_is_refused_at_the_field(admin_client, member):
    response = invite(admin_client, member.email.upper())
    body = response.content.decode()
    assert "is already a member" in body
    assert 'id="id_email_error"' in body
    assert not Invitation.objects.exists()


def test_inviting_again_renews_the_open_invitation_and_resends(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin_client)
        invite(admin_client, role="admin")
    assert Invitation.objects.count() == 1
    assert Invitation.objects.get().role == "admin"
    assert len(mail.outbox) == 2


@pytest.fixture
def invitation(team, team_admin):
    return services.invite(
        team=team,
        email="new@example.com",
        role="member",
        invited_by=team_admin,
        now=timezone.now(),
    )


def accept_url(invitation) -> str:
    return reverse("accounts:accept_invitation", args=[services.invitation_token(invitation)])


def signup(client, url, **overrides):
    data = {
        "display_name": "Nia",
        "time_zone": "Africa/Nairobi",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    } | overrides
    return client.post(url, data)


def test_sign_up_through_the_link_creates_the_account_and_joins(client, invitation, team):
    url = accept_url(invitation)
    page = client.get(url)
    assert page.status_code == 200
    assert "Create your account" in page.content.decode()
    response = signup(client, url)
    assert response.status_code == 302
    assert response.url == reverse("meetings:home")
    user = User.objects.get(email="new@example.com")
    assert (user.display_name, user.time_zone) == ("Nia", "Africa/Nairobi")
    assert user.check_password(GOOD_PASSWORD)
    assert Membership.objects.get(user=user).team == team
    assert client.session["_auth_user_id"] == str(user.pk)
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_sign_up_with_bad_fields_shows_field_errors_and_creates_nothing(client, invitation):
    response = signup(client, accept_url(invitation), time_zone="Mars/Olympus", password2="x")
    body = response.content.decode()
    assert response.status_code == 200
    assert "not a known time zone" in body
    assert "The two passwords differ" in body
    assert 'aria-describedby="id_time_zone_helptext id_time_zone_error"' in body
    assert not User.objects.filter(email="new@example.com").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_weak_password_is_refused(client, invitation):
    response = signup(client, accept_url(invitation), password1="12345678", password2="12345678")
    assert "too common" in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


def test_logged_in_user_accepts_with_one_click(client, invitation, team):
    someone = UserFactory(email="NEW@example.com ")  # the invited address, spelled otherwise
    MembershipFactory(user=someone)  # already in another team
    client.force_login(someone)
    url = accept_url(invitation)
    assert "Accept and join" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert Membership.objects.filter(user=someone, team=team, role="member").exists()
    # The team just joined becomes the current one.
    assert client.session["current_team_id"] == team.pk


def test_an_existing_account_is_asked_to_log_in_first(client, invitation):
    UserFactory(email="new@example.com")
    url = accept_url(invitation)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert "next=" in response.url


def test_accepting_keeps_an_existing_members_higher_role(client, team, team_admin, owner):
    # Invited as a member, then made an admin by other means before accepting.
    newcomer = UserFactory(email="later-admin@example.com")
    invitation = services.invite(
        team=team, email=newcomer.email, role="member", invited_by=owner, now=timezone.now()
    )
    MembershipFactory(user=newcomer, team=team, role="admin")
    team_admin = newcomer
    client.force_login(team_admin)
    client.post(accept_url(invitation))
    assert Membership.objects.get(user=team_admin, team=team).role == "admin"


def test_a_used_link_shows_a_clear_page_and_changes_nothing(client, invitation):
    url = accept_url(invitation)
    signup(client, url)
    client.logout()
    response = signup(client, url, display_name="Impostor")
    assert response.status_code == 410
    assert "already used" in response.content.decode()
    assert User.objects.get(email="new@example.com").display_name == "Nia"


def test_a_tampered_link_shows_a_clear_page_and_changes_nothing(client, invitation):
    token = services.invitation_token(invitation)
    forged = signing.dumps({"i": invitation.pk, "e": "evil@example.com"}, salt="other")
    for bad in (token[:-2] + "xx", forged, "nonsense", token.replace(":", ":1", 1)):
        url = reverse("accounts:accept_invitation", args=[bad])
        response = signup(client, url)
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


def test_an_expired_link_shows_a_clear_page_and_changes_nothing(client, invitation, settings):
    url = accept_url(invitation)
    settings.INVITATION_MAX_AGE = timedelta(seconds=-1)
    response = signup(client, url)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


def test_a_revoked_invitation_link_stops_working(admin_client, client, invitation):
    url = accept_url(invitation)
    response = admin_client.post(reverse("accounts:invitation_revoke", args=[invitation.pk]))
    assert response.status_code == 302
    assert not Invitation.objects.exists()
    admin_client.logout()
    assert client.get(url).status_code == 400


def test_a_member_cannot_revoke_and_another_team_gets_404(member_client, invitation, outsider):
    url = reverse("accounts:invitation_revoke", args=[invitation.pk])
    assert member_client.post(url).status_code == 403
    member_client.force_login(outsider)
    assert member_client.post(url).status_code == 404
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_two_acceptances_of_one_invitation_only_one_wins(invitation):
    invited = UserFactory(email="new@example.com")
    services.accept_invitation(invitation=invitation, user=invited, now=timezone.now())
    with pytest.raises(services.TeamRuleBroken, match="already been used"):
        services.accept_invitation(invitation=invitation, user=invited, now=timezone.now())
    assert Membership.objects.filter(user=invited).count() == 1


def test_a_logged_in_stranger_is_told_whom_the_invitation_is_for_and_nothing_changes(
    client, invitation, team
):
    stranger = UserFactory(email="someone-else@example.com")
    MembershipFactory(user=stranger)  # a member of another team
    client.force_login(stranger)
    url = accept_url(invitation)
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 403
        body = response.content.decode()
        assert "This invitation is for someone else" in body
        assert "new@example.com" in body and "Nothing was changed" in body
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not Membership.objects.filter(user=stranger, team=team).exists()
    with pytest.raises(services.TeamRuleBroken, match="only that address"):
        services.accept_invitation(invitation=invitation, user=stranger, now=timezone.now())


def test_a_replayed_acceptance_changes_nothing(client, invitation, team):
    invited = UserFactory(email="new@example.com")
    client.force_login(invited)
    url = accept_url(invitation)
    assert client.post(url).status_code == 302
    Membership.objects.filter(user=invited, team=team).update(role="member")
    replay = client.post(url)
    assert replay.status_code == 410
    assert "already used" in replay.content.decode()
    assert Membership.objects.filter(user=invited, team=team).count() == 1


def test_an_expired_or_revoked_link_changes_nothing_for_a_logged_in_invitee(
    client, invitation, team, settings
):
    invited = UserFactory(email="new@example.com")
    client.force_login(invited)
    url = accept_url(invitation)
    settings.INVITATION_MAX_AGE = timedelta(seconds=-1)
    assert client.post(url).status_code == 410
    settings.INVITATION_MAX_AGE = timedelta(days=7)
    invitation.delete()
    assert client.post(url).status_code == 400
    assert not Membership.objects.filter(user=invited, team=team).exists()


# A real commit, so the email is attempted inside the request as in production.
@pytest.mark.django_db(transaction=True)
def test_when_mail_is_down_the_invitation_is_kept_and_the_admin_is_told(admin_client, settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.accounts.conftest.RefusingMailer"}}
    response = invite(admin_client, follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert "could not be sent just now" in body
    assert Invitation.objects.filter(email="new@example.com").exists()


def test_a_refused_invite_with_htmx_re_renders_the_fragment_with_the_error(admin_client):
    response = invite(admin_client, "not-an-email", **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert '<section class="card stack" id="invitations"' in body and "<html" not in body
    assert 'aria-invalid="true"' in body and 'id="id_email_error"' in body
    assert "Nobody was invited" in body
    assert not Invitation.objects.exists()


def test_revoke_with_htmx_re_renders_the_invitations(admin_client, invitation):
    url = reverse("accounts:invitation_revoke", args=[invitation.pk])
    response = admin_client.post(url, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "new@example.com is revoked" in body or "invitation to new@example.com" in body
    assert "Waiting for an answer" not in body
    assert not Invitation.objects.exists()
