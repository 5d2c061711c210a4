"""Read queries on activities: calendars, registrations, an activity's report, a community's
mix and turnout, a ritual's attendance over time and the co-attendance ties of the network.

Every figure is computed by the database in a few queries, whatever the number of people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from shequn.activities.models import Activity, ContentKind, Guest, Mode, Registration, Ritual
from shequn.audit.models import AuditEntry
from shequn.communities.models import Community
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member

# Activities that took (or take) place: not drafts, not cancelled.
HELD = (Activity.Status.PUBLISHED, Activity.Status.DONE)
PUBLIC = (Activity.Status.PUBLISHED, Activity.Status.CANCELLED, Activity.Status.DONE)
CONFIRMED = Registration.Status.CONFIRMED
WAITLISTED = Registration.Status.WAITLISTED
CANCELLED = Registration.Status.CANCELLED
# How long after an activity a newcomer must still be around to count as having stayed.
STAY_DAYS = 30


def with_counts(activities: QuerySet[Activity]) -> QuerySet[Activity]:
    """Annotate ``confirmed``, ``waitlisted`` and ``attended`` (one grouped query)."""
    return activities.annotate(
        confirmed=Count("registrations", filter=Q(registrations__status=CONFIRMED)),
        waitlisted=Count("registrations", filter=Q(registrations__status=WAITLISTED)),
        attended=Count("registrations", filter=Q(registrations__checked_in_at__isnull=False)),
    )


def community_activities(
    community: Community,
    *,
    statuses: tuple[str, ...] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Activity]:
    """The community's activities overlapping [since, until), by start, with their counts."""
    activities = Activity.objects.filter(community=community)
    if statuses is not None:
        activities = activities.filter(status__in=statuses)
    if since is not None:
        activities = activities.filter(ends_at__gt=since)
    if until is not None:
        activities = activities.filter(starts_at__lt=until)
    return with_counts(activities.select_related("organiser", "ritual")).order_by("starts_at", "id")


def upcoming_activities(
    community: Community,
    *,
    now: dt.datetime | None = None,
    limit: int | None = None,
    include_drafts: bool = False,
) -> list[Activity]:
    """Activities not over yet (running ones included), soonest first: the calendar."""
    statuses = (Activity.Status.DRAFT, *PUBLIC) if include_drafts else PUBLIC
    activities = community_activities(
        community, statuses=statuses, since=now or timezone.now()
    ).exclude(status=Activity.Status.DONE)
    return list(activities[:limit] if limit else activities)


def public_activity(token: str) -> Activity | None:
    """The activity a public link names; drafts are not public."""
    return (
        Activity.objects.filter(public_token=token, status__in=PUBLIC)
        .select_related("community", "organiser")
        .first()
    )


def activity_guests(activity: Activity) -> QuerySet[Guest]:
    return activity.guests.select_related("member").order_by("id")


def activity_registrations(
    activity: Activity, *, status: str | None = None
) -> QuerySet[Registration]:
    """Registrations with their members: confirmed first (in the order they got a place),
    then the waitlist in its order, then cancelled ones."""
    registrations = Registration.objects.filter(activity=activity).select_related("member")
    if status is not None:
        registrations = registrations.filter(status=status)
    order = Case(
        When(status=CONFIRMED, then=Value(0)),
        When(status=WAITLISTED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return registrations.order_by(order, "confirmed_at", "waitlisted_at", "id")


def waitlist(activity: Activity) -> QuerySet[Registration]:
    """The waitlist in the order places are given."""
    return (
        Registration.objects.filter(activity=activity, status=WAITLISTED)
        .select_related("member")
        .order_by("waitlisted_at", "id")
    )


def waitlist_position(registration: Registration) -> int | None:
    """1 for the next to get a place; ``None`` when not on the waitlist."""
    if registration.status != WAITLISTED:
        return None
    ahead = Registration.objects.filter(activity_id=registration.activity_id, status=WAITLISTED)
    ahead = ahead.filter(
        Q(waitlisted_at__lt=registration.waitlisted_at)
        | Q(waitlisted_at=registration.waitlisted_at, id__lt=registration.pk)
    )
    return ahead.count() + 1


def registration_by_code(activity: Activity, code: str) -> Registration | None:
    from shequn.activities.services import normalise_code

    return (
        Registration.objects.filter(activity=activity, code=normalise_code(code))
        .select_related("member")
        .first()
    )


def member_registrations(member: Member) -> QuerySet[Registration]:
    """A member's registrations, newest activity first."""
    return (
        Registration.objects.filter(member=member)
        .select_related("activity")
        .order_by("-activity__starts_at", "-id")
    )


def fee_history(registration: Registration) -> QuerySet[AuditEntry]:
    """Every fee status change of a registration, oldest first (who, when, before, after)."""
    return AuditEntry.objects.filter(
        action="activity.fee", target_type="registration", target_id=str(registration.pk)
    ).order_by("created_at", "id")


def community_rituals(community: Community) -> QuerySet[Ritual]:
    return Ritual.objects.filter(community=community).annotate(
        occurrences_count=Count("occurrences")
    )


# -------------------------------------------------------------------------------- report
@dataclass(frozen=True)
class ActivityReport:
    """An activity in numbers. ``registered`` counts every registration ever made (so it is
    ``confirmed + waitlisted + cancelled``); ``attended`` those who checked in."""

    registered: int
    confirmed: int
    waitlisted: int
    cancelled: int
    attended: int
    capacity: int | None
    # Confirmed but never checked in; ``None`` until the activity has started.
    no_shows: int | None
    no_show_rate: float | None
    first_time: int  # attendees at their first activity of the community
    returning: int
    rating_mean: float | None
    rating_count: int
    fee_statuses: dict[str, int]
    stay_days: int
    newcomers: list[int] = field(default_factory=list)  # member ids, see activity_report
    stayed: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)

    @property
    def newcomers_stayed_rate(self) -> float | None:
        decided = len(self.newcomers) - len(self.pending)
        return len(self.stayed) / decided if decided else None


def activity_report(
    activity: Activity, *, stay_days: int = STAY_DAYS, as_of: dt.datetime | None = None
) -> ActivityReport:
    """The activity's registrations, turnout, ratings and the newcomers it brought.

    * **first-time** attendees had attended no activity of the community that started
      earlier; the others are **returning**.
    * a **newcomer** (came via this activity) is an attendee of whom the community had no
      sign before they registered for it: no interaction event of theirs dated before their
      registration, no earlier activity attended, and no known join date before it;
    * a newcomer **stayed** when, ``stay_days`` after the activity started, they had neither
      left nor muted the community, and they did something there at or after that moment (any
      interaction event up to ``as_of``: a message, a reaction, attending another activity, …).
      Until ``stay_days`` have passed they are **pending**.
    """
    now = as_of or timezone.now()
    counts = Registration.objects.filter(activity=activity).aggregate(
        registered=Count("id"),
        confirmed=Count("id", filter=Q(status=CONFIRMED)),
        waitlisted=Count("id", filter=Q(status=WAITLISTED)),
        cancelled=Count("id", filter=Q(status=CANCELLED)),
        attended=Count("id", filter=Q(checked_in_at__isnull=False)),
        rating_mean=Avg("feedback__rating"),
        rating_count=Count("feedback"),
    )
    fees = dict(
        Registration.objects.filter(activity=activity)
        .exclude(status=CANCELLED)
        .order_by()
        .values_list("fee_status")
        .annotate(n=Count("id"))
    )
    started = now >= activity.starts_at and activity.status != Activity.Status.CANCELLED
    no_shows = counts["confirmed"] - counts["attended"] if started else None
    cutoff = activity.starts_at + dt.timedelta(days=stay_days)
    attendees = (
        Registration.objects.filter(activity=activity, checked_in_at__isnull=False)
        .annotate(
            attended_before=Exists(
                Registration.objects.filter(
                    member=OuterRef("member"),
                    checked_in_at__isnull=False,
                    activity__community_id=activity.community_id,
                    activity__starts_at__lt=activity.starts_at,
                )
            ),
            seen_before=Exists(
                InteractionEvent.objects.filter(
                    member=OuterRef("member"), occurred_at__lt=OuterRef("registered_at")
                )
            ),
            seen_after=Exists(
                InteractionEvent.objects.filter(
                    member=OuterRef("member"), occurred_at__gte=cutoff, occurred_at__lte=now
                )
            ),
        )
        .values_list(
            "member_id",
            "registered_at",
            "attended_before",
            "seen_before",
            "seen_after",
            "member__joined_at",
            "member__left_at",
            "member__muted_at",
        )
    )
    first_time = 0
    newcomers: list[int] = []
    stayed: list[int] = []
    pending: list[int] = []
    for member_id, registered, before, seen_before, seen_after, joined, left, muted in attendees:
        if not before:
            first_time += 1
        if before or seen_before or (joined is not None and joined < registered):
            continue
        newcomers.append(member_id)
        if now < cutoff:
            pending.append(member_id)
        elif seen_after and not any(t is not None and t < cutoff for t in (left, muted)):
            stayed.append(member_id)
    mean = counts["rating_mean"]
    return ActivityReport(
        registered=counts["registered"],
        confirmed=counts["confirmed"],
        waitlisted=counts["waitlisted"],
        cancelled=counts["cancelled"],
        attended=counts["attended"],
        capacity=activity.capacity,
        no_shows=no_shows,
        no_show_rate=(no_shows / counts["confirmed"])
        if no_shows is not None and counts["confirmed"]
        else None,
        first_time=first_time,
        returning=counts["attended"] - first_time,
        rating_mean=round(float(mean), 2) if mean is not None else None,
        rating_count=counts["rating_count"],
        fee_statuses=fees,
        stay_days=stay_days,
        newcomers=sorted(newcomers),
        stayed=sorted(stayed),
        pending=sorted(pending),
    )


# ---------------------------------------------------------------------- community level
@dataclass(frozen=True)
class MixShare:
    activities: int
    attended: int


@dataclass(frozen=True)
class ActivityMix:
    """Held activities (published or done) by kind, each with how many attended them."""

    total: int
    by_mode: dict[str, MixShare]
    by_content_type: dict[str, MixShare]
    # "staff" (founders and operators) or "members": who runs the activities.
    by_organiser: dict[str, MixShare]


def activity_mix(
    community: Community, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> ActivityMix:
    """Online vs offline, learning/social/game, and staff- vs member-run, in one query."""
    held = Activity.objects.filter(community=community, status__in=HELD)
    if since is not None:
        held = held.filter(starts_at__gte=since)
    if until is not None:
        held = held.filter(starts_at__lt=until)
    rows = list(
        held.order_by()
        .values("mode", "content_type", "organised_by_staff")
        .annotate(
            n=Count("id", distinct=True),
            attended=Count("registrations", filter=Q(registrations__checked_in_at__isnull=False)),
        )
    )

    def fold(keys: list[str], key_of: Any) -> dict[str, MixShare]:
        totals = {key: [0, 0] for key in keys}
        for row in rows:
            pair = totals[key_of(row)]
            pair[0] += row["n"]
            pair[1] += row["attended"]
        return {key: MixShare(*pair) for key, pair in totals.items()}

    return ActivityMix(
        total=sum(row["n"] for row in rows),
        by_mode=fold(list(Mode.values), lambda row: row["mode"]),
        by_content_type=fold(list(ContentKind.values), lambda row: row["content_type"]),
        by_organiser=fold(
            ["staff", "members"],
            lambda row: "staff" if row["organised_by_staff"] else "members",
        ),
    )


@dataclass(frozen=True)
class MonthTurnout:
    month: dt.date  # the first day of the month, in the community's time zone
    activities: int
    confirmed: int
    attended: int

    @property
    def turnout(self) -> float | None:
        """Attended per confirmed place (the share of people who came as they said)."""
        return self.attended / self.confirmed if self.confirmed else None


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def turnout_by_month(
    community: Community, *, months: int = 12, now: dt.datetime | None = None
) -> list[MonthTurnout]:
    """Per month, oldest first, up to this one: held activities that have started, the
    places confirmed at them and the people who came (months without any included)."""
    now = now or timezone.now()
    zone = community.zoneinfo
    first = _month_start(now.astimezone(zone).date(), months - 1)
    start = dt.datetime.combine(first, dt.time(), zone)
    rows = (
        Activity.objects.filter(
            community=community, status__in=HELD, starts_at__gte=start, starts_at__lte=now
        )
        .annotate(month=TruncMonth("starts_at", tzinfo=zone))
        .order_by()
        .values("month")
        .annotate(
            activities=Count("id", distinct=True),
            confirmed=Count("registrations", filter=Q(registrations__status=CONFIRMED)),
            attended=Count("registrations", filter=Q(registrations__checked_in_at__isnull=False)),
        )
    )
    found = {}
    for row in rows:
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = month.astimezone(zone).date() if month.tzinfo else month.date()
        found[month.replace(day=1)] = row
    result = []
    for back in range(months - 1, -1, -1):
        month = _month_start(now.astimezone(zone).date(), back)
        row = found.get(month, {})
        result.append(
            MonthTurnout(
                month=month,
                activities=row.get("activities", 0),
                confirmed=row.get("confirmed", 0),
                attended=row.get("attended", 0),
            )
        )
    return result


@dataclass(frozen=True)
class OccurrenceAttendance:
    activity_id: int
    title: str
    starts_at: dt.datetime
    status: str
    capacity: int | None
    registered: int  # confirmed or waitlisted (not cancelled)
    attended: int


def ritual_attendance(ritual: Ritual) -> list[OccurrenceAttendance]:
    """The ritual's attendance over time: per occurrence, oldest first, how many registered
    (and had not cancelled) and how many came. One grouped query."""
    rows = (
        Activity.objects.filter(ritual=ritual)
        .order_by("starts_at", "id")
        .annotate(
            registered=Count("registrations", filter=~Q(registrations__status=CANCELLED)),
            attended=Count("registrations", filter=Q(registrations__checked_in_at__isnull=False)),
        )
        .values_list("pk", "title", "starts_at", "status", "capacity", "registered", "attended")
    )
    return [OccurrenceAttendance(*row) for row in rows]


@dataclass(frozen=True)
class CoAttendance:
    member_a: int  # the smaller member id
    member_b: int
    activities: int  # activities both attended
    weight: float  # sum over them of 1 / (attendees - 1): a big conference ties people less


def co_attendance(
    community: Community,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[CoAttendance]:
    """Pairs of members who attended the same activities (checked in), for the member
    network: one self-join of the registrations in the database. The interaction events say
    the same (``attend`` events sharing ``thread_source_id``); this reads the smaller table."""
    registrations = Registration._meta.db_table
    activities = Activity._meta.db_table
    where = ["act.community_id = %s", "act.status IN (%s, %s)"]
    params: list[Any] = [community.pk, *HELD]
    # A raw cursor does not adapt aware datetimes as the ORM does (SQLite keeps naive UTC).
    adapt = connection.ops.adapt_datetimefield_value
    if since is not None:
        where.append("act.starts_at >= %s")
        params.append(adapt(since))
    if until is not None:
        where.append("act.starts_at < %s")
        params.append(adapt(until))
    sql = (
        "WITH att AS ("
        f" SELECT r.activity_id, r.member_id FROM {registrations} r"
        f" JOIN {activities} act ON act.id = r.activity_id"
        f" WHERE r.checked_in_at IS NOT NULL AND {' AND '.join(where)}),"
        " sizes AS (SELECT activity_id, COUNT(*) AS n FROM att GROUP BY activity_id"
        " HAVING COUNT(*) > 1)"
        " SELECT a.member_id, b.member_id, COUNT(*), SUM(1.0 / (s.n - 1))"
        " FROM att a JOIN att b ON a.activity_id = b.activity_id AND a.member_id < b.member_id"
        " JOIN sizes s ON s.activity_id = a.activity_id"
        " GROUP BY a.member_id, b.member_id ORDER BY a.member_id, b.member_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            CoAttendance(int(a), int(b), int(count), float(weight))
            for a, b, count, weight in cursor.fetchall()
        ]
