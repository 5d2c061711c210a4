"""/communities/{slug}/…: culture (mission, values, rituals), goals with their progress and
forecast, the onboarding message, and testimonials. One module per resource; they add their
endpoints to ``router``."""

from shequn.api.routers.culture import culture, goals, onboarding, testimonials  # noqa: F401
from shequn.api.routers.culture.common import router

__all__ = ["router"]
