from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Membership
from tests.accounts.conftest import HTMX
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def membership(user, team) -> Membership:
    return Membership.objects.get(user=user, team=team)


def role_url(m: Membership) -> str:
    return reverse("accounts:member_role", args=[m.pk])


def remove_url(m: Membership) -> str:
    return reverse("accounts:member_remove", args=[m.pk])


# --- members page ------------------------------------------------------------------


def test_members_page_lists_everyone_with_their_role(member_client, team, member, team_admin):
    body = member_client.get(reverse("accounts:team")).content.decode()
    assert team.name in body
    assert member.email in body and team_admin.email in body
    assert "Admin" in body
    # A plain member sees roles but no controls.
    assert "Change role" not in body and "Send invitation" not in body


def test_admins_see_the_controls(admin_client):
    body = admin_client.get(reverse("accounts:team")).content.decode()
    assert "Change role" in body and "Send invitation" in body


def test_user_without_a_team_is_told_how_to_join_and_has_no_policy_page(client, db):
    client.force_login(UserFactory())
    response = client.get(reverse("accounts:team"))
    assert response.status_code == 200
    assert "not a member of any team" in response.content.decode()
    assert client.get(reverse("accounts:team_settings")).status_code == 404


def _add_members(team, n):
    for _ in range(n):
        MembershipFactory(team=team)


def test_members_page_query_count_does_not_grow_with_members(
    admin_client, team, django_assert_num_queries
):
    _add_members(team, 9)  # 10 members with the admin
    # session, user, my memberships, the members, open invitations
    with django_assert_num_queries(5) as small:
        admin_client.get(reverse("accounts:team"))
    _add_members(team, 90)  # 100
    with django_assert_num_queries(5) as big:
        response = admin_client.get(reverse("accounts:team"))
    assert len(small.captured_queries) == len(big.captured_queries)
    assert response.content.decode().count('<tr id="member-') == 100


# --- role changes --------------------------------------------------------------------


def test_admin_changes_a_role_with_a_full_page_post(admin_client, team, member):
    m = membership(member, team)
    response = admin_client.post(role_url(m), {"role": "admin"})
    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:team')}#member-{m.pk}"
    m.refresh_from_db()
    assert m.role == "admin"
    page = admin_client.get(response.url).content.decode()
    assert "is now Admin" in page


def test_admin_changes_a_role_in_place_with_htmx(admin_client, team, member):
    m = membership(member, team)
    response = admin_client.post(role_url(m), {"role": "admin"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="member-{m.pk}">')
    assert '<option value="admin" selected>' in body
    assert 'hx-swap-oob="true"' in body and "is now Admin" in body
    assert "<html" not in body
    m.refresh_from_db()
    assert m.role == "admin"


def test_a_member_cannot_change_roles(member_client, team, team_admin):
    m = membership(team_admin, team)
    assert member_client.post(role_url(m), {"role": "member"}).status_code == 403
    m.refresh_from_db()
    assert m.role == "admin"


def test_another_teams_membership_answers_404(admin_client):
    foreign = MembershipFactory(team=TeamFactory())
    assert admin_client.post(role_url(foreign), {"role": "admin"}).status_code == 404
    assert admin_client.post(remove_url(foreign)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == "member"


def test_an_admin_cannot_touch_an_owner_or_make_one(admin_client, team, owner, member):
    owner_m = membership(owner, team)
    response = admin_client.post(role_url(owner_m), {"role": "member"}, **HTMX)
    assert "Only an owner" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    admin_client.post(role_url(membership(member, team)), {"role": "owner"})
    assert membership(member, team).role == "member"
    owner_m.refresh_from_db()
    assert owner_m.role == "owner"


def test_the_last_owner_cannot_step_down_or_be_removed(owner_client, team, owner):
    m = membership(owner, team)
    response = owner_client.post(role_url(m), {"role": "member"}, follow=True)
    assert "at least one owner" in response.content.decode()
    response = owner_client.post(remove_url(m), follow=True)
    assert "at least one owner" in response.content.decode()
    m.refresh_from_db()
    assert m.role == "owner"


def test_an_owner_can_step_down_once_there_is_another(owner_client, team, owner, member):
    owner_client.post(role_url(membership(member, team)), {"role": "owner"})
    owner_client.post(role_url(membership(owner, team)), {"role": "admin"})
    assert membership(owner, team).role == "admin"
    assert membership(member, team).role == "owner"


def test_a_bad_role_value_is_refused_without_change(admin_client, team, member):
    m = membership(member, team)
    response = admin_client.post(role_url(m), {"role": "emperor"}, follow=True)
    assert "Pick a role" in response.content.decode()
    m.refresh_from_db()
    assert m.role == "member"


# --- removal -----------------------------------------------------------------------


def test_admin_removes_a_member_with_a_full_page_post(admin_client, team, member):
    response = admin_client.post(remove_url(membership(member, team)), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:team")
    assert "was removed" in response.content.decode()
    assert not Membership.objects.filter(user=member, team=team).exists()


def test_admin_removes_a_member_in_place_with_htmx(admin_client, team, member):
    response = admin_client.post(remove_url(membership(member, team)), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<tr" not in body
    assert 'hx-swap-oob="true"' in body and "was removed" in body
    # The member count in the heading follows, out of band.
    remaining = Membership.objects.filter(team=team).count()
    assert f'<span class="count" id="member-count" hx-swap-oob="true">({remaining})</span>' in body
    assert not Membership.objects.filter(user=member, team=team).exists()


def test_a_member_cannot_remove_anyone(member_client, team, team_admin):
    assert member_client.post(remove_url(membership(team_admin, team))).status_code == 403
    assert Membership.objects.filter(user=team_admin, team=team).exists()


def test_an_admin_may_leave_the_team(admin_client, team, team_admin):
    response = admin_client.post(remove_url(membership(team_admin, team)))
    assert response.status_code == 302
    assert not Membership.objects.filter(user=team_admin, team=team).exists()
    # Removed at once: the team pages are gone for them.
    assert (
        "not a member of any team" in admin_client.get(reverse("accounts:team")).content.decode()
    )
    assert admin_client.get(reverse("accounts:team_settings")).status_code == 404


def test_leaving_with_htmx_redirects_the_browser(admin_client, team, team_admin):
    response = admin_client.post(remove_url(membership(team_admin, team)), **HTMX)
    assert response["HX-Redirect"] == reverse("meetings:home")


def test_get_is_not_allowed_on_actions(admin_client, team, member):
    m = membership(member, team)
    assert admin_client.get(role_url(m)).status_code == 405
    assert admin_client.get(remove_url(m)).status_code == 405


# --- switching teams -----------------------------------------------------------------


def test_switch_team_changes_the_current_team(client, team, member):
    other = TeamFactory(name="Zeta crew")
    MembershipFactory(user=member, team=other, role="admin")
    client.force_login(member)
    page = client.get(reverse("accounts:team")).content.decode()
    assert 'name="team"' in page  # the switcher shows with two teams
    response = client.post(
        reverse("accounts:switch_team"), {"team": other.pk, "next": reverse("accounts:team")}
    )
    assert response.url == reverse("accounts:team")
    page = client.get(reverse("accounts:team")).content.decode()
    assert "<h1>Zeta crew</h1>" in page
    assert "now working in Zeta crew" in page


def test_switching_to_a_team_you_are_not_in_is_404(member_client, team):
    other = TeamFactory()
    for value in (other.pk, "abc", "", 10**30):
        response = member_client.post(reverse("accounts:switch_team"), {"team": value})
        assert response.status_code == 404
    assert "current_team_id" not in member_client.session


def test_switch_team_ignores_an_external_next(client, team, member):
    other = TeamFactory()
    MembershipFactory(user=member, team=other)
    client.force_login(member)
    response = client.post(
        reverse("accounts:switch_team"), {"team": other.pk, "next": "https://evil.example/"}
    )
    assert response.url == reverse("meetings:home")


# --- team policy -----------------------------------------------------------------------


def policy(**overrides):
    return {
        "name": "Platform",
        "agenda_lead_hours": "48",
        "recap_grace_hours": "12",
        "escalate_after_hours": "96",
        "action_reminder_lead_days": "1",
        "action_overdue_weeks": "4",
    } | overrides


def test_admin_saves_the_policy_as_durations(admin_client, team):
    response = admin_client.post(reverse("accounts:team_settings"), policy())
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Platform"
    assert team.agenda_lead_time == timedelta(hours=48)
    assert team.recap_grace == timedelta(hours=12)
    assert team.escalate_after == timedelta(hours=96)
    assert team.notify_no_agenda is False
    page = admin_client.get(response.url).content.decode()
    assert "policy of Platform is saved" in page
    assert 'value="48"' in page


def test_policy_errors_are_tied_to_their_fields(admin_client, team):
    before = (team.name, team.recap_grace, team.escalate_after)
    response = admin_client.post(
        reverse("accounts:team_settings"),
        policy(recap_grace_hours="72", escalate_after_hours="24", agenda_lead_hours="0"),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Escalation must come after" in body
    assert 'id="id_escalate_after_hours_error"' in body
    assert 'id="id_agenda_lead_hours_error"' in body
    team.refresh_from_db()
    assert (team.name, team.recap_grace, team.escalate_after) == before


def test_admin_sets_action_item_reminders(admin_client, team):
    page = admin_client.get(reverse("accounts:team_settings")).content.decode()
    assert "Remind owners of action items that are due or overdue" in page
    assert "First reminder, days before the due date" in page
    assert "Weekly reminders once overdue" in page
    response = admin_client.post(
        reverse("accounts:team_settings"),
        policy(remind_action_items="on", action_reminder_lead_days="3", action_overdue_weeks="0"),
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.remind_action_items is True
    assert (team.action_reminder_lead_days, team.action_overdue_weeks) == (3, 0)
    event = AuditEvent.objects.filter(team=team, action="team.policy_changed").latest("pk")
    assert event.changes["action_reminder_lead_days"] == [1, 3]
    assert event.changes["action_overdue_weeks"] == [4, 0]
    page = admin_client.get(response.url).content.decode()
    assert 'name="action_reminder_lead_days" value="3"' in page


def test_reminders_off_is_saved(admin_client, team):
    assert team.remind_action_items is True
    admin_client.post(reverse("accounts:team_settings"), policy())  # box left unticked
    team.refresh_from_db()
    assert team.remind_action_items is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("action_reminder_lead_days", "8"),
        ("action_reminder_lead_days", "-1"),
        ("action_reminder_lead_days", "two"),
        ("action_reminder_lead_days", ""),
        ("action_overdue_weeks", "13"),
        ("action_overdue_weeks", "-2"),
        ("action_overdue_weeks", "1e3"),
    ],
)
def test_action_reminder_bounds_are_checked(admin_client, team, field, value):
    before = (team.name, team.action_reminder_lead_days, team.action_overdue_weeks)
    response = admin_client.post(reverse("accounts:team_settings"), policy(**{field: value}))
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in response.content.decode()
    team.refresh_from_db()
    assert (team.name, team.action_reminder_lead_days, team.action_overdue_weeks) == before


def test_a_member_gets_403_on_the_policy(member_client, team):
    assert member_client.get(reverse("accounts:team_settings")).status_code == 403
    response = member_client.post(reverse("accounts:team_settings"), policy())
    assert response.status_code == 403
    team.refresh_from_db()
    assert team.name != "Platform"


def test_two_owners_cannot_both_step_down(team, owner, member):
    """Each demotion re-reads roles under lock, so the second sees it is the last owner."""
    from accounts import services

    Membership.objects.filter(user=member, team=team).update(role="owner")
    a, b = membership(owner, team), membership(member, team)
    stale_b = membership(member, team)
    services.change_role(membership=a, role="member", by=b)
    with pytest.raises(services.TeamRuleBroken):
        services.change_role(membership=stale_b, role="member", by=stale_b)
    assert Membership.objects.filter(team=team, role="owner").count() == 1


@pytest.mark.parametrize("bad_next", ["a\x00b", "meetings:home", "//evil.example/", "\\\\evil"])
def test_switch_team_falls_back_home_for_odd_next_values(client, team, member, bad_next):
    other = TeamFactory()
    MembershipFactory(user=member, team=other)
    client.force_login(member)
    response = client.post(reverse("accounts:switch_team"), {"team": other.pk, "next": bad_next})
    assert response.status_code == 302
    assert response.url == reverse("meetings:home")


def test_removing_someone_with_open_work_warns_the_admin(admin_client, team, organizer, member):
    from datetime import date

    from meetings.models import ActionItem
    from tests.factories import MeetingFactory

    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member])
    ActionItem.objects.create(
        meeting=meeting, description="Write it up", owner=organizer, due_date=date(2099, 1, 1)
    )
    response = admin_client.post(remove_url(membership(organizer, team)), follow=True)
    body = response.content.decode()
    assert "was removed" in body
    assert "1 open action item and 1 upcoming meeting they organize" in body


def test_removing_someone_without_open_work_gives_no_warning(admin_client, team, member):
    response = admin_client.post(remove_url(membership(member, team)), follow=True)
    assert "hand them to someone else" not in response.content.decode()


def test_changing_my_own_role_in_place_reloads_the_page(owner_client, team, owner, member):
    owner_client.post(role_url(membership(member, team)), {"role": "owner"})
    response = owner_client.post(role_url(membership(owner, team)), {"role": "member"}, **HTMX)
    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"
    assert membership(owner, team).role == "member"
