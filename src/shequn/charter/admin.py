"""The charter in the admin is read-only: it changes through services, which audit."""

from typing import Any

from django.contrib import admin

from shequn.charter.models import Acknowledgement, CharterRule, CharterVersion, Reward, Violation


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(CharterVersion)
class CharterVersionAdmin(ReadOnly):
    list_display = ["community", "number", "published_at", "note"]
    list_filter = ["community"]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnly):
    list_display = ["version", "member", "via", "acknowledged_at"]
    raw_id_fields = ["member", "version"]


@admin.register(CharterRule)
class CharterRuleAdmin(ReadOnly):
    list_display = ["community", "key", "kind", "consequence", "points", "enabled"]
    list_filter = ["community", "kind", "enabled"]


@admin.register(Violation)
class ViolationAdmin(ReadOnly):
    list_display = ["occurred_at", "rule", "member", "consequence", "points", "status"]
    list_filter = ["community", "status", "consequence"]
    raw_id_fields = ["member", "event", "penalty_entry", "reversal_entry"]


@admin.register(Reward)
class RewardAdmin(ReadOnly):
    list_display = ["occurred_at", "rule", "member", "points"]
    list_filter = ["community"]
    raw_id_fields = ["member", "event", "entry"]
