"""The business model in the admin is read-only: it changes through services, which audit."""

from typing import Any

from django.contrib import admin

from shequn.commerce.models import Cost, Offer, Purchase, Refund


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Offer)
class OfferAdmin(ReadOnly):
    list_display = ["name", "community", "kind", "price", "currency", "active"]
    list_filter = ["community", "kind", "active"]
    search_fields = ["name", "code"]
    raw_id_fields = ["activity"]


@admin.register(Purchase)
class PurchaseAdmin(ReadOnly):
    list_display = ["purchased_at", "member", "offer", "amount", "refunded_amount", "currency"]
    list_filter = ["community", "origin", "currency"]
    search_fields = ["order_id", "member__display_name", "source"]
    raw_id_fields = ["member", "offer"]


@admin.register(Refund)
class RefundAdmin(ReadOnly):
    list_display = ["refunded_at", "purchase", "amount", "reason"]
    raw_id_fields = ["purchase"]


@admin.register(Cost)
class CostAdmin(ReadOnly):
    list_display = ["month", "community", "category", "amount", "currency"]
    list_filter = ["community", "category", "currency"]
