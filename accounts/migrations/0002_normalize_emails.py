"""Stored e-mail addresses in their one normalized form (accounts.models.normalize_email).

Refuses to run, naming them, when two accounts would end up with the same
address: merging people is a decision for a person, not for a migration.
"""

import unicodedata

from django.db import migrations


def normalized(value: str) -> str:
    # A frozen copy of accounts.models.normalize_email as of this migration.
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    text = text.strip()
    local, at, domain = text.rpartition("@")
    return f"{local}@{domain.rstrip('.')}" if at else text


def normalize(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Invitation = apps.get_model("accounts", "Invitation")
    by_address: dict[str, list[str]] = {}
    for email in User.objects.values_list("email", flat=True):
        by_address.setdefault(normalized(email), []).append(email)
    clashes = {key: emails for key, emails in by_address.items() if len(emails) > 1}
    if clashes:
        listed = "; ".join(" and ".join(emails) for emails in clashes.values())
        raise RuntimeError(
            f"These accounts would share one e-mail address once normalized: {listed}. "
            "Change or merge them first (in the admin), then run the migration again."
        )
    for user in User.objects.all():
        email = normalized(user.email)
        if email != user.email:
            User.objects.filter(pk=user.pk).update(email=email)
    open_invitations: set[tuple[int, str]] = set()
    for invitation in Invitation.objects.order_by("-created_at", "-pk"):
        email = normalized(invitation.email)
        key = (invitation.team_id, email)
        if invitation.accepted_at is None and key in open_invitations:
            # An older open invitation to the same mailbox: the newer one stands.
            invitation.delete()
            continue
        if invitation.accepted_at is None:
            open_invitations.add(key)
        if email != invitation.email:
            Invitation.objects.filter(pk=invitation.pk).update(email=email)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(normalize, migrations.RunPython.noop)]
