"""Recurring meetings: recurrence rules, generation, "this and following" edits,
agenda templates and carry-over.

Builds on the meeting services (a generated meeting is created, moved and
canceled like any other) and on nothing above them.
"""

from __future__ import annotations

from .carryover import carry_over, carry_over_after_recap, carry_over_recent
from .editing import end_series, split_series
from .generation import create_series, generate, generate_due, horizon, next_occurrence
from .templates import apply_template, copy_template

__all__ = [
    "apply_template",
    "carry_over",
    "carry_over_after_recap",
    "carry_over_recent",
    "copy_template",
    "create_series",
    "end_series",
    "generate",
    "generate_due",
    "horizon",
    "next_occurrence",
    "split_series",
]
