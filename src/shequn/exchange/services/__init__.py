"""Write operations of the exchange: each validates, writes in one transaction and records an
audit entry (``shequn.audit.services.record``) for what an operator did. Public submissions
are kept on the post (source "public") rather than in the operators' audit log.

A confirmed connection becomes an interaction event (kind ``connection``, from the member
with the need to the member with the offer) on the community's exchange channel, so the
network, points rules and tiers see it like any imported event.

One module per concern (as Zulip's ``zerver/actions``); callers import from here.
"""

from shequn.exchange.services.common import EXCHANGE_CHANNEL_ID, exchange_channel
from shequn.exchange.services.configuration import (
    do_close_public_form,
    do_open_public_form,
    do_update_settings,
)
from shequn.exchange.services.connections import (
    do_confirm_connection,
    do_dismiss_suggestion,
    do_record_outcome,
)
from shequn.exchange.services.posts import (
    MAX_PENDING,
    do_approve_post,
    do_close_post,
    do_create_post,
    do_reject_post,
    do_reopen_post,
    do_submit_public_post,
    do_update_post,
    move_member_posts,
)
from shequn.exchange.validation import ExchangeError

__all__ = [
    "EXCHANGE_CHANNEL_ID",
    "MAX_PENDING",
    "ExchangeError",
    "do_approve_post",
    "do_close_post",
    "do_close_public_form",
    "do_confirm_connection",
    "do_create_post",
    "do_dismiss_suggestion",
    "do_open_public_form",
    "do_record_outcome",
    "do_reject_post",
    "do_reopen_post",
    "do_submit_public_post",
    "do_update_post",
    "do_update_settings",
    "exchange_channel",
    "move_member_posts",
]
