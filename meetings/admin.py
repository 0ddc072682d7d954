"""The Django admin for meetings, and the staff dashboard of unrecapped meetings.

State never changes by editing timestamps here: those fields are read-only and
the admin actions call the same services and transitions as the app, so every
rule (and the outbox's once-per-stage guarantee) holds in the admin too.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator

from accounts.admin import DeclaredFiltersOnly
from accounts.http import parse_id
from accounts.models import Membership

from . import notifications, services
from .models import (
    ActionItem,
    AgendaItem,
    AgendaTemplate,
    Attendee,
    CarriedAction,
    Decision,
    DeliveryPause,
    Meeting,
    Notification,
    RuleBroken,
    Series,
    SeriesAttendee,
    TemplateItem,
)
from .reports.compliance import compliance_report
from .reports.period import period_from, report_context
from .reports.unrecapped import (
    COUNT_CAP,
    PAGE_SIZE,
    UnrecappedFilterForm,
    csv_response,
    keyset_page,
    overdue_text,
    unrecapped_count,
    unrecapped_meetings,
)

# -- forms: the cross-row rules the services check, checked here too ------------


def _meeting_of(form: forms.ModelForm) -> Meeting | None:
    meeting = form.cleaned_data.get("meeting") or getattr(form.instance, "meeting", None)
    return meeting if meeting is not None and meeting.team_id else None


class MembersOnlyForm(forms.ModelForm):
    """People on a meeting (attendees, owners) must belong to the meeting's team."""

    member_fields: tuple[str, ...] = ()

    def clean(self) -> dict:
        data = super().clean()
        meeting = _meeting_of(self)
        people = {name: data.get(name) for name in self.member_fields if data.get(name)}
        if meeting is None or not people:
            return data
        member_ids = set(
            Membership.objects.filter(
                team_id=meeting.team_id, user__in=people.values()
            ).values_list("user_id", flat=True)
        )
        for name, user in people.items():
            if user.pk not in member_ids:
                self.add_error(name, f"{user} is not a member of {meeting.team}.")
        return data


class AttendeeForm(MembersOnlyForm):
    member_fields = ("user",)


class AgendaItemForm(MembersOnlyForm):
    member_fields = ("owner",)


class ActionItemForm(forms.ModelForm):
    def clean(self) -> dict:
        """Rule 5 through `ActionItem.problems`, the same check the app runs."""
        data = super().clean()
        meeting = _meeting_of(self)
        if meeting is not None and data.get("owner") and data.get("due_date"):
            item = ActionItem(owner=data["owner"], due_date=data["due_date"])
            problems = item.problems(meeting=meeting)
            if problems:
                raise forms.ValidationError(problems)
        return data


class MeetingForm(forms.ModelForm):
    def clean(self) -> dict:
        data = super().clean()
        # On change the team is read-only, so it comes from the instance.
        team = data.get("team") or (self.instance.team if self.instance.team_id else None)
        organizer = data.get("organizer")
        if (
            team
            and organizer
            and not Membership.objects.filter(team=team, user=organizer).exists()
        ):
            self.add_error("organizer", f"{organizer} is not a member of {team}.")
        return data


# -- inlines -----------------------------------------------------------------


class AttendeeInline(admin.TabularInline):
    model = Attendee
    form = AttendeeForm
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "required", "rsvp", "acknowledged_at"]
    # Acknowledgement is the attendee's own act (a signed link); staff do not forge it.
    readonly_fields = ["acknowledged_at"]


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    form = AgendaItemForm
    extra = 0
    fk_name = "meeting"
    autocomplete_fields = ["owner", "added_by"]
    fields = ["position", "title", "owner", "timebox_minutes", "outcome", "slipped_count"]
    readonly_fields = ["slipped_count"]


class DecisionInline(admin.TabularInline):
    model = Decision
    extra = 0
    fields = ["position", "text"]


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    form = ActionItemForm
    extra = 0
    autocomplete_fields = ["owner", "created_by"]
    fields = ["description", "owner", "due_date", "status", "completed_at"]
    # Completion goes through ActionItem.complete()/reopen() (conditional updates).
    readonly_fields = ["status", "completed_at"]


class NotificationInline(admin.TabularInline):
    model = Notification
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "stage", "recipient", "state", "send_after", "attempts",
                       "sent_at", "last_error"]  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


# -- meetings ----------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    """Filter on the derived status, computed in SQL by `with_status`."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Meeting.Status.choices

    def queryset(self, request, queryset):
        if self.value() in Meeting.Status.values:
            return queryset.filter(status=self.value())
        return queryset


@admin.register(Meeting)
class MeetingAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    form = MeetingForm
    list_display = ["title", "team", "organizer", "starts_at", "status_display",
                    "agenda_sent_at", "recap_published_at"]  # fmt: skip
    list_filter = [StatusFilter, "team", "starts_at"]
    list_select_related = ["team", "organizer"]
    search_fields = ["title", "organizer__email", "organizer__display_name", "team__name"]
    autocomplete_fields = ["team", "organizer", "series"]
    date_hierarchy = "starts_at"
    actions = ["cancel_meetings", "send_reminder_now"]
    readonly_fields = [
        "status_display",
        "created_at",
        "occurrence_start",
        "agenda_sent_at",
        "agenda_sent_by",
        "agenda_amended_at",
        "sequence",
        "recap_published_at",
        "recap_published_by",
        "canceled_at",
        "next_reminder_at",
    ]
    fieldsets = [
        (None, {"fields": ["title", "team", "organizer", "series", "status_display"]}),
        ("When and where", {"fields": ["starts_at", "ends_at", "time_zone", "location"]}),
        (
            "Agenda",
            {
                "fields": [
                    "desired_outcome",
                    "agenda_sent_at",
                    "agenda_sent_by",
                    "agenda_amended_at",
                    "sequence",
                ]
            },
        ),  # fmt: skip
        (
            "Recap",
            {
                "fields": [
                    "recap_summary",
                    "recap_notes",
                    "no_action_items",
                    "recap_published_at",
                    "recap_published_by",
                ]
            },
        ),  # fmt: skip
        (
            "Bookkeeping",
            {"fields": ["canceled_at", "next_reminder_at", "occurrence_start", "created_at"]},
        ),
    ]
    inlines = [AttendeeInline, AgendaItemInline, DecisionInline, ActionItemInline,
               NotificationInline]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[Meeting]:
        return super().get_queryset(request).with_status(timezone.now())

    def get_readonly_fields(self, request: HttpRequest, obj: Meeting | None = None):
        # Moving a meeting to another team would strand its attendees and owners.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "team"] if obj is not None else fields

    def save_related(self, request, form, formsets, change) -> None:
        """As `services.create_meeting` does: the organizer attends, reminders follow."""
        super().save_related(request, form, formsets, change)
        meeting = form.instance
        Attendee.objects.get_or_create(
            meeting=meeting, user_id=meeting.organizer_id, defaults={"required": True}
        )
        notifications.reschedule(meeting, now=timezone.now())

    @admin.display(description="status", ordering="status")
    def status_display(self, obj: Meeting) -> str:
        # The add form shows this too, for a meeting with no times yet.
        if obj.starts_at is None or obj.ends_at is None:
            return "—"
        return obj.status.label

    @admin.action(description="Cancel selected meetings", permissions=["change"])
    def cancel_meetings(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        """Through the same service as the app: refused after the start, one message each."""
        now = timezone.now()
        canceled = 0
        for meeting in queryset:
            try:
                services.cancel_meeting(meeting=meeting, by=request.user, now=now)
            except RuleBroken as exc:
                self.message_user(request, f"{meeting}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                canceled += 1
        if canceled:
            self.message_user(request, f"Canceled {canceled} meeting(s).", messages.SUCCESS)

    @admin.action(description="Send reminder now", permissions=["change"])
    def send_reminder_now(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        _remind(request, list(queryset))


class SeriesAttendeeInline(admin.TabularInline):
    model = SeriesAttendee
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Series)
class SeriesAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    list_display = ["title", "team", "organizer", "rrule", "time_zone", "ended_at"]
    list_filter = ["team"]
    list_select_related = ["team", "organizer"]
    search_fields = ["title", "team__name", "organizer__email"]
    autocomplete_fields = ["team", "organizer"]
    readonly_fields = ["generated_until", "created_at"]
    inlines = [SeriesAttendeeInline]


class TemplateItemInline(admin.TabularInline):
    model = TemplateItem
    extra = 0


@admin.register(AgendaTemplate)
class AgendaTemplateAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    list_display = ["name", "team", "series"]
    list_filter = ["team"]
    list_select_related = ["team", "series"]
    search_fields = ["name", "team__name", "series__title"]
    autocomplete_fields = ["team", "series"]
    inlines = [TemplateItemInline]


@admin.register(CarriedAction)
class CarriedActionAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """Read-only: carry-over rows are written by the series service only."""

    list_display = ["meeting", "action_item", "agenda_item"]
    list_select_related = ["meeting", "action_item", "agenda_item"]
    search_fields = ["meeting__title", "action_item__description"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AgendaItem)
class AgendaItemAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    form = AgendaItemForm
    list_display = ["title", "meeting", "owner", "timebox_minutes", "outcome", "slipped_count"]
    list_filter = ["outcome"]
    list_select_related = ["meeting", "owner"]
    search_fields = ["title", "meeting__title"]
    autocomplete_fields = ["meeting", "owner", "added_by", "carried_from"]


@admin.register(Decision)
class DecisionAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    list_display = ["__str__", "meeting", "created_at"]
    list_select_related = ["meeting"]
    search_fields = ["text", "meeting__title"]
    autocomplete_fields = ["meeting"]


@admin.register(Attendee)
class AttendeeAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    form = AttendeeForm
    list_display = ["user", "meeting", "required", "rsvp", "acknowledged_at"]
    list_filter = ["required", "rsvp"]
    list_select_related = ["user", "meeting"]
    search_fields = ["user__email", "meeting__title"]
    autocomplete_fields = ["meeting", "user"]
    readonly_fields = ["acknowledged_at"]


@admin.register(ActionItem)
class ActionItemAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    form = ActionItemForm
    list_display = ["description", "owner", "due_date", "status", "completed_at", "meeting"]
    list_filter = ["status", "due_date"]
    list_select_related = ["owner", "meeting"]
    search_fields = ["description", "owner__email", "meeting__title"]
    autocomplete_fields = ["meeting", "owner", "created_by"]
    readonly_fields = ["status", "completed_at", "created_at"]


def _when(value) -> str:
    """A time in the viewer's zone, naming the zone ("Fri 27 Nov 2026, 13:05 CET")."""
    return date_format(timezone.localtime(value), "D j M Y, H:i T") if value else "—"


@admin.register(Notification)
class NotificationAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """The outbox. Written by the sweep and the delivery task only; staff can send
    failed and expired messages again (through the outbox, once)."""

    list_display = ["kind", "recipient", "meeting", "state", "attempts", "error",
                    "next_try", "done_at"]  # fmt: skip
    list_filter = ["state", "kind"]
    list_select_related = ["recipient", "meeting"]
    search_fields = ["recipient__email", "meeting__title", "stage"]
    actions = ["send_again"]
    readonly_fields = ["meeting", "kind", "stage", "recipient", "state", "send_after",
                       "attempts", "last_error", "created_at", "sent_at", "requeued_at",
                       "given_up_at"]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="last error")
    def error(self, obj: Notification) -> str:
        return Truncator(obj.last_error).chars(80) if obj.last_error else ""

    @admin.display(description="next try", ordering="send_after")
    def next_try(self, obj: Notification) -> str:
        return _when(obj.send_after) if obj.state == Notification.State.PENDING else "—"

    @admin.display(description="sent or given up")
    def done_at(self, obj: Notification) -> str:
        return _when(obj.sent_at or obj.given_up_at)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        pause = DeliveryPause.objects.filter(until__gt=timezone.now()).first()
        if pause is not None:
            messages.warning(
                request,
                f"Mail delivery is paused until {_when(pause.until)} "
                f"(the server could not be reached {pause.failures} time(s) in a row: "
                f"{Truncator(pause.reason).chars(120)}). Messages wait; none are lost.",
            )
        return super().changelist_view(request, extra_context)

    @admin.action(description="Send again (failed or expired messages)", permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        picked = list(queryset.values_list("pk", flat=True))
        queued = notifications.outbox.send_again(picked, now=timezone.now())
        if queued:
            self.message_user(request, f"Queued {queued} message(s) again.", messages.SUCCESS)
        if len(picked) > queued:
            self.message_user(
                request,
                f"{len(picked) - queued} message(s) were not failed or expired and were "
                "left alone.",
                messages.WARNING,
            )


@admin.register(DeliveryPause)
class DeliveryPauseAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """Read-only: the delivery task opens and closes the pause."""

    list_display = ["__str__", "failures", "since", "reason"]
    readonly_fields = ["until", "failures", "since", "reason"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _remind(request: HttpRequest, meetings: list[Meeting]) -> None:
    """Queue a manual reminder now, through the outbox.

    `remind_now` queues its own stage, one per meeting and UTC day, with
    conflicts ignored: a second click the same day adds nothing.
    """
    now = timezone.now()
    queued = sum(notifications.remind_now(meeting=meeting, now=now) for meeting in meetings)
    if queued:
        messages.success(request, f"Queued {queued} reminder(s) for {len(meetings)} meeting(s).")
    else:
        messages.warning(
            request,
            "Nothing new was queued: a manual reminder already went out today (UTC) "
            "for these meetings, or they need none.",
        )


def unrecapped_view(request: HttpRequest) -> HttpResponse:
    """Staff dashboard: meetings that owe a recap, reminders, and compliance."""
    if not request.user.has_perm("meetings.view_meeting"):
        raise PermissionDenied
    now = timezone.now()
    if request.method == "POST":
        if not request.user.has_perm("meetings.change_meeting"):
            raise PermissionDenied
        ids = request.POST.getlist("selected") if "bulk" in request.POST else []
        if request.POST.get("remind"):
            ids = [request.POST["remind"]]
        ids = [pk for pk in map(parse_id, ids) if pk is not None]
        if not ids:
            messages.error(request, "Pick at least one meeting to remind.")
        else:
            # Only meetings that still owe a recap: a stale page cannot nudge a recapped one.
            _remind(request, list(Meeting.objects.awaiting_recap(now).filter(pk__in=ids)))
        return HttpResponseRedirect(request.get_full_path())

    form = UnrecappedFilterForm(request.GET or None, now=now)
    filters = form.cleaned_data if form.is_valid() else {}
    chosen = {
        "team": filters.get("team"),
        "organizer": filters.get("organizer"),
        "overdue": filters.get("overdue", ""),
    }
    sort = filters.get("o") or "overdue"
    meetings = unrecapped_meetings(now, **chosen, sort=sort)
    if request.GET.get("format") == "csv":
        return csv_response(meetings, now)

    # Keyset pagination: a page starts after (or ends before) the row in its
    # cursor, so it reads its own rows through the index, never an offset.
    page = keyset_page(
        meetings,
        descending=sort == "-overdue",
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
    )
    for meeting in page:
        meeting.overdue_text = overdue_text(meeting, now)
        meeting.is_overdue = meeting.due_at <= now
    count = unrecapped_count(now, **chosen)
    number = request.GET.get("page", "")
    number = int(number) if number.isascii() and number.isdigit() and len(number) < 7 else 1
    number = max(1, number) if page.previous_cursor else 1
    pages = -(-count // PAGE_SIZE) if count <= COUNT_CAP else None
    number = min(number, pages or number)  # a page number only labels the page

    filter_params = [
        (name, request.GET[name])
        for name in ("team", "organizer", "overdue", "o")
        if request.GET.get(name)
    ]
    # The sort links set `o` themselves.
    unsorted_params = [(name, value) for name, value in filter_params if name != "o"]
    period_form, start, end = period_from(request.GET, timezone.localdate(now))
    # The compliance figures cost what the period's meetings cost, not what this
    # page of the list costs: they come on their own request (htmx loads them
    # right after the page; without JavaScript, a link shows the page with them).
    report_shown = request.GET.get("compliance") == "1"
    report_params = [*filter_params, ("compliance", "1")]
    context = {
        **admin.site.each_context(request),
        "title": "Unrecapped meetings",
        "opts": Meeting._meta,
        "form": form,
        "page": page,
        "count": min(count, COUNT_CAP),
        "count_capped": count > COUNT_CAP,
        "page_number": number,
        "num_pages": pages,
        "next_query": urlencode(
            [*filter_params, ("after", page.next_cursor), ("page", number + 1)]
        )
        if page.next_cursor
        else "",
        "previous_query": urlencode(
            [*filter_params, ("before", page.previous_cursor), ("page", number - 1)]
        )
        if page.previous_cursor
        else "",
        "now": now,
        "filter_query": urlencode(filter_params),
        "unsorted_query": urlencode(unsorted_params),
        "keep_params": report_params,
        "compliance_query": urlencode(
            [*report_params, *((k, request.GET[k]) for k in ("start", "end") if k in request.GET)]
        ),
        "csv_query": urlencode([*filter_params, ("format", "csv")]),
        "period_form": period_form,
        "can_remind": request.user.has_perm("meetings.change_meeting"),
        "show_teams": True,
    }
    if report_shown:
        scope = Meeting.objects.all()
        if filters.get("team"):
            scope = scope.filter(team=filters["team"])
        report = compliance_report(scope, start=start, end=end, now=now)
        context.update(
            report_context(
                report,
                title="All teams: weekly agenda and recap compliance",
                hours_title="All teams: weekly person-hours in meetings and saved",
            )
        )
        if request.htmx:
            return TemplateResponse(request, "admin/meetings/unrecapped.html#compliance", context)
    return TemplateResponse(request, "admin/meetings/unrecapped.html", context)


# The dashboard lives at /admin/meetings/unrecapped/, beside the app's model
# pages rather than under one model's URL. ModelAdmin.get_urls() only reaches
# /admin/meetings/meeting/..., so the site's URL list is extended here, once, in
# front of the admin's own patterns (its app index only matches /admin/meetings/).
_site_get_urls = admin.site.get_urls


def _get_urls_with_dashboard():
    return [
        path(
            "meetings/unrecapped/",
            admin.site.admin_view(unrecapped_view),
            name="meetings_unrecapped",
        ),
        *_site_get_urls(),
    ]


admin.site.get_urls = _get_urls_with_dashboard
