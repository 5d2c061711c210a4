"""Culture in the admin is read-only: it changes through services, which audit."""

from typing import Any

from django.contrib import admin

from shequn.culture.models import Goal, Onboarding, OnboardingTemplate, Testimonial


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Goal)
class GoalAdmin(ReadOnly):
    list_display = ["title", "community", "metric", "target", "start_on", "deadline"]
    list_filter = ["community", "metric"]
    search_fields = ["title"]
    raw_id_fields = ["owner"]


@admin.register(Testimonial)
class TestimonialAdmin(ReadOnly):
    list_display = ["said_on", "member", "community", "benefit", "consent", "published_at"]
    list_filter = ["community", "benefit"]
    raw_id_fields = ["member"]


@admin.register(OnboardingTemplate)
class OnboardingTemplateAdmin(ReadOnly):
    list_display = ["community", "updated_at"]


@admin.register(Onboarding)
class OnboardingAdmin(ReadOnly):
    list_display = ["member", "community", "platform", "onboarded_at"]
    raw_id_fields = ["member"]
