from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponseBadRequest

from .models import AuditEvent, Invitation, Membership, Team, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "team"]
    fields = ["user", "team", "role", "joined_at"]


class InvitationInline(admin.TabularInline):
    model = Invitation
    extra = 0
    autocomplete_fields = ["invited_by"]
    fields = ["email", "role", "invited_by", "created_at", "accepted_at"]
    # Acceptance happens through the signed link only.
    readonly_fields = ["created_at", "accepted_at"]


def _filter_name(item) -> str:
    """The field or parameter a `list_filter` entry filters on."""
    if isinstance(item, str):
        return item
    if isinstance(item, tuple):
        return item[0]
    return item.parameter_name


class DeclaredFiltersOnly:
    """A ModelAdmin mixin: the change list filters only on what it declares.

    Django's admin lets a query string filter on any field of the model with any
    lookup (`?title__regex=(`), and a lookup the database rejects is a 500. Only
    the declared list filters and date hierarchy are accepted, and no regular
    expressions; anything else is refused as a bad request (400). So is a NUL
    byte anywhere in the query string: PostgreSQL cannot compare text with one,
    so a filter or search on it would be a 500.
    """

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if any("\x00" in key + "".join(values) for key, values in request.GET.lists()):
            return HttpResponseBadRequest(
                "This query contains a NUL byte.", content_type="text/plain"
            )
        return super().changelist_view(request, extra_context)

    def lookup_allowed(self, lookup: str, value, request=None) -> bool:
        declared = {self.date_hierarchy} | {_filter_name(item) for item in self.list_filter}
        parts = lookup.split("__")
        if parts[0] not in declared or {"regex", "iregex"} & set(parts):
            return False
        return super().lookup_allowed(lookup, value, request)


@admin.register(User)
class UserAdmin(DeclaredFiltersOnly, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "display_name", "time_zone", "daily_digest", "is_staff",
                    "is_active", "last_login"]  # fmt: skip
    list_filter = ["is_staff", "is_active", "daily_digest", "memberships__team"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["last_login", "date_joined", "calendar_token"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["display_name", "time_zone"]}),
        ("Working hours", {"fields": ["work_days", "work_start", "work_end"]}),
        ("Notifications", {"fields": ["daily_digest", "digest_hour", "calendar_token"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]}),
    ]


@admin.register(Team)
class TeamAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "agenda_lead_time", "recap_grace",
                    "escalate_after", "notify_no_agenda"]  # fmt: skip
    list_filter = ["notify_no_agenda"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]
    inlines = [MembershipInline, InvitationInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        # One grouped query for the column, not one count per row.
        return super().get_queryset(request).annotate(member_total=Count("memberships"))

    @admin.display(description="members", ordering="member_total")
    def member_count(self, team: Team) -> int:
        return team.member_total


@admin.register(Membership)
class MembershipAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    list_display = ["user", "team", "role", "joined_at"]
    list_filter = ["role", "team"]
    list_select_related = ["user", "team"]
    search_fields = ["user__email", "user__display_name", "team__name"]
    autocomplete_fields = ["user", "team"]


@admin.register(Invitation)
class InvitationAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    list_display = ["email", "team", "role", "invited_by", "created_at", "accepted_at"]
    list_filter = ["team", "role", ("accepted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["team", "invited_by"]
    search_fields = ["email", "team__name"]
    autocomplete_fields = ["team", "invited_by"]
    readonly_fields = ["created_at", "accepted_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """The audit trail, read-only: events are never added, changed or deleted by hand."""

    list_display = ["at", "team", "actor_label", "action", "summary"]
    list_filter = ["action", "team"]
    list_select_related = ["team"]
    search_fields = ["summary", "actor_label", "action"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
