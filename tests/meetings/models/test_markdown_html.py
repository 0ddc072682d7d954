"""User Markdown is rendered to sanitized HTML when it is written, not when it is shown."""

from __future__ import annotations

import importlib
from datetime import timedelta

from django.apps import apps
from django.urls import reverse

from meetings import services
from meetings.markdown import render_markdown
from meetings.models import AgendaItem, AgendaTemplate, Decision, Meeting, TemplateItem
from meetings.series.templates import apply_template

HOSTILE = "**bold** <script>alert(1)</script> [x](javascript:alert(1))"


def test_services_store_the_sanitized_html_of_every_markdown_column(ended, organizer, now):
    recap_at = ended.ends_at + timedelta(minutes=5)
    services.save_recap(meeting=ended, summary=HOSTILE, notes="*notes*", no_action_items=True,
                        by=organizer, now=recap_at)  # fmt: skip
    decision = services.record_decision(meeting=ended, text=HOSTILE, by=organizer, now=recap_at)
    row = Meeting.objects.get(pk=ended.pk)
    assert row.recap_summary_html == render_markdown(HOSTILE)
    assert "<strong>bold</strong>" in row.recap_summary_html
    assert "<script" not in row.recap_summary_html
    assert 'href="javascript' not in row.recap_summary_html
    assert row.recap_notes_html == "<p><em>notes</em></p>\n"
    assert row.desired_outcome_html == render_markdown(ended.desired_outcome)
    assert Decision.objects.get(pk=decision.pk).text_html == render_markdown(HOSTILE)


def test_a_save_of_the_source_alone_saves_its_html_too(ended, organizer):
    recap_at = ended.ends_at + timedelta(minutes=5)
    decision = services.record_decision(meeting=ended, text="first", by=organizer, now=recap_at)
    # edit_decision saves with update_fields=["text"].
    services.edit_decision(decision=decision, text="_second_", by=organizer, now=recap_at)
    assert Decision.objects.get(pk=decision.pk).text_html == "<p><em>second</em></p>\n"
    item = ended.agenda_items.first()
    item.notes = "`code`"
    item.save(update_fields=["notes"])
    assert AgendaItem.objects.get(pk=item.pk).notes_html == "<p><code>code</code></p>\n"


def test_items_bulk_created_from_a_template_get_their_html(upcoming, organizer, team):
    template = AgendaTemplate.objects.create(team=team, name="Std", desired_outcome="**Ship**")
    TemplateItem.objects.create(template=template, position=0, title="Status", notes="- a\n- b")
    upcoming.desired_outcome = ""
    upcoming.save(update_fields=["desired_outcome"])
    assert apply_template(upcoming, template, by=organizer) == 1
    item = AgendaItem.objects.get(meeting=upcoming)
    assert item.notes_html == render_markdown("- a\n- b")
    row = Meeting.objects.get(pk=upcoming.pk)
    assert row.desired_outcome_html == "<p><strong>Ship</strong></p>\n"


def test_the_migration_renders_rows_written_before_it(ended, organizer):
    recap_at = ended.ends_at + timedelta(minutes=5)
    decision = services.record_decision(meeting=ended, text="*old*", by=organizer, now=recap_at)
    Decision.objects.filter(pk=decision.pk).update(text_html="")
    Meeting.objects.filter(pk=ended.pk).update(desired_outcome_html="")
    migration = importlib.import_module("meetings.migrations.0007_markdown_rendered_on_save")
    migration.render_existing(apps, None)
    assert Decision.objects.get(pk=decision.pk).text_html == "<p><em>old</em></p>\n"
    assert Meeting.objects.get(pk=ended.pk).desired_outcome_html == render_markdown(
        ended.desired_outcome
    )


def test_the_meeting_page_shows_the_stored_html_without_rendering_again(client, ended, organizer):
    """The page reads the column: what is stored is what is shown."""
    recap_at = ended.ends_at + timedelta(minutes=5)
    decision = services.record_decision(meeting=ended, text="plain", by=organizer, now=recap_at)
    Decision.objects.filter(pk=decision.pk).update(text_html="<p>stored-marker</p>")
    client.force_login(organizer)
    page = client.get(reverse("meetings:detail", args=[ended.pk])).content.decode()
    assert "<p>stored-marker</p>" in page
