"""Team membership writes: invitations, role changes, removals.

Each service takes keyword-only arguments and `now=` where time matters, runs in
one transaction and returns what it changed. A refused change raises
`TeamRuleBroken` with a message worded for the person who clicked, and writes
nothing. Views decide *who may ask* (admins only, 403 otherwise); these
functions decide *what is allowed* (owners stay, only owners touch owners).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from . import audit
from .mail import make_message, site_url
from .models import Invitation, Membership, Role, Team, User, normalize_email
from .tokens import ApiToken

INVITATION_SALT = "bookend.accounts.invitation"
logger = logging.getLogger(__name__)


class TeamRuleBroken(ValidationError):
    """A membership rule refused the change; nothing was written."""


# --- invitations -----------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    """A signed, timestamped token naming the invitation and the address it went to."""
    return signing.dumps({"i": invitation.pk, "e": invitation.email}, salt=INVITATION_SALT)


def invitation_url(invitation: Invitation) -> str:
    return site_url(reverse("accounts:accept_invitation", args=[invitation_token(invitation)]))


@dataclass(frozen=True)
class InvitationCheck:
    """What a clicked invitation link turned out to be."""

    invitation: Invitation | None
    problem: str = ""  # "", "invalid", "expired", "used"


def check_invitation_token(token: str) -> InvitationCheck:
    """Read a link's token: tampered, expired, used or revoked links name their problem."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE)
    except signing.SignatureExpired:
        return InvitationCheck(None, "expired")
    except signing.BadSignature:
        return InvitationCheck(None, "invalid")
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        return InvitationCheck(None, "invalid")
    invitation = (
        Invitation.objects.select_related("team", "invited_by")
        .filter(pk=data["i"], email=data.get("e"))
        .first()
    )
    if invitation is None:
        # Revoked (deleted) invitations end up here too.
        return InvitationCheck(None, "invalid")
    if invitation.accepted_at is not None:
        return InvitationCheck(invitation, "used")
    return InvitationCheck(invitation)


def _send_invitation_email(invitation: Invitation) -> None:
    context = {
        "invitation": invitation,
        "team": invitation.team,
        "inviter": invitation.invited_by,
        "url": invitation_url(invitation),
        "max_age_days": settings.INVITATION_MAX_AGE.days,
    }
    try:
        make_message("invitation", context, to=[invitation.email]).send()
    except (OSError, smtplib.SMTPException) as exc:
        # The invitation is saved; re-inviting resends. Tell the admin instead of a 500.
        logger.warning("Invitation %s to %s not mailed: %s", invitation.pk, invitation.email, exc)
        invitation.mail_failed = True
    else:
        invitation.mail_failed = False


@transaction.atomic
def invite(*, team: Team, email: str, role: str, invited_by: User, now: datetime) -> Invitation:
    """Invite `email` to `team`, or renew and resend an open invitation to that address.

    The email goes out after commit, so a rolled-back invitation never mails a
    link that would not work.
    """
    email = normalize_email(email)
    if role not in Role.values:
        raise TeamRuleBroken("Pick a role: owner, admin or member.")
    inviter = Membership.objects.filter(team=team, user=invited_by).first()
    if inviter is None or not inviter.is_admin:
        raise TeamRuleBroken("Only team owners and admins invite people.")
    if role == Role.OWNER and inviter.role != Role.OWNER:
        raise TeamRuleBroken("Only an owner can invite another owner.")
    if Membership.objects.filter(team=team, user__email=email).exists():
        raise TeamRuleBroken(f"{email} is already a member of {team}.")
    # Lock any open invitation for this address, so two admins clicking at once
    # renew one row instead of racing into the unique constraint.
    invitation = (
        Invitation.objects.select_for_update()
        .filter(team=team, email=email, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        invitation = Invitation(team=team, email=email)
    invitation.role = role
    invitation.invited_by = invited_by
    invitation.created_at = now
    invitation.full_clean(validate_constraints=False)
    invitation.save()
    audit.record(
        team=team, actor=invited_by, action="member.invited",
        summary=f"Invited {email} as {role}", now=now, subject=invitation,
        changed={"invitation": [None, email], "role": [None, role]},
    )  # fmt: skip
    transaction.on_commit(lambda: _send_invitation_email(invitation))
    return invitation


@transaction.atomic
def revoke_invitation(
    *, invitation: Invitation, by: User | None = None, now: datetime | None = None
) -> None:
    """Delete an open invitation: its link then reads as no longer valid."""
    deleted, _ = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).delete()
    if deleted:
        audit.record(
            team=invitation.team_id, actor=by, action="member.invitation_revoked",
            summary=f"Revoked the invitation of {invitation.email}",
            now=now or timezone.now(), changed={"invitation": [invitation.email, None]},
        )  # fmt: skip


@transaction.atomic
def accept_invitation(*, invitation: Invitation, user: User, now: datetime) -> Membership:
    """Add `user` to the invitation's team and mark the invitation used.

    The conditional update claims the invitation: of two clicks at once only one
    gets the row, the other is told the link was already used. A user who is
    already a member keeps their role (an invitation never demotes anyone).
    """
    if not invitation.is_for(user):
        raise TeamRuleBroken(
            f"This invitation was sent to {invitation.email}; only that address's account "
            "can accept it."
        )
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        accepted_at=now
    )
    if not claimed:
        raise TeamRuleBroken("This invitation has already been used.")
    membership, created = Membership.objects.get_or_create(
        team=invitation.team,
        user=user,
        defaults={"role": invitation.role, "joined_at": now},
    )
    if created:
        audit.record(
            team=invitation.team_id, actor=user, action="member.joined",
            summary=f"{user.name} joined as {membership.role}", now=now, subject=membership,
            changed={"member": [None, user.email], "role": [None, membership.role]},
        )  # fmt: skip
    return membership


@transaction.atomic
def sign_up_with_invitation(
    *,
    invitation: Invitation,
    display_name: str,
    password: str,
    time_zone: str,
    now: datetime,
) -> Membership:
    """Create the account for the invited address and join the team, all or nothing."""
    if User.objects.filter(email=invitation.email).exists():
        raise TeamRuleBroken("An account with this address exists already; log in to accept.")
    user = User.objects.create_user(
        invitation.email,
        password,
        display_name=display_name,
        time_zone=time_zone,
        date_joined=now,
    )
    return accept_invitation(invitation=invitation, user=user, now=now)


# --- roles and removal -------------------------------------------------------------


def _check_may_manage(*, target: Membership, by: Membership) -> None:
    if by.team_id != target.team_id or not by.is_admin:
        raise TeamRuleBroken("Only team owners and admins manage members.")
    if target.role == Role.OWNER and by.role != Role.OWNER:
        raise TeamRuleBroken("Only an owner can change or remove another owner.")


def _relock(membership: Membership) -> None:
    """Re-read the target's role under a row lock: the page it came from may be stale."""
    current = Membership.objects.select_for_update().filter(pk=membership.pk).first()
    if current is None:
        raise TeamRuleBroken("This person is no longer a member of the team.")
    membership.role = current.role


def _owners_left_after(target: Membership) -> int:
    # Lock the team's owner rows so two admins demoting the last two owners at
    # once cannot both see "another owner remains".
    owners = list(
        Membership.objects.select_for_update()
        .filter(team_id=target.team_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    return len([pk for pk in owners if pk != target.pk])


POLICY_FIELDS = (
    "name", "agenda_lead_time", "recap_grace", "escalate_after", "notify_no_agenda",
    "remind_action_items", "action_reminder_lead_days", "action_overdue_weeks",
)  # fmt: skip


@transaction.atomic
def update_team_policy(*, team: Team, changes: dict, by: User, now: datetime) -> Team:
    """Set the team's name and reminder policy (`changes`: field -> value)."""
    if unknown := set(changes) - set(POLICY_FIELDS):
        raise ValueError(f"Not team policy: {sorted(unknown)}")  # would escape the audit
    team = Team.objects.select_for_update().get(pk=team.pk)
    before = audit.snapshot(team, POLICY_FIELDS)
    for name, value in changes.items():
        setattr(team, name, value)
    team.full_clean()
    team.save(update_fields=list(changes))
    changed = audit.changes(before, audit.snapshot(team, POLICY_FIELDS))
    if changed:
        audit.record(team=team, actor=by, action="team.policy_changed",
                     summary="Changed the team's policy", now=now, subject=team,
                     changed=changed)  # fmt: skip
    return team


@transaction.atomic
def change_role(
    *, membership: Membership, role: str, by: Membership, now: datetime | None = None
) -> Membership:
    if role not in Role.values:
        raise TeamRuleBroken("Pick a role: owner, admin or member.")
    _relock(membership)
    _check_may_manage(target=membership, by=by)
    if role == Role.OWNER and by.role != Role.OWNER:
        raise TeamRuleBroken("Only an owner can make someone an owner.")
    if (
        membership.role == Role.OWNER
        and role != Role.OWNER
        and _owners_left_after(membership) == 0
    ):
        raise TeamRuleBroken("A team keeps at least one owner; make someone else owner first.")
    before = membership.role
    Membership.objects.filter(pk=membership.pk).update(role=role)
    membership.role = role
    if before != role:
        audit.record(
            team=membership.team_id, actor=by.user, action="member.role_changed",
            summary=f"Made {membership.user.name} {role}", now=now or timezone.now(),
            subject=membership, changed={"role": [before, role]},
        )  # fmt: skip
    return membership


def loose_ends(*, user: User, team: Team, now: datetime) -> str:
    """What a member leaves behind in the team, worded for the admin; "" when nothing.

    Removal does not reassign anything: it is the admin's call who takes over.
    """
    # Through the reverse relations the meetings app adds to User (accounts
    # imports nothing of meetings, which builds on it).
    items = user.action_items.open().filter(meeting__team=team).count()
    meetings = user.organized.upcoming(now).filter(team=team).count()
    parts = []
    if items:
        parts.append(f"{items} open action item{'s' if items != 1 else ''}")
    if meetings:
        parts.append(f"{meetings} upcoming meeting{'s' if meetings != 1 else ''} they organize")
    if not parts:
        return ""
    return f"{user.name} still has {' and '.join(parts)}; hand them to someone else."


@transaction.atomic
def remove_member(*, membership: Membership, by: Membership, now: datetime | None = None) -> None:
    _relock(membership)
    _check_may_manage(target=membership, by=by)
    if membership.role == Role.OWNER and _owners_left_after(membership) == 0:
        raise TeamRuleBroken("A team keeps at least one owner; make someone else owner first.")
    Membership.objects.filter(pk=membership.pk).delete()
    leaving = membership.user_id == by.user_id
    audit.record(
        team=membership.team_id, actor=by.user, action="member.removed",
        summary=f"{membership.user.name} left" if leaving else f"Removed {membership.user.name}",
        now=now or timezone.now(), subject=membership,
        changed={"member": [membership.user.email, None], "role": [membership.role, None]},
    )  # fmt: skip


# --- personal access tokens ----------------------------------------------------------


@transaction.atomic
def create_api_token(
    *, user: User, name: str, scope: str, expires_at: datetime, now: datetime
) -> tuple[ApiToken, str]:
    """A new token and its secret, which is returned here and never again: only its
    hash is stored."""
    prefix, raw, digest = ApiToken.generate()
    token = ApiToken(
        user=user,
        name=name,
        scope=scope,
        prefix=prefix,
        secret_hash=digest,
        created_at=now,
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    return token, raw


def revoke_api_token(*, token: ApiToken, now: datetime) -> ApiToken:
    """Stop a token at once; a second revoke keeps the first time."""
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        token.revoked_at = now
    return token
