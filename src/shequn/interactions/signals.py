"""Signals for the apps built on interaction data (tiers, points, …).

The interactions app must not import the apps that read it, so it announces what changed and
they recompute their derived data.
"""

from django.dispatch import Signal

# Sent once an import has committed, unless the caller asked for no recompute.
# Arguments: community, summary (ImportSummary).
events_imported = Signal()
