"""The exchange in the admin is read-only: it changes through services, which audit."""

from typing import Any

from django.contrib import admin

from shequn.exchange.models import Connection, DismissedPair, ExchangeSettings, Post, PostTag


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class TagInline(admin.TabularInline):
    model = PostTag
    extra = 0
    can_delete = False
    readonly_fields = ["name", "position"]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Post)
class PostAdmin(ReadOnly):
    list_display = ["created_at", "kind", "title", "community", "member", "status", "source"]
    list_filter = ["community", "kind", "status", "source"]
    search_fields = ["title", "description", "submitter_name", "submitter_contact"]
    raw_id_fields = ["member"]
    inlines = [TagInline]


@admin.register(Connection)
class ConnectionAdmin(ReadOnly):
    list_display = ["confirmed_at", "community", "need", "offer", "score", "outcome"]
    list_filter = ["community", "outcome"]
    raw_id_fields = ["need", "offer", "event"]


@admin.register(ExchangeSettings)
class ExchangeSettingsAdmin(ReadOnly):
    list_display = ["community", "points_for_offer", "points_for_need", "min_score"]


@admin.register(DismissedPair)
class DismissedPairAdmin(ReadOnly):
    list_display = ["dismissed_at", "need", "offer"]
    raw_id_fields = ["need", "offer"]
