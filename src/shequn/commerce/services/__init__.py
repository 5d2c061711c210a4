"""Write operations of the business model: each validates, writes in one transaction and
records an audit entry (``shequn.audit.services.record``).

Purchases are never edited or deleted; money given back is a refund (its own row). Order
files import all or nothing and are idempotent by order id. One module per concern; callers
import from here.
"""

from shequn.commerce.services.costs import MAX_REPEAT, do_add_cost, do_delete_cost
from shequn.commerce.services.importing import (
    PURCHASES_CHANNEL_ID,
    PurchaseImportResult,
    do_import_purchases,
)
from shequn.commerce.services.merging import move_member_purchases
from shequn.commerce.services.offers import do_create_offer, do_set_offer_active, do_update_offer
from shequn.commerce.services.purchases import (
    PURCHASE_FIELDS,
    clean_purchase,
    do_record_purchase,
    do_refund_purchase,
)
from shequn.commerce.services.tickets import TicketImportResult, do_import_activity_tickets
from shequn.commerce.validation import CommerceError

__all__ = [
    "MAX_REPEAT",
    "PURCHASES_CHANNEL_ID",
    "PURCHASE_FIELDS",
    "CommerceError",
    "PurchaseImportResult",
    "TicketImportResult",
    "clean_purchase",
    "do_add_cost",
    "do_create_offer",
    "do_delete_cost",
    "do_import_activity_tickets",
    "do_import_purchases",
    "do_record_purchase",
    "do_refund_purchase",
    "do_set_offer_active",
    "do_update_offer",
    "move_member_purchases",
]
