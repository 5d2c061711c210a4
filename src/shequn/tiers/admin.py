from typing import Any

from django.contrib import admin

from shequn.tiers.models import MemberTier, TierChange, TierPolicy, TierRun


@admin.register(TierPolicy)
class TierPolicyAdmin(admin.ModelAdmin):
    list_display = ["community", "window_weeks", "lapse_days", "downgrade_cadence", "updated_at"]
    readonly_fields = ["updated_at"]


@admin.register(MemberTier)
class MemberTierAdmin(admin.ModelAdmin):
    """Derived data: shown for inspection; a recompute rewrites it."""

    list_display = ["member", "community", "tier", "since", "at_risk", "is_staff", "evaluated_on"]
    list_filter = ["community", "tier", "at_risk", "is_staff"]
    search_fields = ["member__display_name"]
    raw_id_fields = ["member"]
    list_select_related = ["member", "community"]

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(TierChange)
class TierChangeAdmin(admin.ModelAdmin):
    list_display = ["changed_on", "member", "from_tier", "to_tier"]
    list_filter = ["community", "to_tier"]
    search_fields = ["member__display_name"]
    raw_id_fields = ["member"]
    list_select_related = ["member"]

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(TierRun)
class TierRunAdmin(admin.ModelAdmin):
    list_display = ["community", "as_of", "full", "evaluated", "changed", "started_at"]
    list_filter = ["community", "full"]
