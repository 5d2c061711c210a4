"""/communities/{slug}/…: culture and goals."""

from ninja import Router

router = Router(tags=["culture"])
