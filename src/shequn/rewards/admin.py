"""The ledger in the admin is read-only: entries are appended by services, never edited."""

from typing import Any

from django.contrib import admin

from shequn.rewards.models import LevelScheme, LevelUp, MemberPoints, PointEntry, PointRule


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(PointRule)
class PointRuleAdmin(ReadOnly):
    """Rules change through the web app, the API or TOML files, so changes are audited."""

    list_display = ["community", "key", "event_kind", "amount", "beneficiary", "enabled"]
    list_filter = ["community", "event_kind", "enabled"]
    search_fields = ["key", "name"]


@admin.register(PointEntry)
class PointEntryAdmin(ReadOnly):
    list_display = ["occurred_at", "member", "amount", "kind", "rule_key", "reason"]
    list_filter = ["community", "kind"]
    search_fields = ["member__display_name", "reason", "idempotency_key"]
    raw_id_fields = ["member", "source_event", "reverses"]
    list_select_related = ["member"]


@admin.register(MemberPoints)
class MemberPointsAdmin(ReadOnly):
    list_display = ["member", "community", "balance", "level", "updated_at"]
    list_filter = ["community"]
    search_fields = ["member__display_name"]
    list_select_related = ["member", "community"]


@admin.register(LevelScheme)
class LevelSchemeAdmin(ReadOnly):
    list_display = ["community", "kind", "a", "b", "c", "updated_at"]


@admin.register(LevelUp)
class LevelUpAdmin(ReadOnly):
    list_display = ["reached_at", "member", "level", "name"]
    list_filter = ["community"]
    search_fields = ["member__display_name"]
    list_select_related = ["member"]
