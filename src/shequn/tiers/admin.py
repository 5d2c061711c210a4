from typing import Any

from django.contrib import admin

from shequn.tiers.models import MemberTier, TierChange, TierPolicy, TierRun


@admin.register(TierPolicy)
class TierPolicyAdmin(admin.ModelAdmin):
    list_display = ["community", "window_weeks", "lapse_days", "downgrade_cadence", "updated_at"]
    readonly_fields = ["updated_at"]


class _DerivedAdmin(admin.ModelAdmin):
    """Derived data: shown for inspection, never edited (a full run trusts the fingerprints
    stored with the rows, so an edit would stay). A row deleted here (or with its member) is
    written again by the next full run: its member's fingerprints are cleared."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: Any, obj: Any) -> None:
        super().delete_model(request, obj)
        MemberTier.objects.filter(member_id=obj.member_id).update(path_digest=None)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        members = set(queryset.values_list("member_id", flat=True))
        super().delete_queryset(request, queryset)
        MemberTier.objects.filter(member_id__in=members).update(path_digest=None)


@admin.register(MemberTier)
class MemberTierAdmin(_DerivedAdmin):
    list_display = ["member", "community", "tier", "since", "at_risk", "is_staff", "evaluated_on"]
    list_filter = ["community", "tier", "at_risk", "is_staff"]
    search_fields = ["member__display_name"]
    raw_id_fields = ["member"]
    list_select_related = ["member", "community"]


@admin.register(TierChange)
class TierChangeAdmin(_DerivedAdmin):
    list_display = ["changed_on", "member", "from_tier", "to_tier"]
    list_filter = ["community", "to_tier"]
    search_fields = ["member__display_name"]
    raw_id_fields = ["member"]
    list_select_related = ["member"]


@admin.register(TierRun)
class TierRunAdmin(admin.ModelAdmin):
    list_display = ["community", "as_of", "full", "evaluated", "changed", "started_at"]
    list_filter = ["community", "full"]
