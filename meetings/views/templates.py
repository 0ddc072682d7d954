"""Agenda templates: a team's library of standing agenda items, and a series' own copy."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.teams import current_membership

from ..forms import TemplateForm, TemplateItemForm
from ..models import AgendaTemplate, TemplateItem
from .access import changeable_series, changeable_template, viewable_template


@require_POST
@login_required
def series_template_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a series its own (empty) agenda template, or open the one it has."""
    series = changeable_series(request, pk)
    template = series.own_template
    if template is None:
        template = AgendaTemplate.objects.create(
            team=series.team, series=series, name=series.title
        )
    return redirect("meetings:template", pk=template.pk)


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        raise PermissionDenied("Join a team first.")
    team = membership.team
    form = TemplateForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        template = form.save()
        messages.success(request, f"Template “{template.name}” created; add its standing items.")
        return redirect("meetings:template", pk=template.pk)
    templates = AgendaTemplate.objects.filter(team=team, series__isnull=True).prefetch_related(
        "items"
    )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "meetings/series/templates.html",
        {"form": form, "templates": templates, "team": team},
        status=status,
    )


@login_required
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = viewable_template(request, pk)
    can_change = template.can_be_changed_by(request.user)
    if request.method == "POST" and not can_change:
        raise PermissionDenied("Only the organizer and team admins change this series.")
    form = TemplateForm(request.POST or None, instance=template, team=template.team)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Template saved.")
        return redirect("meetings:template", pk=template.pk)
    return render(
        request,
        "meetings/series/template.html",
        {
            "template": template,
            "form": form,
            "item_form": TemplateItemForm(),
            "items": list(template.items.all()),
            "can_change": can_change,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
def template_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    template = changeable_template(request, pk)
    item_form = TemplateItemForm(request.POST)
    if item_form.is_valid():
        item = item_form.save(commit=False)
        item.template = template
        last = template.items.order_by("-position").values_list("position", flat=True).first()
        item.position = 0 if last is None else last + 1
        item.save()
        if request.htmx:
            return render(
                request,
                "meetings/series/template.html#items",
                {
                    "template": template,
                    "items": list(template.items.all()),
                    "item_form": TemplateItemForm(),
                    "can_change": True,
                },
            )
        messages.success(request, f"“{item.title}” added.")
        return redirect("meetings:template", pk=template.pk)
    return render(
        request,
        "meetings/series/template.html",
        {
            "template": template,
            "form": TemplateForm(instance=template, team=template.team),
            "item_form": item_form,
            "items": list(template.items.all()),
            "can_change": True,
        },
        status=400,
    )


@require_POST
@login_required
def template_item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    template = changeable_template(request, pk)
    item = get_object_or_404(TemplateItem, template=template, pk=item_pk)
    item.delete()
    messages.success(request, f"“{item.title}” removed.")
    return redirect("meetings:template", pk=template.pk)
