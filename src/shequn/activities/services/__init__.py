"""Write operations on activities and rituals: each validates, writes in one transaction and
records an audit entry (``shequn.audit.services.record``) for what an operator did.

Places are never oversold: every change to an activity's registrations first locks the
activity (a row lock on PostgreSQL; on SQLite an UPDATE of the row, which takes the database's
write lock), then counts and writes in the same transaction. What members do for themselves
(``self_service=True``: registering, cancelling, rating) is kept on the registration rather
than in the operators' audit log; fee changes are always audited.

Attendance becomes interaction events (kind ``attend``) on the community's activities channel,
so daily rollups, points rules and tiers see it like any imported event: events of one activity
share ``thread_source_id = "activity-<id>"``, which is how co-attendance ties are found.

One module per concern (as Zulip's ``zerver/actions``); callers import from here.
"""

from shequn.activities.services.attendance import AttendanceImportResult, do_import_attendance
from shequn.activities.services.checkin import CheckInResult, do_check_in
from shequn.activities.services.common import (
    ACTIVITY_CHANNEL_ID,
    FEEDBACK_DAYS,
    activity_channel,
    normalise_code,
)
from shequn.activities.services.feedback import do_leave_feedback
from shequn.activities.services.guests import do_add_guest, do_remove_guest
from shequn.activities.services.lifecycle import (
    do_cancel_activity,
    do_complete_activity,
    do_create_activity,
    do_delete_activity,
    do_publish_activity,
    do_update_activity,
)
from shequn.activities.services.merging import move_member_rows
from shequn.activities.services.registrations import (
    FEE_MOVES,
    check_registration_open,
    do_cancel_registration,
    do_register,
    do_register_contact,
    do_set_fee_status,
)
from shequn.activities.services.rituals import (
    do_create_ritual,
    do_generate_occurrences,
    do_update_ritual,
)
from shequn.activities.validation import ActivityError, CheckInError, RegistrationError, RitualError

__all__ = [
    "ACTIVITY_CHANNEL_ID",
    "FEEDBACK_DAYS",
    "FEE_MOVES",
    "ActivityError",
    "AttendanceImportResult",
    "CheckInError",
    "CheckInResult",
    "RegistrationError",
    "RitualError",
    "activity_channel",
    "check_registration_open",
    "do_add_guest",
    "do_cancel_activity",
    "do_cancel_registration",
    "do_check_in",
    "do_complete_activity",
    "do_create_activity",
    "do_create_ritual",
    "do_delete_activity",
    "do_generate_occurrences",
    "do_import_attendance",
    "do_leave_feedback",
    "do_publish_activity",
    "do_register",
    "do_register_contact",
    "do_remove_guest",
    "do_set_fee_status",
    "do_update_activity",
    "do_update_ritual",
    "move_member_rows",
    "normalise_code",
]
