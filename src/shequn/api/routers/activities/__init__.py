"""/communities/{slug}/activities and /rituals: activities with their guests, registrations
(waitlist, fees, check-in), feedback, report, calendar files and CSV; rituals and their
occurrences. Operators change, everyone with access reads; every change goes through
``shequn.activities.services``. A refused change answers 422 with one ``errors`` item per field
at fault (``loc: ["body", field]``) and nothing is written.

One module per concern; importing them registers their endpoints on ``router``.
"""

from shequn.api.routers.activities import activities, registrations, rituals  # noqa: F401
from shequn.api.routers.activities.common import router

__all__ = ["router"]
