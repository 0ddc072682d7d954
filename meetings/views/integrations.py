"""A team's webhooks and chat channels, for its admins: list, register, edit,
disable and enable, rotate a webhook's secret, delete, and the delivery log with
"send again".

Every URL names the team by its slug: a team the user is not in is a 404, a
member who is not an admin gets 403, and an endpoint or delivery is looked up
inside the team (another team's id is a 404).

A webhook's signing secret is shown once. The POST that makes it keeps it in the
session and redirects; the endpoint's page takes it out on the next GET (a write
to the session only, like a flash message) and shows it. A reload shows it no more.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.http import safe_next
from accounts.models import Team

from ..forms.integrations import CHAT_ONLY, ChannelForm, EndpointForm
from ..models import Delivery, Endpoint
from ..services import integrations as services
from .access import admin_team

DELIVERIES_PAGE = 50
SECRET_KEY = "integrations_new_secret"
REFUSAL = "Only the team's admins manage its webhooks and chat channels."


# -- access -----------------------------------------------------------------------------


def integrations_team(request: HttpRequest, slug: str) -> Team:
    return admin_team(request, slug, REFUSAL)


def team_endpoint(request: HttpRequest, slug: str, pk: int) -> Endpoint:
    team = integrations_team(request, slug)
    endpoint = get_object_or_404(Endpoint.objects.filter(team=team), pk=pk)
    endpoint.team = team
    return endpoint


def _back_to(endpoint: Endpoint, name: str = "meetings:endpoint"):
    return redirect(name, endpoint.team.slug, endpoint.pk)


def _refused(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _keep_secret(request: HttpRequest, endpoint: Endpoint, secret: str) -> None:
    request.session[SECRET_KEY] = {"endpoint": endpoint.pk, "secret": secret}


def _take_secret(request: HttpRequest, endpoint: Endpoint) -> str:
    """The secret kept for this endpoint, removed as it is read; only a real GET
    takes it (a HEAD, say a link checker's, would swallow it unseen)."""
    kept = request.session.get(SECRET_KEY)
    if request.method != "GET" or not kept or kept.get("endpoint") != endpoint.pk:
        return ""
    del request.session[SECRET_KEY]
    return kept.get("secret", "")


# -- the list -----------------------------------------------------------------------------


@login_required
def integrations(request: HttpRequest, slug: str) -> HttpResponse:
    team = integrations_team(request, slug)
    last = Delivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-pk")
    endpoints = list(
        Endpoint.objects.filter(team=team).annotate(
            last_delivery_id=Subquery(last.values("pk")[:1])
        )
    )
    # Two queries whatever the number of endpoints: the endpoints, then their last deliveries.
    ids = [e.last_delivery_id for e in endpoints if e.last_delivery_id]
    lasts = Delivery.objects.select_related("event").in_bulk(ids)
    for endpoint in endpoints:
        endpoint.last_delivery = lasts.get(endpoint.last_delivery_id)
    context = {"team": team, "endpoints": endpoints, "zone_name": _zone()}
    return render(request, "meetings/integrations/list.html", context)


def _zone() -> str:
    return timezone.get_current_timezone_name()


# -- registering ----------------------------------------------------------------------------


@login_required
def webhook_create(request: HttpRequest, slug: str) -> HttpResponse:
    team = integrations_team(request, slug)
    form = EndpointForm(request.POST or None, team_id=team.pk)
    if request.method == "POST" and form.is_valid():
        endpoint = _create(request, form, team, Endpoint.Kind.WEBHOOK)
        if endpoint is not None:
            return _back_to(endpoint)
    elif request.method == "POST":
        messages.error(request, "The webhook was not added; see the marked fields.")
    return render(request, "meetings/integrations/form.html", {"team": team, "form": form,
                  "kind": "webhook", "title": "Add a webhook"})  # fmt: skip


@login_required
def channel_create(request: HttpRequest, slug: str) -> HttpResponse:
    team = integrations_team(request, slug)
    form = ChannelForm(request.POST or None, team_id=team.pk)
    if request.method == "POST" and form.is_valid():
        endpoint = _create(request, form, team, form.cleaned_data["kind"])
        if endpoint is not None:
            return redirect("meetings:integrations", team.slug)
    elif request.method == "POST":
        messages.error(request, "The chat channel was not added; see the marked fields.")
    return render(request, "meetings/integrations/form.html", {"team": team, "form": form,
                  "kind": "channel", "title": "Add a chat channel",
                  "chat_only": CHAT_ONLY})  # fmt: skip


def _create(request: HttpRequest, form: EndpointForm, team: Team, kind: str) -> Endpoint | None:
    data = form.cleaned_data
    try:
        endpoint, secret = services.create_endpoint(
            team=team, kind=kind, name=data["name"], url=data["url"], events=data["events"],
            by=request.user, now=timezone.now(),
        )  # fmt: skip
    except ValidationError as error:
        form.add_error(None, error)
        messages.error(request, "Nothing was added; see the marked fields.")
        return None
    endpoint.team = team
    if secret:
        _keep_secret(request, endpoint, secret)
    messages.success(request, f"“{endpoint.name}” is added.")
    return endpoint


# -- one endpoint ------------------------------------------------------------------------------


def _form_for(endpoint: Endpoint, data=None) -> EndpointForm:
    form_class = ChannelForm if endpoint.is_chat else EndpointForm
    return form_class(data, team_id=endpoint.team_id, endpoint=endpoint)


@login_required
def endpoint(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One endpoint: its state, its secret once after it was made, and its edit form."""
    endpoint = team_endpoint(request, slug, pk)
    team = endpoint.team
    if request.method == "POST":
        form = _form_for(endpoint, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_endpoint(
                    endpoint=endpoint, name=data["name"], url=data["url"], events=data["events"],
                    by=request.user, now=timezone.now(),
                )  # fmt: skip
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"“{data['name']}” is saved.")
                return _back_to(endpoint)
        messages.error(request, "Nothing was saved; see the marked fields.")
        # The page shows what is stored, beside the refused form.
        endpoint = team_endpoint(request, slug, pk)
    else:
        form = _form_for(endpoint)
    context = {
        "team": team,
        "endpoint": endpoint,
        "form": form,
        "new_secret": _take_secret(request, endpoint),
        "chat_only": CHAT_ONLY,
        "zone_name": _zone(),
    }
    return render(request, "meetings/integrations/endpoint.html", context)


@login_required
@require_POST
def endpoint_rotate(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    endpoint = team_endpoint(request, slug, pk)
    try:
        _, secret = services.rotate_secret(endpoint=endpoint, by=request.user, now=timezone.now())
    except ValidationError as error:
        _refused(request, error)
    else:
        _keep_secret(request, endpoint, secret)
        messages.success(request, "A new signing secret is made; the old one no longer signs.")
    return _back_to(endpoint)


@login_required
@require_POST
def endpoint_disable(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    endpoint = team_endpoint(request, slug, pk)
    try:
        disabled = services.disable_endpoint(
            endpoint=endpoint, by=request.user, now=timezone.now()
        )
    except ValidationError as error:
        _refused(request, error)
        return redirect("meetings:integrations", endpoint.team.slug)
    if disabled:
        messages.success(request, f"“{endpoint.name}” is disabled: nothing is posted to it.")
    else:
        messages.info(request, f"“{endpoint.name}” was disabled already.")
    return redirect(safe_next(request, _back_to(endpoint).url))


@login_required
@require_POST
def endpoint_enable(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    endpoint = team_endpoint(request, slug, pk)
    try:
        waiting = services.enable_endpoint(endpoint=endpoint, by=request.user, now=timezone.now())
    except ValidationError as error:
        _refused(request, error)
        return redirect("meetings:integrations", endpoint.team.slug)
    if waiting is None:
        messages.info(request, f"“{endpoint.name}” was active already.")
    else:
        queued = (
            "" if not waiting
            else " 1 waiting delivery is on its way." if waiting == 1
            else f" {waiting} waiting deliveries are on their way."
        )  # fmt: skip
        messages.success(request, f"“{endpoint.name}” is enabled again.{queued}")
    return redirect(safe_next(request, _back_to(endpoint).url))


@login_required
def endpoint_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """GET asks (a page with one button, so it works without JavaScript); POST deletes."""
    endpoint = team_endpoint(request, slug, pk)
    if request.method == "POST":
        try:
            services.delete_endpoint(endpoint=endpoint, by=request.user, now=timezone.now())
        except ValidationError as error:  # deleted a moment ago by someone else
            _refused(request, error)
        else:
            messages.success(request, f"“{endpoint.name}” is deleted.")
        return redirect("meetings:integrations", endpoint.team.slug)
    return render(request, "meetings/integrations/delete.html",
                  {"team": endpoint.team, "endpoint": endpoint})  # fmt: skip


# -- deliveries ---------------------------------------------------------------------------------


def _deliveries_context(request: HttpRequest, endpoint: Endpoint, **extra) -> dict:
    rows = endpoint.deliveries.select_related("event__meeting").order_by("-created_at", "-pk")
    page = Paginator(rows, DELIVERIES_PAGE).get_page(request.GET.get("page"))
    return {"team": endpoint.team, "endpoint": endpoint, "page": page, "zone_name": _zone(),
            **extra}  # fmt: skip


@login_required
def endpoint_deliveries(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The most recent deliveries first, 50 to a page."""
    endpoint = team_endpoint(request, slug, pk)
    context = _deliveries_context(request, endpoint)
    return render(request, "meetings/integrations/deliveries.html", context)


@login_required
@require_POST
def delivery_send_again(
    request: HttpRequest, slug: str, pk: int, delivery_pk: int
) -> HttpResponse:
    endpoint = team_endpoint(request, slug, pk)
    delivery = get_object_or_404(endpoint.deliveries.select_related("event"), pk=delivery_pk)
    delivery.endpoint = endpoint
    if services.send_again(delivery=delivery, by=request.user, now=timezone.now()):
        messages.success(request, f"{delivery.event.get_type_display()} is queued again.")
    else:
        messages.info(request, "That delivery is already on its way; it was not queued twice.")
    if request.htmx:
        # The table again, with the focus on the row that changed (htmx focuses autofocus).
        context = _deliveries_context(request, endpoint, fragment=True, focus_delivery=delivery.pk)
        return render(request, "meetings/integrations/deliveries.html#deliveries", context)
    fallback = redirect("meetings:endpoint_deliveries", endpoint.team.slug, endpoint.pk).url
    return redirect(safe_next(request, fallback))
