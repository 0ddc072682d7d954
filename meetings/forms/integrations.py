"""Forms of the integrations pages: a webhook, a chat channel, and their edits.

The URL is checked by the same guard delivery uses (`safe_urls.check_url`), so an
admin is told at once why an address cannot be posted to; delivery checks again.
"""

from __future__ import annotations

from django import forms

from ..models import CHAT_EVENTS, CHAT_KINDS, Endpoint, EventType
from ..notifications.safe_urls import UnsafeURL, check_url
from ..services.integrations import DUPLICATE_NAME

CHAT_ONLY = (
    "A chat channel gets events for the whole team only; reminders addressed to "
    "one person stay in e-mail."
)


class EndpointForm(forms.Form):
    """Name, URL and events of a webhook; `ChannelForm` narrows it for chat."""

    name = forms.CharField(label="Name", max_length=80, help_text="Unique within the team.")
    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",
        help_text="An https:// address on the public internet; Bookend POSTs JSON to it.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one event."},
    )

    def __init__(self, *args, team_id: int, endpoint: Endpoint | None = None, **kwargs) -> None:
        self.team_id = team_id
        self.endpoint = endpoint
        if endpoint is not None:
            kwargs.setdefault(
                "initial", {"name": endpoint.name, "url": endpoint.url, "events": endpoint.events}
            )
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = Endpoint.objects.filter(team_id=self.team_id, name=name)
        if self.endpoint is not None:
            taken = taken.exclude(pk=self.endpoint.pk)
        if taken.exists():
            raise forms.ValidationError(DUPLICATE_NAME)
        return name

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_url(url)
        except UnsafeURL as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


class ChannelForm(EndpointForm):
    """A chat channel: its product, and only the team-wide events."""

    kind = forms.ChoiceField(
        label="Product",
        choices=[(k.value, k.label) for k in CHAT_KINDS],
        widget=forms.RadioSelect,
    )
    field_order = ["kind", "name", "url", "events"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["url"].label = "Incoming webhook URL"
        self.fields[
            "url"
        ].help_text = "The channel's incoming-webhook address, from the product's settings."
        events = self.fields["events"]
        events.choices = [(e.value, e.label) for e in CHAT_EVENTS]
        events.help_text = CHAT_ONLY
        events.error_messages["invalid_choice"] = CHAT_ONLY
        if self.endpoint is not None:
            # The product is fixed once the channel exists: its URL belongs to it.
            del self.fields["kind"]
