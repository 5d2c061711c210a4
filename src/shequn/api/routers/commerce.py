"""/communities/{slug}/…: business model."""

from ninja import Router

router = Router(tags=["commerce"])
