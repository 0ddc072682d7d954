from __future__ import annotations

from django.contrib import admin

from .models import ActionItem, AgendaItem, Attendee, Decision, Meeting, Notification, Series


class AttendeeInline(admin.TabularInline):
    model = Attendee
    extra = 0
    autocomplete_fields = ["user"]


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    extra = 0
    fk_name = "meeting"
    autocomplete_fields = ["owner", "added_by"]
    exclude = ["carried_from"]


class DecisionInline(admin.TabularInline):
    model = Decision
    extra = 0


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    extra = 0
    autocomplete_fields = ["owner", "created_by"]


class NotificationInline(admin.TabularInline):
    model = Notification
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "stage", "recipient", "state", "attempts", "sent_at", "last_error"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["title", "team", "organizer", "starts_at", "status_display"]
    list_filter = ["team"]
    list_select_related = ["team", "organizer"]
    search_fields = ["title", "organizer__email", "team__name"]
    autocomplete_fields = ["team", "organizer", "series"]
    date_hierarchy = "starts_at"
    readonly_fields = [
        "status_display",
        "agenda_sent_at",
        "agenda_sent_by",
        "agenda_amended_at",
        "sequence",
        "recap_published_at",
        "recap_published_by",
        "canceled_at",
        "next_reminder_at",
    ]
    inlines = [AttendeeInline, AgendaItemInline, DecisionInline, ActionItemInline,
               NotificationInline]  # fmt: skip

    @admin.display(description="status")
    def status_display(self, obj: Meeting) -> str:
        return obj.status.label


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["title", "team", "organizer", "rrule", "time_zone"]
    list_select_related = ["team", "organizer"]
    search_fields = ["title"]
    autocomplete_fields = ["team", "organizer"]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["description", "owner", "due_date", "status", "meeting"]
    list_filter = ["status"]
    list_select_related = ["owner", "meeting"]
    search_fields = ["description", "owner__email"]
    autocomplete_fields = ["meeting", "owner", "created_by"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["kind", "stage", "recipient", "meeting", "state", "attempts", "sent_at"]
    list_filter = ["kind", "state"]
    list_select_related = ["recipient", "meeting"]
    search_fields = ["recipient__email", "meeting__title"]
    readonly_fields = ["sent_at", "attempts", "last_error", "created_at"]
    autocomplete_fields = ["meeting", "recipient"]
