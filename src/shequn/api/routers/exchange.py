"""/communities/{slug}/…: needs and offers."""

from ninja import Router

router = Router(tags=["exchange"])
