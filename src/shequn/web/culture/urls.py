"""URLs of the culture and goals pages, under /c/<slug>/culture/."""

from django.urls import path

from shequn.web.culture import goals, onboarding, pages, testimonials

GOAL = "goals/<int:goal_id>/"
TESTIMONIAL = "testimonials/<int:testimonial_id>/"

urlpatterns = [
    path("", pages.culture, name="culture"),
    path("edit/", pages.culture_edit, name="culture_edit"),
    path("goals/new/", goals.goal_new, name="goal_new"),
    path(GOAL, goals.goal, name="goal"),
    path(f"{GOAL}edit/", goals.goal_edit, name="goal_edit"),
    path(f"{GOAL}delete/", goals.goal_delete, name="goal_delete"),
    path(f"{GOAL}publish/", goals.goal_publish, name="goal_publish"),
    path(f"{GOAL}unpublish/", goals.goal_unpublish, name="goal_unpublish"),
    path("testimonials/", testimonials.testimonials, name="testimonials"),
    path("testimonials/new/", testimonials.testimonial_new, name="testimonial_new"),
    path(f"{TESTIMONIAL}edit/", testimonials.testimonial_edit, name="testimonial_edit"),
    path(f"{TESTIMONIAL}publish/", testimonials.testimonial_publish, name="testimonial_publish"),
    path(
        f"{TESTIMONIAL}unpublish/",
        testimonials.testimonial_unpublish,
        name="testimonial_unpublish",
    ),
    path(f"{TESTIMONIAL}delete/", testimonials.testimonial_delete, name="testimonial_delete"),
    path("onboarding/", onboarding.onboarding, name="onboarding"),
    path("onboarding/template/", onboarding.template_save, name="onboarding_template"),
    path("onboarding/template/reset/", onboarding.template_reset, name="onboarding_reset"),
    path("onboarding/mark/", onboarding.mark, name="onboarding_mark"),
    path("onboarding/mark-all/", onboarding.mark_all, name="onboarding_mark_all"),
    path("onboarding/<int:member_id>/unmark/", onboarding.unmark, name="onboarding_unmark"),
]
