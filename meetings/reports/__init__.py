"""Figures about meetings: compliance (per team, organizer and week), its chart,
and the staff dashboard's list of unrecapped meetings. Reads only."""
