import datetime as dt
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shequn.interactions.models import (
    ImportRun,
    InteractionEvent,
    MemberDailyRollup,
    MemberWeeklyRollup,
)
from shequn.interactions.rollups import rebuild_weekly_rollups, refresh_member_totals


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "community", "format", "source", "status", "finished_at"]
    list_filter = ["status", "format", "community"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]


@admin.register(InteractionEvent)
class InteractionEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "member", "target_member", "channel", "text_length"]
    list_filter = ["kind", "channel__platform", "community"]
    raw_id_fields = ["member", "target_member", "channel", "import_run"]
    list_select_related = ["member", "target_member", "channel"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(MemberDailyRollup)
class MemberDailyRollupAdmin(admin.ModelAdmin):
    list_display = [
        "day",
        "member",
        "messages",
        "replies_given",
        "replies_received",
        "reactions_received",
    ]
    list_filter = ["community"]
    raw_id_fields = ["member"]
    list_select_related = ["member"]

    # Counted from the events: not edited by hand (the weekly rollups and totals follow the
    # rollup writers only); a deleted row is regrouped out of its member's weeks.
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: Any, obj: Any) -> None:
        super().delete_model(request, obj)
        rebuild_weekly_rollups([obj.member_id])
        refresh_member_totals([obj.member_id])

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        members = set(queryset.values_list("member_id", flat=True))
        super().delete_queryset(request, queryset)
        rebuild_weekly_rollups(members)
        refresh_member_totals(members)

    show_full_result_count = False


@admin.register(MemberWeeklyRollup)
class MemberWeeklyRollupAdmin(admin.ModelAdmin):
    """Read-only: the rows are the daily rollups regrouped, and an edit would be overwritten
    (or, worse, read by the tier engine) until the week next changes."""

    list_display = [
        "week",
        "monday",
        "member",
        "messages",
        "contribution_days",
        "attended",
        "last_signal_day",
    ]
    list_filter = ["community"]
    raw_id_fields = ["member"]
    list_select_related = ["member"]
    show_full_result_count = False

    @admin.display(description=_("Monday"))
    def monday(self, obj: MemberWeeklyRollup) -> dt.date:
        return obj.monday

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
