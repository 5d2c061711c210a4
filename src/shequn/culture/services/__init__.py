"""Write operations of culture: each validates, writes in one transaction and records an audit
entry (``shequn.audit.services.record``). Refused input raises a ``CultureError`` subclass
naming the field at fault and changes nothing. One module per concern; import from here."""

from shequn.culture.errors import CultureError, GoalError, OnboardingError, TestimonialError
from shequn.culture.services.culture import do_update_culture
from shequn.culture.services.goals import (
    clean_goal,
    do_create_goal,
    do_delete_goal,
    do_publish_goal,
    do_unpublish_goal,
    do_update_goal,
    parse_params,
)
from shequn.culture.services.merging import move_member_rows
from shequn.culture.services.onboarding import (
    do_mark_all_onboarded,
    do_mark_onboarded,
    do_reset_onboarding_template,
    do_save_onboarding_template,
    do_unmark_onboarded,
)
from shequn.culture.services.testimonials import (
    do_delete_testimonial,
    do_publish_testimonial,
    do_record_testimonial,
    do_unpublish_testimonial,
    do_update_testimonial,
)

__all__ = [
    "CultureError",
    "GoalError",
    "OnboardingError",
    "TestimonialError",
    "clean_goal",
    "do_create_goal",
    "do_delete_goal",
    "do_delete_testimonial",
    "do_mark_all_onboarded",
    "do_mark_onboarded",
    "do_publish_goal",
    "do_publish_testimonial",
    "do_record_testimonial",
    "do_reset_onboarding_template",
    "do_save_onboarding_template",
    "do_unmark_onboarded",
    "do_unpublish_goal",
    "do_unpublish_testimonial",
    "do_update_culture",
    "do_update_goal",
    "do_update_testimonial",
    "move_member_rows",
    "parse_params",
]
