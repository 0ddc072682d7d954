"""The time zones people pick from: canonical IANA names, grouped by region.

`zoneinfo.available_timezones()` also holds legacy aliases and links kept for
old software ("US/Eastern", "Zulu", "Etc/GMT+5", "localtime"): valid when read
back, but noise in a picker. The tz database's own `zone.tab` lists each
country's zones under their canonical names; that list plus UTC is what the
picker offers. It comes from the `tzdata` package (the zones Python reads
when the system has none), else from the system's copy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from .models import available_time_zones

UTC_NAME = "UTC"
SYSTEM_ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")


def _zone_tab() -> str:
    try:
        return resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return SYSTEM_ZONE_TAB.read_text("utf-8")


@cache
def canonical_time_zones() -> tuple[str, ...]:
    """Sorted canonical zone names that this Python can load, plus UTC."""
    names = {UTC_NAME}
    for line in _zone_tab().splitlines():
        if line and not line.startswith("#"):
            names.add(line.split("\t")[2])
    return tuple(sorted(names & available_time_zones()))


def region(name: str) -> str:
    return name.split("/", 1)[0] if "/" in name else "Other"


def label(name: str, now: datetime) -> str:
    """ "America/Argentina/Buenos_Aires" -> "Buenos Aires, Argentina (UTC−03:00)"."""
    parts = name.replace("_", " ").split("/")[1:] or [name]
    place = ", ".join(reversed(parts))
    return f"{place} ({utc_offset(name, now)})"


def utc_offset(name: str, now: datetime) -> str:
    offset = now.astimezone(ZoneInfo(name)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def grouped_choices(now: datetime, extra: tuple[str, ...] = ()) -> list:
    """Choices for a <select> with one <optgroup> per region, UTC first.

    `extra` holds valid names outside the canonical list that must stay
    selectable (a profile saved with "Asia/Calcutta" before this list existed).
    Labels show each zone's offset now; they are built once per hour (offsets
    change on DST dates, at whole hours in all but a handful of zones).
    """
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    extra = tuple(n for n in extra if n not in canonical_time_zones())
    return _grouped(hour, extra)


@lru_cache(maxsize=8)
def _grouped(now: datetime, extra: tuple[str, ...]) -> list:
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in (*canonical_time_zones(), *extra):
        if name == UTC_NAME:
            continue
        groups.setdefault(region(name), []).append((name, label(name, now)))
    return [(UTC_NAME, f"UTC ({utc_offset(UTC_NAME, now)})")] + [
        (group, sorted(groups[group], key=lambda choice: choice[1])) for group in sorted(groups)
    ]
