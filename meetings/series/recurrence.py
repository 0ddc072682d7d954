"""Recurrence rules: built from form choices, validated, expanded in local wall-clock time.

A series stores an RFC 5545 RRULE, the naive *local* start of its first
occurrence and an IANA zone. Expansion runs dateutil on the naive local times
and only then attaches the zone, so a weekly 09:00 stays 09:00 local on both
sides of a DST change (expanding in UTC would drift by the DST offset).
UNTIL is therefore a local "floating" time too, as RFC 5545 asks when DTSTART
is floating.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from dateutil import rrule as du

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_FULL = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}

WEEKLY = "weekly"
MONTHLY = "monthly"
# Anything more frequent than daily would let one series flood the database.
ALLOWED_FREQS = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
MAX_COUNT = 500


class InvalidRule(ValueError):
    """The rule text cannot be used; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class Repeat:
    """What the "Repeats" part of a form chose."""

    frequency: str  # WEEKLY or MONTHLY
    interval: int = 1
    weekdays: tuple[int, ...] = field(default=())  # 0 = Monday, for weekly
    ordinal: int = 1  # 1..4 or -1 (last), for monthly
    weekday: int = 0  # for monthly
    until: date | None = None
    count: int | None = None


def build_rrule(repeat: Repeat, first_start: datetime) -> str:
    """The RRULE text for `repeat`, anchored at the naive local `first_start`."""
    if repeat.interval < 1:
        raise InvalidRule("Repeat every 1 or more weeks or months.")
    if repeat.until and repeat.count:
        raise InvalidRule("Give an end date or a number of meetings, not both.")
    parts: list[str]
    if repeat.frequency == WEEKLY:
        days = sorted(set(repeat.weekdays)) or [first_start.weekday()]
        parts = ["FREQ=WEEKLY"]
        if repeat.interval > 1:
            parts.append(f"INTERVAL={repeat.interval}")
        parts.append("BYDAY=" + ",".join(WEEKDAY_CODES[d] for d in days))
        # Without WKST, "every 2 weeks on Sun and Mon" depends on the parser's default.
        if repeat.interval > 1:
            parts.append("WKST=MO")
    elif repeat.frequency == MONTHLY:
        if repeat.ordinal not in ORDINALS:
            raise InvalidRule("Pick the first, second, third, fourth or last weekday.")
        parts = ["FREQ=MONTHLY"]
        if repeat.interval > 1:
            parts.append(f"INTERVAL={repeat.interval}")
        parts.append(f"BYDAY={repeat.ordinal}{WEEKDAY_CODES[repeat.weekday]}")
    else:
        raise InvalidRule("Repeat weekly or monthly.")
    if repeat.count:
        if not 1 <= repeat.count <= MAX_COUNT:
            raise InvalidRule(f"A series has between 1 and {MAX_COUNT} meetings.")
        parts.append(f"COUNT={repeat.count}")
    elif repeat.until:
        if repeat.until < first_start.date():
            raise InvalidRule("The end date is before the first meeting.")
        parts.append("UNTIL=" + _until_text(datetime.combine(repeat.until, time(23, 59, 59))))
    text = ";".join(parts)
    parse(text, first_start)  # refuse a rule that never produces a meeting
    return text


def _until_text(local: datetime) -> str:
    return local.strftime("%Y%m%dT%H%M%S")


def parse(text: str, first_start: datetime) -> du.rrule:
    """A dateutil rule for naive local times; InvalidRule with a readable reason."""
    text = text.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text:
        raise InvalidRule("A series needs a recurrence rule.")
    if first_start.tzinfo is not None:
        raise InvalidRule("The first start must be a local (naive) time.")
    params = dict(part.partition("=")[::2] for part in text.upper().split(";") if part)
    if params.get("FREQ") not in ALLOWED_FREQS:
        raise InvalidRule("A series repeats daily, weekly, monthly or yearly.")
    if "UNTIL" in params and params["UNTIL"].endswith("Z"):
        raise InvalidRule("UNTIL must be a local time (no Z): the series is kept in its zone.")
    if "COUNT" in params and not (params["COUNT"].isascii() and params["COUNT"].isdigit()):
        raise InvalidRule("COUNT must be a whole number.")
    if "COUNT" in params and int(params["COUNT"]) > MAX_COUNT:
        raise InvalidRule(f"A series has at most {MAX_COUNT} meetings.")
    try:
        rule = du.rrulestr(text, dtstart=first_start)
    except (ValueError, TypeError) as exc:
        raise InvalidRule(f"That recurrence rule cannot be read: {exc}") from None
    if not isinstance(rule, du.rrule):
        raise InvalidRule("Give one recurrence rule.")
    if rule.after(first_start, inc=True) is None:
        raise InvalidRule("This rule never produces a meeting.")
    return rule


def to_utc(local: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """Attach `zone` to a naive local time and convert to UTC.

    An ambiguous time (the repeated hour in autumn) takes the first instance
    (fold=0). A time that does not exist that day (the skipped hour in spring)
    comes out moved forward by the gap, which is what calendar apps do too.
    """
    return local.replace(tzinfo=zone).astimezone(UTC)


def occurrences(
    text: str,
    first_start: datetime,
    time_zone: str,
    *,
    after: datetime,
    until: datetime,
    inclusive: bool = False,
) -> list[tuple[datetime, datetime]]:
    """Occurrences starting in (after, until] (or [after, until]) as (local naive, UTC).

    `after` and `until` are aware datetimes. The local window is widened by a
    day on each side because the UTC offset is not known before expansion.
    """
    zone = zoneinfo.ZoneInfo(time_zone)
    rule = parse(text, first_start)
    lo = after.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    hi = until.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    found = []
    for local in rule.between(lo, hi, inc=True):
        moment = to_utc(local, zone)
        if (after <= moment if inclusive else after < moment) and moment <= until:
            found.append((local, moment))
    return found


def occurrences_before(text: str, first_start: datetime, local: datetime) -> int:
    """How many occurrences start before the naive local time `local`."""
    rule = parse(text, first_start)
    return len(rule.between(first_start, local, inc=True)) - (1 if local in rule else 0)


def end_before(text: str, first_start: datetime, local: datetime) -> str:
    """The rule cut so that its last occurrence is before the naive local `local`.

    Used to split a series: the old part keeps its occurrences before the split.
    """
    rule = parse(text, first_start)
    parts = [p for p in text.split(";") if p and p.split("=")[0].upper() not in {"UNTIL", "COUNT"}]
    done = rule.between(first_start, local - timedelta(seconds=1), inc=True)
    if not done:
        raise InvalidRule("Nothing of the series would be left before this meeting.")
    parts.append("UNTIL=" + _until_text(done[-1]))
    return ";".join(parts)


def describe(text: str, first_start: datetime) -> str:
    """A human reading of the rule: "Every 2 weeks on Tue and Thu, 10 times"."""
    try:
        rule = parse(text, first_start)
    except InvalidRule:
        return text
    params = dict(p.partition("=")[::2] for p in text.upper().split(";") if p)
    interval = int(params.get("INTERVAL", "1") or 1)
    freq = params["FREQ"]
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}[freq]
    head = (
        f"Every {interval} {unit}s"
        if interval > 1
        else {
            "DAILY": "Daily",
            "WEEKLY": "Weekly",
            "MONTHLY": "Monthly",
            "YEARLY": "Yearly",
        }[freq]
    )
    days = [d for d in params.get("BYDAY", "").split(",") if d]
    if days and freq == "WEEKLY":
        labels = [WEEKDAY_LABELS[WEEKDAY_CODES.index(d[-2:])] for d in days]
        head += " on " + _join(labels)
    elif days and freq == "MONTHLY":
        day = days[0]
        ordinal = int(day[:-2] or 1)
        name = WEEKDAY_FULL[WEEKDAY_CODES.index(day[-2:])]
        head += f" on the {ORDINALS.get(ordinal, ordinal)} {name}"
    head += f" at {first_start:%H:%M}"
    if "COUNT" in params:
        head += f", {rule.count()} times"
    elif "UNTIL" in params:
        last = rule[-1] if rule.count() else first_start
        head += f", until {last:%a %-d %b %Y}"
    return head


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
