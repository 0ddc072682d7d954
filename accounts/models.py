"""People and teams. The team is the tenancy boundary of everything in Bookend."""

from __future__ import annotations

import secrets
import unicodedata
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .mail import site_url

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ALL_WEEKDAYS = 0b1111111
MONDAY_TO_FRIDAY = 0b0011111


def _offset_change(zone: zoneinfo.ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The instant between `before` and `after` where `zone`'s UTC offset changes (a
    DST change), to the second: zones change offsets on whole seconds."""
    wanted = after.astimezone(zone).utcoffset()
    lo, hi = int(before.timestamp()), int(after.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == wanted:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


@cache
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in available_time_zones():
        raise ValidationError(
            "“%(value)s” is not a known time zone; pick one such as Europe/Berlin.",
            code="unknown_time_zone",
            params={"value": value},
        )


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


def normalize_email(value: str) -> str:
    """The one form of an e-mail address that Bookend stores, looks up and counts.

    NFKC folds compatibility characters into plain ones (full-width letters, the
    Kelvin sign, the long s "ſ"), case is folded the Unicode way (casefold, then
    NFKC again, as Unicode's NFKC_Casefold), surrounding spaces go, and so does a
    trailing dot on the domain (an absolute DNS name is the same host). Every
    spelling of one mailbox becomes one string: one account, one lock-out
    counter, one reset limit. Lookups compare it exactly, never case-insensitively
    in the database, whose own case rules differ (PostgreSQL's UPPER('ı') = 'I').
    """
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    text = text.strip()
    local, at, domain = text.rpartition("@")
    return f"{local}@{domain.rstrip('.')}" if at else text


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return normalize_email(email or "")

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude={"password"})
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        # Stored normalized; whatever was typed is normalized the same way.
        return self.get(email=normalize_email(username or ""))


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("email address", unique=True, max_length=254)
    display_name = models.CharField(max_length=100, blank=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="IANA name."
    )
    # Working hours: a bit per ISO weekday (bit 0 = Monday) and a local window.
    work_days = models.PositiveSmallIntegerField(default=MONDAY_TO_FRIDAY)
    work_start = models.TimeField(default=time(9, 0))
    work_end = models.TimeField(default=time(17, 0))
    daily_digest = models.BooleanField("daily digest email", default=True)
    digest_hour = models.PositiveSmallIntegerField("digest local hour", default=8)
    calendar_token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["display_name", "email"]
        constraints = [
            models.CheckConstraint(
                condition=Q(work_days__gte=1, work_days__lte=ALL_WEEKDAYS),
                name="user_work_days_valid",
                violation_error_message="Pick at least one working day.",
            ),
            models.CheckConstraint(
                condition=Q(work_end__gt=models.F("work_start")),
                name="user_work_hours_end_after_start",
                violation_error_message="Working hours must end after they start.",
            ),
            models.CheckConstraint(
                condition=Q(digest_hour__gte=0, digest_hour__lte=23),
                name="user_digest_hour_valid",
                violation_error_message="The digest hour is a whole hour from 0 to 23.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def normalize_username(cls, username: str) -> str:
        # Model validation (the admin's forms, full_clean) stores the one form too.
        return normalize_email(username)

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@")[0]

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def city(self) -> str:
        """ "Asia/Kolkata" -> "Kolkata": how people name a zone in conversation."""
        return self.time_zone.rsplit("/", 1)[-1].replace("_", " ")

    @property
    def working_weekdays(self) -> list[int]:
        """ISO weekday numbers (1 = Monday) the user works on."""
        return [day + 1 for day in range(7) if self.work_days & (1 << day)]

    def works_on(self, day: date) -> bool:
        return bool(self.work_days & (1 << day.weekday()))

    def is_working_at(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return self.works_on(local.date()) and self.work_start <= local.time() < self.work_end

    def outside_working_hours(self, starts_at: datetime, ends_at: datetime) -> str:
        """Why a meeting from `starts_at` to `ends_at` falls outside this user's working
        hours, in their local time ("Sun 01:00–01:30, not a working day"), or "".

        Inside means `is_working_at` holds at the start and at the last second.
        """
        last = max(starts_at, ends_at - timedelta(seconds=1))
        if self.is_working_at(starts_at) and self.is_working_at(last):
            return ""
        zone = self.zone
        start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
        when = f"{WEEKDAY_NAMES[start.weekday()]} {start:%H:%M}–{end:%H:%M}"
        hours = f"{self.work_start:%H:%M}–{self.work_end:%H:%M}"
        if not self.works_on(start.date()):
            return f"{when}, not a working day for them"
        if start.time() < self.work_start:
            return f"{when}, before their working hours ({hours})"
        if self.is_working_at(starts_at):
            return f"{when}, runs past their working hours ({hours})"
        return f"{when}, after their working hours ({hours})"

    def next_working_moment(self, moment: datetime) -> datetime:
        """The first instant at or after `moment` inside this user's working hours.

        Windows are local wall-clock times, so a DST change moves them with the
        user. "Inside" is `is_working_at`; this only finds the earliest candidate
        instant it accepts: each working day's start, read in both folds (an hour
        repeated in autumn happens twice), and the DST change itself when the start
        falls in the hour skipped in spring (work then begins when clocks jump past
        it, or not at all that day). Compared as instants, in UTC.
        """
        if self.is_working_at(moment):
            return moment
        zone = self.zone
        first_day = moment.astimezone(zone).date()
        for offset in range(8):
            day = first_day + timedelta(days=offset)
            if not self.works_on(day):
                continue
            wall = datetime.combine(day, self.work_start)
            starts = {wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
            if len(starts) == 2:
                starts.add(_offset_change(zone, min(starts), max(starts)))
            found = [t for t in starts if t >= moment and self.is_working_at(t)]
            if found:
                return min(found)
        return moment  # unreachable with at least one working day; never delay forever

    def next_working_day(self, moment: datetime) -> date:
        """The first of this user's working days after the (local) day of `moment`."""
        zone = self.zone
        tomorrow = moment.astimezone(zone).date() + timedelta(days=1)
        start = datetime.combine(tomorrow, time.min, tzinfo=zone)
        return self.next_working_moment(start).astimezone(zone).date()

    @property
    def calendar_feed_url(self) -> str:
        """The secret address of this user's calendar feed, for the profile page.

        The feed is served by the meetings app: its URL is reversed by name, so
        accounts imports nothing of meetings.
        """
        return site_url(reverse("meetings:calendar_feed", args=[self.calendar_token]))

    @property
    def calendar_webcal_url(self) -> str:
        """The same feed as webcal://, which opens the subscribe dialog of calendar apps."""
        return "webcal://" + self.calendar_feed_url.split("://", 1)[1]

    def regenerate_calendar_token(self) -> None:
        self.calendar_token = new_feed_token()
        self.save(update_fields=["calendar_token"])


# Team policy bounds for action item reminders: past these, reminders are noise.
MAX_ACTION_LEAD_DAYS = 7
MAX_ACTION_OVERDUE_WEEKS = 12


class TeamQuerySet(models.QuerySet["Team"]):
    def for_user(self, user) -> TeamQuerySet:
        """The teams `user` belongs to: where the tenancy boundary starts."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class Team(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    agenda_lead_time = models.DurationField(
        default=timedelta(hours=24), help_text="How long before the start an agenda is due."
    )
    recap_grace = models.DurationField(
        "recap grace period",
        default=timedelta(hours=24),
        help_text="How long after the end a recap is due.",
    )
    escalate_after = models.DurationField(
        default=timedelta(hours=72),
        help_text="After this long without a recap, team admins are told too.",
    )
    notify_no_agenda = models.BooleanField(
        "tell attendees when a meeting has no agenda", default=True
    )
    remind_action_items = models.BooleanField(
        "remind owners of action items that are due", default=True, db_default=True
    )
    action_reminder_lead_days = models.PositiveSmallIntegerField(
        "days before the due date of the first reminder",
        default=1,
        db_default=1,
        help_text="0 sends none before the due day itself.",
    )
    action_overdue_weeks = models.PositiveSmallIntegerField(
        "weekly reminders once overdue",
        default=4,
        db_default=4,
        help_text="After the reminder the day after the due date, one a week, this many times.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(agenda_lead_time__gt=timedelta(0)),
                name="team_agenda_lead_time_positive",
                violation_error_message="The agenda lead time must be positive.",
            ),
            models.CheckConstraint(
                condition=Q(recap_grace__gt=timedelta(0)),
                name="team_recap_grace_positive",
                violation_error_message="The recap grace period must be positive.",
            ),
            models.CheckConstraint(
                condition=Q(escalate_after__gt=models.F("recap_grace")),
                name="team_escalation_after_grace",
                violation_error_message="Escalation must come after the recap grace period.",
            ),
            models.CheckConstraint(
                condition=Q(action_reminder_lead_days__lte=MAX_ACTION_LEAD_DAYS),
                name="team_action_lead_days_range",
                violation_error_message=f"The first action item reminder comes at most "
                f"{MAX_ACTION_LEAD_DAYS} days before the due date.",
            ),
            models.CheckConstraint(
                condition=Q(action_overdue_weeks__lte=MAX_ACTION_OVERDUE_WEEKS),
                name="team_action_overdue_weeks_range",
                violation_error_message=f"At most {MAX_ACTION_OVERDUE_WEEKS} weekly reminders "
                "for an overdue action item.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet["Membership"]):
    def admins(self) -> MembershipQuerySet:
        return self.filter(role__in=Membership.ADMIN_ROLES)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


def _role_valid(name: str) -> models.CheckConstraint:
    """A membership and an invitation hold the same roles."""
    return models.CheckConstraint(
        condition=Q(role__in=Role.values),
        name=name,
        violation_error_message="Role must be owner, admin or member.",
    )


class Membership(models.Model):
    Role = Role
    ADMIN_ROLES = (Role.OWNER, Role.ADMIN)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["team", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "team"],
                name="membership_unique_user_team",
                violation_error_message="This person is already a member of the team.",
            ),
            _role_valid("membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role in self.ADMIN_ROLES


class Invitation(models.Model):
    """An email invitation to join a team; accepted through a signed link."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "email"],
                condition=Q(accepted_at__isnull=True),
                name="invitation_one_open_per_email",
                violation_error_message="This address already has an open invitation.",
            ),
            _role_valid("invitation_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.team}"

    def is_for(self, user: User) -> bool:
        """Only the account of the address it was sent to may accept it."""
        return normalize_email(user.email) == normalize_email(self.email)


class AuditEvent(models.Model):
    """One change, as the service that made it recorded it (see accounts/audit.py).

    Append-only: the admin shows events read-only and nothing else changes them.
    A team with events cannot be deleted (PROTECT), so its trail cannot vanish
    with it; an actor's account may go, their address stays in `actor_label`.
    """

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="audit_events")
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, help_text="Who, as they were known then.")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=50, help_text="What happened, e.g. agenda.sent.")
    subject_type = models.CharField(max_length=40, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    # The meeting concerned, by id: accounts refers to nothing of meetings by import.
    meeting_id = models.BigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=500)
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [before, after]}")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["team", "-at"], name="audit_team_at_idx"),
            models.Index(
                fields=["meeting_id", "-at"],
                condition=Q(meeting_id__isnull=False),
                name="audit_meeting_at_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(action=""),
                name="audit_event_action_not_blank",
                violation_error_message="An audit event says what happened.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label}: {self.summary}"


# Personal access tokens live in their own module; imported here so Django sees
# the model as part of the app (and `from accounts.models import ApiToken` works).
from .tokens import ApiToken  # noqa: E402, F401
