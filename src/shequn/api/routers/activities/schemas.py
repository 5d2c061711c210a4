"""Request and response schemas of the activities API."""

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Path, Schema
from pydantic import ConfigDict, model_validator

MAX_ID = 2**62


CALENDAR = {"200": {"description": "An iCalendar file.", "content": {"text/calendar": {}}}}


CSV = {"200": {"description": "A CSV file.", "content": {"text/csv": {}}}}


MOMENT_HELP = (
    "ISO 8601 date and time; without an offset it is a clock time in the activity's time zone, "
    "e.g. 2024-03-07T19:30."
)


def path_id(description: str) -> Any:
    return Path(..., ge=1, le=MAX_ID, description=description)


class Strict(Schema):
    """A request body: unknown fields are refused, and so are NUL characters (a database
    cannot store them in text)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def no_nul_characters(self) -> "Strict":
        for name, value in self:
            if isinstance(value, str) and "\x00" in value:
                raise ValueError(f"{name}: NUL characters are not allowed")
        return self


class ActivityOut(Schema):
    id: int
    title: str
    description: str
    status: str
    mode: str
    content_type: str
    organiser_id: int | None
    organised_by_staff: bool
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str
    place: str
    link: str
    capacity: int | None
    fee_amount: Decimal
    currency: str
    registration_opens_at: dt.datetime | None
    registration_closes_at: dt.datetime | None
    ritual_id: int | None
    public_url: str
    confirmed: int
    waitlisted: int
    attended: int
    places_left: int | None


class GuestOut(Schema):
    id: int
    member_id: int | None
    display_name: str
    affiliation: str
    bio: str
    role: str


class ActivityDetail(ActivityOut):
    guests: list[GuestOut]


class ActivityIn(Strict):
    title: str = Field(..., max_length=200)
    description: str = Field("", max_length=100_000)
    mode: str = Field(..., max_length=16, description="online or offline")
    content_type: str = Field(..., max_length=16, description="learning, social or game")
    starts_at: str = Field(..., max_length=64, description=MOMENT_HELP)
    ends_at: str = Field(..., max_length=64, description=MOMENT_HELP)
    time_zone: str | None = Field(None, max_length=64, description="e.g. Asia/Shanghai")
    place: str = Field("", max_length=500, description="Required offline.")
    link: str = Field("", max_length=500)
    capacity: int | None = Field(None, ge=0, le=10_000_000, description="Required offline.")
    fee_amount: Decimal | None = Field(None, ge=0, le=Decimal("9999999999.99"))
    currency: str = Field("", max_length=3, description="ISO 4217, e.g. CNY")
    organiser_id: int | None = Field(None, ge=1, le=MAX_ID)
    registration_opens_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)
    registration_closes_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)


class ActivityPatch(Strict):
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=100_000)
    mode: str | None = Field(None, max_length=16)
    content_type: str | None = Field(None, max_length=16)
    starts_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)
    ends_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)
    time_zone: str | None = Field(None, max_length=64)
    place: str | None = Field(None, max_length=500)
    link: str | None = Field(None, max_length=500)
    capacity: int | None = Field(None, ge=0, le=10_000_000)
    fee_amount: Decimal | None = Field(None, ge=0, le=Decimal("9999999999.99"))
    currency: str | None = Field(None, max_length=3)
    organiser_id: int | None = Field(None, ge=1, le=MAX_ID)
    registration_opens_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)
    registration_closes_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)


class ActivityFilters(Schema):
    status: str = Field("", pattern="^(|draft|published|cancelled|done)$")
    since: dt.datetime | None = Field(None, description="Activities still running after this.")
    until: dt.datetime | None = Field(None, description="Activities starting before this.")


class CancelIn(Strict):
    reason: str = Field("", max_length=500)


class GuestIn(Strict):
    member_id: int | None = Field(None, ge=1, le=MAX_ID, description="A member, or a name.")
    name: str = Field("", max_length=200, description="A guest from outside.")
    affiliation: str = Field("", max_length=200)
    bio: str = Field("", max_length=10_000)
    role: str = Field("speaker", max_length=16, description="speaker, host or guest")


class RegistrationOut(Schema):
    id: int
    activity_id: int
    member_id: int
    display_name: str
    member_key: str
    status: str
    fee_status: str
    source: str
    code: str
    registered_at: dt.datetime
    waitlisted_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    waitlist_position: int | None


class FeeChangeOut(Schema):
    at: dt.datetime
    actor: str
    before: str | None
    after: str | None
    note: str


class FeedbackOut(Schema):
    registration_id: int
    member_id: int
    display_name: str
    rating: int
    comment: str
    created_at: dt.datetime
    updated_at: dt.datetime


class RegistrationDetail(RegistrationOut):
    fee_history: list[FeeChangeOut]
    feedback: FeedbackOut | None


class RegistrationIn(Strict):
    member_id: int | None = Field(None, ge=1, le=MAX_ID, description="A member, or name+email.")
    name: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    override: bool = Field(False, description="Even outside the registration window.")


class CancelledOut(Schema):
    registration: RegistrationOut
    promoted: list[RegistrationOut]


class FeeIn(Strict):
    fee_status: str = Field(..., max_length=16, description="unpaid, paid, refunded, waived")
    note: str = Field("", max_length=500)


class CheckInIn(Strict):
    code: str = Field(..., max_length=64)


class CheckInOut(Schema):
    already: bool
    registration: RegistrationOut


class FeedbackIn(Strict):
    rating: int = Field(..., ge=-1000, le=1000, description="1 to 5")
    comment: str = Field("", max_length=10_000)


class ReportOut(Schema):
    registered: int
    confirmed: int
    waitlisted: int
    cancelled: int
    attended: int
    capacity: int | None
    no_shows: int | None
    no_show_rate: float | None
    first_time: int
    returning: int
    rating_mean: float | None
    rating_count: int
    fee_statuses: dict[str, int]
    stay_days: int
    newcomers: list[int]
    stayed: list[int]
    pending: list[int]
    newcomers_stayed_rate: float | None


class AttendanceOut(Schema):
    rows: int
    attended: int
    checked_in: int
    already_checked_in: int
    registered: int
    members_created: int
    no_shows: int
    ignored_columns: list[str]


class RitualOut(Schema):
    id: int
    name: str
    description: str
    frequency: str
    rule: str
    first_starts_at: dt.datetime
    time_zone: str
    title: str
    duration_minutes: int
    mode: str
    content_type: str
    capacity: int | None
    fee_amount: Decimal
    currency: str
    place: str
    link: str
    organiser_id: int | None
    active: bool
    occurrences: int


class OccurrenceOut(Schema):
    activity_id: int
    title: str
    starts_at: dt.datetime
    status: str
    capacity: int | None
    registered: int
    attended: int


class RitualDetail(RitualOut):
    attendance: list[OccurrenceOut]


class RitualIn(Strict):
    name: str = Field(..., max_length=200)
    description: str = Field("", max_length=100_000)
    frequency: str = Field(..., max_length=16, description="weekly, monthly or custom")
    rule: str = Field("", max_length=500, description="An RFC 5545 RRULE (custom only).")
    first_starts_at: str = Field(..., max_length=64, description=MOMENT_HELP)
    time_zone: str | None = Field(None, max_length=64)
    title: str = Field("", max_length=200)
    duration_minutes: int = Field(60, ge=-10_000_000, le=10_000_000)
    mode: str = Field(..., max_length=16)
    content_type: str = Field(..., max_length=16)
    capacity: int | None = Field(None, ge=0, le=10_000_000)
    fee_amount: Decimal | None = Field(None, ge=0, le=Decimal("9999999999.99"))
    currency: str = Field("", max_length=3)
    place: str = Field("", max_length=500)
    link: str = Field("", max_length=500)
    organiser_id: int | None = Field(None, ge=1, le=MAX_ID)
    active: bool = True


class RitualPatch(Strict):
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=100_000)
    frequency: str | None = Field(None, max_length=16)
    rule: str | None = Field(None, max_length=500)
    first_starts_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)
    time_zone: str | None = Field(None, max_length=64)
    title: str | None = Field(None, max_length=200)
    duration_minutes: int | None = Field(None, ge=-10_000_000, le=10_000_000)
    mode: str | None = Field(None, max_length=16)
    content_type: str | None = Field(None, max_length=16)
    capacity: int | None = Field(None, ge=0, le=10_000_000)
    fee_amount: Decimal | None = Field(None, ge=0, le=Decimal("9999999999.99"))
    currency: str | None = Field(None, max_length=3)
    place: str | None = Field(None, max_length=500)
    link: str | None = Field(None, max_length=500)
    organiser_id: int | None = Field(None, ge=1, le=MAX_ID)
    active: bool | None = None


class GenerateIn(Strict):
    until: str = Field(
        ..., max_length=64, description="The last local day (2024-12-31) or a moment, included."
    )
    publish: bool = Field(True, description="Publish the new occurrences (else drafts).")


class GeneratedOut(Schema):
    created: list[ActivityOut]
