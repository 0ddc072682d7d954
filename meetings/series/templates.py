"""Agenda templates: standing items a series' (or a team's) new agendas start from."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User

from ..models import AgendaItem, AgendaTemplate, Meeting, Series, TemplateItem


@transaction.atomic
def copy_template(
    template: AgendaTemplate, *, series: Series | None = None, name: str | None = None
) -> AgendaTemplate:
    """A copy of `template` (for a series, or a new team template)."""
    copy = AgendaTemplate.objects.create(
        team=template.team if series is None else series.team,
        series=series,
        name=name or template.name,
        desired_outcome=template.desired_outcome,
    )
    TemplateItem.objects.bulk_create(
        TemplateItem(
            template=copy,
            position=item.position,
            title=item.title,
            timebox_minutes=item.timebox_minutes,
            notes=item.notes,
        )
        for item in template.items.all()
    )
    return copy


def apply_template(meeting: Meeting, template: AgendaTemplate | None, *, by: User) -> int:
    """Start an empty agenda from `template`. A meeting that already has items is left alone."""
    if template is None or meeting.agenda_items.exists():
        return 0
    if template.desired_outcome and not meeting.desired_outcome:
        meeting.desired_outcome = template.desired_outcome
        meeting.save(update_fields=["desired_outcome"])  # and its HTML
    items = [
        AgendaItem(
            meeting=meeting,
            position=n,
            title=item.title,
            timebox_minutes=item.timebox_minutes,
            notes=item.notes,
            added_by=by,
        )
        for n, item in enumerate(template.items.all())
    ]
    AgendaItem.objects.bulk_create(items)
    return len(items)
