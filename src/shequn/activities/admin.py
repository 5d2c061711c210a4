"""Activities in the admin are read-only: they change through services, which audit."""

from typing import Any

from django.contrib import admin

from shequn.activities.models import Activity, Feedback, Guest, Registration, Ritual


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Activity)
class ActivityAdmin(ReadOnly):
    list_display = ["starts_at", "title", "community", "mode", "content_type", "status"]
    list_filter = ["community", "status", "mode", "content_type"]
    search_fields = ["title", "public_token"]
    raw_id_fields = ["organiser", "ritual"]


@admin.register(Ritual)
class RitualAdmin(ReadOnly):
    list_display = ["name", "community", "frequency", "rule", "active"]
    list_filter = ["community", "frequency", "active"]
    search_fields = ["name"]
    raw_id_fields = ["organiser"]


@admin.register(Guest)
class GuestAdmin(ReadOnly):
    list_display = ["activity", "member", "name", "role"]
    search_fields = ["name", "member__display_name"]
    raw_id_fields = ["activity", "member"]


@admin.register(Registration)
class RegistrationAdmin(ReadOnly):
    list_display = ["activity", "member", "status", "fee_status", "registered_at", "checked_in_at"]
    list_filter = ["status", "fee_status", "source"]
    search_fields = ["member__display_name", "code"]
    raw_id_fields = ["activity", "member"]
    list_select_related = ["activity", "member"]


@admin.register(Feedback)
class FeedbackAdmin(ReadOnly):
    list_display = ["registration", "rating", "updated_at"]
    raw_id_fields = ["registration"]
