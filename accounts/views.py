"""Accounts pages: profile, team members and policy, invitations.

Thin function views. The current team comes from `accounts.teams` and is
re-checked against the database on every request; a member of another team
gets 404 for this team's memberships (they are looked up inside the current
team), and a plain member gets 403 for admin actions.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import services
from .forms import (
    ApiTokenForm,
    EmailLoginForm,
    InviteForm,
    PasswordResetForm,
    ProfileForm,
    RoleForm,
    SignUpForm,
    SwitchTeamForm,
    TeamPolicyForm,
)
from .http import history_page, safe_next
from .models import AuditEvent, Invitation, Membership, Role, User
from .teams import current_membership, forget_memberships, memberships_of, switch_team
from .throttle import (
    account_locked,
    count_login_failure,
    forget_login_failures,
    login_key,
    reset_allowed,
)
from .tokens import ApiToken

log = logging.getLogger(__name__)

# --- helpers -----------------------------------------------------------------------


def _membership_or_404(request: HttpRequest) -> Membership:
    """The current team's membership; a user in no team has no team pages."""
    membership = current_membership(request)
    if membership is None:
        raise Http404("You are not a member of any team.")
    return membership


def _admin_membership(request: HttpRequest) -> Membership:
    membership = _membership_or_404(request)
    if not membership.is_admin:
        raise PermissionDenied("Only team owners and admins do this.")
    return membership


def _members_of(membership: Membership):
    return (
        Membership.objects.filter(team_id=membership.team_id)
        .select_related("user")
        .order_by("user__display_name", "user__email")
    )


def _open_invitations(membership: Membership):
    return (
        Invitation.objects.filter(team_id=membership.team_id, accepted_at__isnull=True)
        .select_related("invited_by")
        .order_by("email")
    )


def _role_choices_for(me: Membership) -> list[tuple[str, str]]:
    if me.role == Role.OWNER:
        return list(Role.choices)
    return [c for c in Role.choices if c[0] != Role.OWNER]


def _invitations_context(me: Membership, invite_form: InviteForm | None = None) -> dict:
    """What the team page's invitations section (the `invitations` partial) shows."""
    return {
        "me": me,
        "invitations": list(_open_invitations(me)) if me.is_admin else [],
        "invite_form": invite_form or InviteForm(inviter=me),
    }


def _team_context(me: Membership, invite_form: InviteForm | None = None) -> dict:
    """The whole team page: members, and the invitations section."""
    members = list(_members_of(me))
    return {
        **_invitations_context(me, invite_form),
        "members": members,
        "member_total": len(members),
        "role_choices": _role_choices_for(me),
    }


def _member_row_context(me: Membership, target: Membership, error: str) -> dict:
    return {"me": me, "m": target, "role_choices": _role_choices_for(me), "row_error": error}


# --- login and logout ----------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's login with our form and template, plus a greeting."""

    template_name = "accounts/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Past the per-address cap the password is not even checked: the same page
        # as the per-IP lock-out, whether or not the address has an account.
        email = login_key(request)
        if email and account_locked(email):
            log.warning("login refused: failure cap per address reached")
            return render(request, "accounts/locked_out.html", status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        email = login_key(self.request)
        if email:
            count_login_failure(email)
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Welcome back, {form.get_user().name}.")
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        # The session is gone; the message travels in the message cookie.
        messages.info(request, "You are logged out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset, with the link built on SITE_URL like every other email link.

    Building it from the request's Host header would let a forged Host put an
    attacker's domain in front of a valid token.
    """

    form_class = PasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        if not reset_allowed(self.request, form.cleaned_data["email"]):
            # The same page as a sent link, so the limit tells nobody whether the
            # address has an account; only the email is not sent.
            log.warning("password reset throttled")
            return HttpResponseRedirect(self.get_success_url())
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choosing a new password through the emailed link also ends a login lock-out.

    The lock-out page offers the reset as the way out; whoever holds the mailbox
    has proved who they are, so the failed attempts against that address go.
    """

    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        email = login_key(self.request, {"username": form.user.email})
        axes_reset(username=email)
        forget_login_failures(email)
        return response


# --- profile -----------------------------------------------------------------------


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=user)
        if form.is_valid():
            form.save()
            messages.success(request, "Your profile is saved.")
            if request.htmx:
                # The time zone may have changed: reload so every time on the page follows.
                response = HttpResponse(status=204)
                response["HX-Refresh"] = "true"
                return response
            return redirect("accounts:profile")
        # The bound instance may hold rejected values; show the name the user really has.
        user.refresh_from_db()
        messages.error(request, "Your profile was not saved; see the marked fields.")
    else:
        form = ProfileForm(instance=user)
    return render(request, "accounts/profile.html", {"form": form, **_tokens_context(user)})


def _tokens_context(user: User, **extra) -> dict:
    return {
        "tokens": ApiToken.objects.filter(user=user, revoked_at__isnull=True),
        "token_form": ApiTokenForm(),
        "now": timezone.now(),
        **extra,
    }


def _tokens_response(request: HttpRequest, **extra) -> HttpResponse:
    """The profile page, or with htmx only its tokens block; rendered (not redirected
    to) so that a new token's secret is shown this once without being kept anywhere."""
    context = {
        "form": ProfileForm(instance=request.user),
        **_tokens_context(request.user, **extra),
    }
    template = "accounts/profile.html#tokens" if request.htmx else "accounts/profile.html"
    return render(request, template, context)


@login_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        # 200 with the form's errors, as the other forms here: htmx swaps it in.
        return _tokens_response(request, token_form=form)
    now = timezone.now()
    token, secret = services.create_api_token(
        user=request.user,
        name=form.cleaned_data["name"],
        scope=form.cleaned_data["scope"],
        expires_at=now + timedelta(days=form.cleaned_data["lifetime"]),
        now=now,
    )
    return _tokens_response(request, new_token=token, new_secret=secret)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    # Looked up among the user's own tokens: anyone else's is a 404.
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
    services.revoke_api_token(token=token, now=timezone.now())
    if request.htmx:
        return _tokens_response(request)
    messages.success(request, f"The token “{token.name}” no longer works.")
    return redirect(reverse("accounts:profile") + "#tokens")


@login_required
@require_POST
def regenerate_calendar_token(request: HttpRequest) -> HttpResponse:
    request.user.regenerate_calendar_token()
    messages.success(
        request,
        "Your calendar feed has a new secret address; the old one stopped working. "
        "Subscribe again with the new one.",
    )
    return redirect(reverse("accounts:profile") + "#calendar")


# --- team --------------------------------------------------------------------------


@login_required
def team(request: HttpRequest) -> HttpResponse:
    me = current_membership(request)
    if me is None:
        # Removed from every team (or never joined): say so instead of a bare 404.
        return render(request, "accounts/no_team.html")
    return render(request, "accounts/team.html", _team_context(me))


@login_required
def team_history(request: HttpRequest) -> HttpResponse:
    """Every change to the team and its meetings, for its admins."""
    me = _admin_membership(request)
    events = AuditEvent.objects.filter(team_id=me.team_id)
    return render(
        request, "accounts/team_history.html", {"me": me, **history_page(request, events)}
    )


@login_required
def team_settings(request: HttpRequest) -> HttpResponse:
    me = _admin_membership(request)
    team_obj = me.team
    if request.method == "POST":
        form = TeamPolicyForm.for_team(team_obj, request.POST)
        if form.is_valid():
            team_obj = services.update_team_policy(
                team=team_obj, changes=form.policy(), by=request.user, now=timezone.now()
            )
            messages.success(request, f"The policy of {team_obj.name} is saved.")
            return redirect("accounts:team_settings")
        messages.error(request, "The policy was not saved; see the marked fields.")
    else:
        form = TeamPolicyForm.for_team(team_obj)
    return render(request, "accounts/team_settings.html", {"form": form, "me": me})


@login_required
@require_POST
def switch_team_view(request: HttpRequest) -> HttpResponse:
    form = SwitchTeamForm(request.POST)
    if not form.is_valid():
        raise Http404("No such team.")
    membership = switch_team(request, form.cleaned_data["team"])
    if membership is None:
        raise Http404("No such team.")
    messages.success(request, f"You are now working in {membership.team.name}.")
    return HttpResponseRedirect(safe_next(request, reverse("meetings:home")))


@login_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    me = _admin_membership(request)
    form = InviteForm(request.POST, inviter=me)
    if form.is_valid():
        try:
            invitation = services.invite(
                team=me.team,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                now=timezone.now(),
            )
        except services.TeamRuleBroken as error:
            form.add_error("email", error)
        else:
            if getattr(invitation, "mail_failed", False):
                messages.warning(
                    request,
                    f"The invitation to {invitation.email} is saved, but the email could not "
                    "be sent just now. Invite the same address again in a minute to resend.",
                )
            else:
                messages.success(
                    request,
                    f"Invitation sent to {invitation.email} as {invitation.get_role_display()}.",
                )
            if request.htmx:
                return render(request, "accounts/team.html#invitations", _invitations_context(me))
            return redirect(reverse("accounts:team") + "#invitations")
    messages.error(request, "Nobody was invited; see the marked field.")
    if request.htmx:
        return render(request, "accounts/team.html#invitations", _invitations_context(me, form))
    return render(request, "accounts/team.html", _team_context(me, form))


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    me = _membership_or_404(request)
    invitation = get_object_or_404(
        Invitation.objects.filter(team_id=me.team_id, accepted_at__isnull=True), pk=pk
    )
    if not me.is_admin:
        raise PermissionDenied("Only team owners and admins revoke invitations.")
    services.revoke_invitation(invitation=invitation, by=request.user)
    messages.success(request, f"The invitation to {invitation.email} is revoked.")
    if request.htmx:
        return render(request, "accounts/team.html#invitations", _invitations_context(me))
    return redirect(reverse("accounts:team") + "#invitations")


def _managed_membership(request: HttpRequest, pk: int) -> tuple[Membership, Membership]:
    """(me, target): target looked up inside my current team, so others' rows are 404."""
    me = _membership_or_404(request)
    target = get_object_or_404(
        Membership.objects.filter(team_id=me.team_id).select_related("user", "team"), pk=pk
    )
    if not me.is_admin:
        raise PermissionDenied("Only team owners and admins manage members.")
    return me, target


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    me, target = _managed_membership(request, pk)
    form = RoleForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.change_role(membership=target, role=form.cleaned_data["role"], by=me)
        except services.TeamRuleBroken as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"{target.user.name} is now {target.get_role_display()}.")
    else:
        error = "Pick a role: owner, admin or member."
    if error:
        messages.error(request, error)
    if request.htmx and target.pk == me.pk and not error:
        # My own role changed: every control on the page may differ now.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    if request.htmx:
        target.refresh_from_db(fields=["role"])
        context = _member_row_context(me, target, error)
        return render(request, "accounts/team.html#member_row", context)
    return redirect(reverse("accounts:team") + f"#member-{target.pk}")


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    me, target = _managed_membership(request, pk)
    leaving = target.pk == me.pk
    try:
        services.remove_member(membership=target, by=me)
    except services.TeamRuleBroken as exc:
        messages.error(request, " ".join(exc.messages))
        if request.htmx:
            context = _member_row_context(me, target, " ".join(exc.messages))
            return render(request, "accounts/team.html#member_row", context)
        return redirect(reverse("accounts:team") + f"#member-{target.pk}")
    if leaving:
        messages.success(request, f"You left {target.team.name}.")
        response = HttpResponse(status=204)
        if request.htmx:
            response["HX-Redirect"] = reverse("meetings:home")
            return response
        return redirect("meetings:home")
    messages.success(request, f"{target.user.name} was removed from {target.team.name}.")
    left_behind = services.loose_ends(user=target.user, team=target.team, now=timezone.now())
    if left_behind:
        messages.warning(request, left_behind)
    if request.htmx:
        # The row disappears (empty swap); the flash message comes out of band.
        total = Membership.objects.filter(team_id=me.team_id).count()
        return render(
            request, "accounts/team.html#member_removed", {"me": me, "member_total": total}
        )
    return redirect("accounts:team")


# --- invitation acceptance ---------------------------------------------------------


def _invitation_used(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    """The invitation was taken between showing the page and posting it."""
    return render(
        request,
        "accounts/invitation_invalid.html",
        {"problem": "used", "invitation": invitation},
        status=410,
    )


@login_not_required
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    check = services.check_invitation_token(token)
    if check.problem:
        status = 400 if check.problem == "invalid" else 410
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"problem": check.problem, "invitation": check.invitation},
            status=status,
        )
    invitation = check.invitation
    now = timezone.now()

    if request.user.is_authenticated:
        if not invitation.is_for(request.user):
            # Somebody else's invitation: say whom it is for, change nothing.
            return render(
                request, "accounts/invitation_not_yours.html", {"invitation": invitation},
                status=403,
            )  # fmt: skip
        already = any(m.team_id == invitation.team_id for m in memberships_of(request))
        if request.method == "POST":
            try:
                membership = services.accept_invitation(
                    invitation=invitation, user=request.user, now=now
                )
            except services.TeamRuleBroken:
                return _invitation_used(request, invitation)
            forget_memberships(request)  # re-read: the user just joined
            switch_team(request, membership.team_id)
            messages.success(request, f"Welcome to {membership.team.name}.")
            return redirect("meetings:home")
        return render(
            request,
            "accounts/invitation_accept.html",
            {"invitation": invitation, "already_member": already},
        )

    if User.objects.filter(email=invitation.email).exists():
        # The invited address has an account: log in first, then come back here.
        return redirect_to_login(request.get_full_path(), reverse("accounts:login"))

    if request.method == "POST":
        form = SignUpForm(request.POST, email=invitation.email)
        if form.is_valid():
            try:
                membership = services.sign_up_with_invitation(
                    invitation=invitation,
                    display_name=form.cleaned_data["display_name"],
                    password=form.cleaned_data["password1"],
                    time_zone=form.cleaned_data["time_zone"],
                    now=now,
                )
            except services.TeamRuleBroken:
                return _invitation_used(request, invitation)
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            switch_team(request, membership.team_id)
            messages.success(request, f"Welcome to Bookend and to {membership.team.name}.")
            return redirect("meetings:home")
        messages.error(request, "Your account was not created; see the marked fields.")
    else:
        form = SignUpForm(email=invitation.email)
    return render(
        request, "accounts/invitation_signup.html", {"invitation": invitation, "form": form}
    )
