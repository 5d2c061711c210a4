"""Request and response schemas of the culture API."""

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Schema

from shequn.api.routers.activities.schemas import MAX_ID, Strict, path_id

__all__ = ["MAX_ID", "path_id"]

DAY_HELP = "A day, e.g. 2024-12-31 (the community's local day)."


class CultureStatusOut(Schema):
    mission: bool
    values_advocated: int
    values_opposed: int
    rituals: int = Field(description="Active rituals.")
    ritual_attendance: int = Field(description="Attendances at ritual occurrences, 90 days.")
    goals: int
    testimonials: int = Field(description="Published testimonials.")


class RitualOccurrenceOut(Schema):
    activity_id: int
    title: str
    starts_at: dt.datetime
    registered: int = Field(description="Confirmed places.")
    attended: int


class CultureRitualOut(Schema):
    id: int
    name: str
    frequency: str
    time_zone: str
    recent: list[RitualOccurrenceOut]
    occurrences: int = Field(description="Occurrences held in the last 90 days.")
    attended: int = Field(description="Attendances in the last 90 days.")
    registered: int = Field(description="Confirmed places in the last 90 days.")
    turnout: float | None
    next_starts_at: dt.datetime | None


class GoalForecastOut(Schema):
    status: str = Field(
        description="achieved, on_track, behind, missed, too_early, not_started or no_data"
    )
    target: float
    as_of: dt.date | None = Field(description="The last day with a value.")
    current: float | None
    progress: float | None = Field(description="Share of the target reached, 0 to 1.")
    days_left: int
    pace_per_day: float | None = Field(description="Least-squares slope of the last 28 days.")
    pace_per_week: float | None
    needed_per_day: float | None = Field(description="To reach the target by the deadline.")
    needed_per_week: float | None
    projected: float | None = Field(description="The value at the deadline at the current pace.")
    reached_on: dt.date | None = Field(description="When the target is reached at this pace.")
    text: str = Field(description="The forecast in words, in the request's language.")
    reason: str = Field(description="Why there is no data, if there is none.")


class GoalOut(Schema):
    id: int
    title: str
    description: str
    metric: str
    metric_text: str
    unit: str
    params: dict[str, Any]
    target: float
    start_on: dt.date
    deadline: dt.date
    owner_id: int | None
    owner_name: str | None
    public_url: str | None = Field(description="The members' progress page, while it is on.")
    status: str
    progress: float | None
    current: float | None
    forecast: GoalForecastOut
    created_at: dt.datetime
    updated_at: dt.datetime


class GoalIn(Strict):
    title: str = Field(..., max_length=200)
    description: str = Field("", max_length=10_000)
    metric: str = Field(..., max_length=64, description="A code from /goal-metrics.")
    params: dict[str, Any] = Field(default_factory=dict, description="The metric's parameters.")
    target: float = Field(..., description="More than 0 (at most 100 for a percentage).")
    start_on: str | None = Field(None, max_length=32, description=DAY_HELP + " Default: today.")
    deadline: str = Field(..., max_length=32, description=DAY_HELP)
    owner_id: int = Field(..., ge=1, le=MAX_ID, description="The member who answers for it.")


class GoalPatch(Strict):
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    metric: str | None = Field(None, max_length=64)
    params: dict[str, Any] | None = None
    target: float | None = None
    start_on: str | None = Field(None, max_length=32, description=DAY_HELP)
    deadline: str | None = Field(None, max_length=32, description=DAY_HELP)
    owner_id: int | None = Field(None, ge=1, le=MAX_ID)


class GoalProgressOut(Schema):
    goal_id: int
    unit: str
    days: list[dt.date]
    values: list[float] = Field(description="The value as of the end of each day.")
    forecast: GoalForecastOut


class GoalMetricOut(Schema):
    code: str
    label: str
    unit: str
    parameters: dict[str, str]


class CultureOut(Schema):
    mission: str
    values_advocated: list[str]
    values_opposed: list[str]
    status: CultureStatusOut
    rituals: list[CultureRitualOut]
    goals: list[GoalOut]
    testimonials: list["TestimonialOut"] = Field(description="The latest published ones.")


class CulturePatch(Strict):
    mission: str | None = Field(None, max_length=10_000)
    values_advocated: list[str] | None = Field(None, max_length=100)
    values_opposed: list[str] | None = Field(None, max_length=100)


class OnboardingTemplateOut(Schema):
    text: str
    is_default: bool
    placeholders: dict[str, str]


class OnboardingTemplateIn(Strict):
    text: str = Field(..., max_length=20_000)


class OnboardingMessageOut(Schema):
    text: str
    platform: str
    format: str = Field(description="plain, markdown, slack or telegram (MarkdownV2)")
    member_id: int | None
    empty: list[str] = Field(description="Blocks left out: nothing to say yet.")


class OnboardingMemberOut(Schema):
    id: int
    display_name: str
    joined_at: dt.datetime | None


class OnboardingPendingOut(Schema):
    count: int
    members: list[OnboardingMemberOut]


class OnboardingMarkIn(Strict):
    member_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=10_000
    )
    all: bool = Field(False, description="Every member still waiting (or who joined before).")
    joined_before: str | None = Field(None, max_length=32, description=DAY_HELP)
    platform: str = Field("", max_length=32)


class OnboardingMarkedOut(Schema):
    marked: list[int]


class TestimonialOut(Schema):
    id: int
    member_id: int
    member_name: str
    text: str
    benefit: str
    said_on: dt.date
    source: str
    consent: bool
    published: bool
    published_at: dt.datetime | None
    created_at: dt.datetime


class TestimonialIn(Strict):
    member_id: int = Field(..., ge=1, le=MAX_ID)
    text: str = Field(..., max_length=5_000)
    benefit: str = Field("other", max_length=16)
    said_on: str | None = Field(None, max_length=32, description=DAY_HELP + " Default: today.")
    source: str = Field("", max_length=500)
    consent: bool = Field(False, description="The member agreed to publish it.")
    publish: bool = Field(False, description="Publish at once (needs consent).")


class TestimonialPatch(Strict):
    member_id: int | None = Field(None, ge=1, le=MAX_ID)
    text: str | None = Field(None, max_length=5_000)
    benefit: str | None = Field(None, max_length=16)
    said_on: str | None = Field(None, max_length=32, description=DAY_HELP)
    source: str | None = Field(None, max_length=500)
    consent: bool | None = None


CultureOut.model_rebuild()
