"""Signals sent by member merges, so apps holding rows about members can follow them."""

from django.dispatch import Signal

# Sent inside the merge's transaction before the source member is deleted: receivers move rows
# that must survive it, and answer with a ``members.merging.MergeMoves`` saying which (so an
# un-merge gives them back). Arguments: source (Member), target (Member).
member_merging = Signal()
# Sent inside the transaction after a merge or un-merge has moved accounts and events.
# Arguments: community_id, member_ids (the members whose events changed).
members_changed = Signal()
