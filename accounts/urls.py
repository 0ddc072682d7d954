from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from . import (
    converters,  # noqa: F401 - registers <token:...>
    views,
)

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # Password reset by email: Django's views, our templates and namespaced URLs.
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("profile/", views.profile, name="profile"),
    path(
        "profile/calendar-token/",
        views.regenerate_calendar_token,
        name="regenerate_calendar_token",
    ),
    path("profile/tokens/", views.api_token_create, name="api_token_create"),
    path("profile/tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("team/", views.team, name="team"),
    path("team/settings/", views.team_settings, name="team_settings"),
    path("team/history/", views.team_history, name="team_history"),
    path("team/switch/", views.switch_team_view, name="switch_team"),
    path("team/invite/", views.invite, name="invite"),
    path("team/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("team/members/<int:pk>/role/", views.member_role, name="member_role"),
    path("team/members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("invitation/<token:token>/", views.accept_invitation, name="accept_invitation"),
]
