"""Read queries of the exchange: posts with filters, suggestions with their evidence,
connections, the monthly report and the summary the community diagnosis reads."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from shequn.communities.models import Community
from shequn.exchange.models import (
    Connection,
    DismissedPair,
    ExchangeSettings,
    Outcome,
    Post,
    PostKind,
    PostStatus,
    PostTag,
)
from shequn.exchange.validation import normalise_tag

if TYPE_CHECKING:  # scikit-learn takes seconds to import: only the matching functions load it
    from shequn.exchange.matching import Match, PostText

CENT = Decimal("0.01")
# What viewers see: public submissions only once an operator let them in.
REVIEWED = (PostStatus.OPEN, PostStatus.CLOSED)


def exchange_settings(community: Community) -> ExchangeSettings:
    """The community's settings (the defaults, unsaved, until an operator changes one)."""
    found = ExchangeSettings.objects.filter(community=community).first()
    return found or ExchangeSettings(community=community)


def settings_for_token(token: str) -> ExchangeSettings | None:
    """The settings whose public form has this token, if the form is on."""
    if not token:
        return None
    return ExchangeSettings.objects.select_related("community").filter(public_token=token).first()


# ----------------------------------------------------------------------------- posts
def with_tags(posts: QuerySet[Post]) -> QuerySet[Post]:
    return posts.select_related("member").prefetch_related(
        Prefetch("tags", queryset=PostTag.objects.order_by("position", "id"))
    )


@dataclass(frozen=True)
class PostFilters:
    """What a list of posts is narrowed to: kind, status ("" any), a tag, words;
    ``reviewed_only``: not the public submissions waiting or rejected (what viewers see)."""

    kind: str = ""
    status: str = ""
    tag: str = ""
    search: str = ""
    member_id: int | None = None
    reviewed_only: bool = False


def community_posts(community: Community, filters: PostFilters | None = None) -> QuerySet[Post]:
    """The community's posts, newest first, with their member and tags."""
    filters = filters or PostFilters()
    posts = Post.objects.filter(community=community)
    if filters.kind:
        posts = posts.filter(kind=filters.kind)
    if filters.status:
        posts = posts.filter(status=filters.status)
    if filters.reviewed_only:
        posts = posts.filter(status__in=REVIEWED)
    if filters.tag:
        posts = posts.filter(
            Exists(PostTag.objects.filter(post=OuterRef("pk"), name=normalise_tag(filters.tag)))
        )
    if filters.member_id is not None:
        posts = posts.filter(member_id=filters.member_id)
    for word in filters.search.split()[:5]:
        posts = posts.filter(
            Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(member__display_name__icontains=word)
            | Q(submitter_name__icontains=word)
        )
    return with_tags(posts).order_by("-created_at", "-id")


def community_post(
    community: Community, post_id: int, *, reviewed_only: bool = False
) -> Post | None:
    posts = Post.objects.filter(community=community, pk=post_id)
    if reviewed_only:
        posts = posts.filter(status__in=REVIEWED)
    return with_tags(posts).first()


def post_counts(community: Community) -> dict[str, int]:
    """Open needs, open offers and submissions waiting for approval (one query)."""
    counts = Post.objects.filter(community=community).aggregate(
        open_needs=Count("id", filter=Q(status=PostStatus.OPEN, kind=PostKind.NEED)),
        open_offers=Count("id", filter=Q(status=PostStatus.OPEN, kind=PostKind.OFFER)),
        pending=Count("id", filter=Q(status=PostStatus.PENDING)),
    )
    return {key: value or 0 for key, value in counts.items()}


def popular_tags(community: Community, limit: int = 30) -> list[tuple[str, int]]:
    """The tags of open posts, most used first (for the filter)."""
    rows = (
        PostTag.objects.filter(post__community=community, post__status=PostStatus.OPEN)
        .values("name")
        .annotate(uses=Count("id"))
        .order_by("-uses", "name")[:limit]
    )
    return [(row["name"], row["uses"]) for row in rows]


def pending_posts(community: Community) -> QuerySet[Post]:
    """Public submissions waiting for an operator, oldest first."""
    return with_tags(Post.objects.filter(community=community, status=PostStatus.PENDING)).order_by(
        "created_at", "id"
    )


# ------------------------------------------------------------------------ suggestions
@dataclass(frozen=True)
class Suggestion:
    """A suggested introduction: the need, the offer and why they match."""

    need: Post
    offer: Post
    match: Match

    @property
    def score(self) -> float:
        return self.match.score

    @property
    def score_percent(self) -> int:
        return round(self.match.score * 100)


def _matchable(community: Community) -> list[Post]:
    """Open posts of members who have not left: the only ones ever suggested."""
    return list(
        with_tags(
            Post.objects.filter(
                community=community, status=PostStatus.OPEN, member__left_at__isnull=True
            )
        ).order_by("id")
    )


def _texts(posts: list[Post], kind: str) -> list[PostText]:
    from shequn.exchange.matching import PostText

    return [
        PostText(
            id=post.pk,
            member_id=post.member_id,
            title=post.title,
            description=post.description,
            tags=tuple(post.tag_names),
        )
        for post in posts
        if post.kind == kind
    ]


def _excluded_pairs(community: Community) -> set[tuple[int, int]]:
    """Pairs already connected or turned down by an operator."""
    connected = Connection.objects.filter(community=community).values_list("need_id", "offer_id")
    dismissed = DismissedPair.objects.filter(need__community=community).values_list(
        "need_id", "offer_id"
    )
    return set(connected) | set(dismissed)


def suggestions(
    community: Community,
    *,
    need: Post | None = None,
    offer: Post | None = None,
    limit: int = 20,
    per_need: int | None = 3,
) -> list[Suggestion]:
    """The best pairs of an open need with an open offer of another member, best first,
    never one already connected or turned down; ``need`` / ``offer``: that post's pairs only
    (then every pair of it, up to ``limit``)."""
    from shequn.exchange.matching import score_pairs

    posts = _matchable(community)
    by_id = {post.pk: post for post in posts}
    needs, offers = _texts(posts, PostKind.NEED), _texts(posts, PostKind.OFFER)
    focus_needs = {need.pk} if need is not None else None
    focus_offers = {offer.pk} if offer is not None else None
    matches = score_pairs(
        needs,
        offers,
        min_score=exchange_settings(community).min_score,
        skip=_excluded_pairs(community),
        per_need=None if need is not None or offer is not None else per_need,
        limit=limit,
        focus_needs=focus_needs,
        focus_offers=focus_offers,
    )
    return [
        Suggestion(need=by_id[match.need_id], offer=by_id[match.offer_id], match=match)
        for match in matches
    ]


def pair_evidence(community: Community, need: Post, offer: Post) -> Match:
    """The score and evidence of one pair (suggested or not), weighed over the open posts."""
    from shequn.exchange.matching import score_pair

    posts = {post.pk: post for post in _matchable(community)}
    for post in (need, offer):
        if post.pk not in posts:
            posts[post.pk] = with_tags(Post.objects.filter(pk=post.pk)).get()
    ordered = list(posts.values())
    return score_pair(
        _texts(ordered, PostKind.NEED), _texts(ordered, PostKind.OFFER), need.pk, offer.pk
    )


# ------------------------------------------------------------------------ connections
def community_connections(community: Community) -> QuerySet[Connection]:
    """Confirmed connections, newest first, with both posts and members."""
    return (
        Connection.objects.filter(community=community)
        .select_related("need__member", "offer__member", "confirmed_by")
        .order_by("-confirmed_at", "-id")
    )


def community_connection(community: Community, connection_id: int) -> Connection | None:
    return community_connections(community).filter(pk=connection_id).first()


def post_connections(post: Post) -> QuerySet[Connection]:
    side = "need" if post.kind == PostKind.NEED else "offer"
    return community_connections(post.community).filter(**{side: post})


def _money(total: object) -> Decimal:
    """A database sum as an amount in cents (SQLite sums decimals as floating point)."""
    return Decimal(str(total)).quantize(CENT)


def connections_summary(community: Community, start: dt.datetime, end: dt.datetime) -> dict:
    """Connections confirmed in [start, end): how many, how many helped, made a deal or had no
    result, and the value reported per currency (``Decimal`` totals). The community
    diagnosis' "creates value" line reads it."""
    confirmed = Connection.objects.filter(
        community=community, confirmed_at__gte=start, confirmed_at__lt=end
    )
    counts = confirmed.aggregate(
        connections=Count("id"),
        helped=Count("id", filter=Q(outcome=Outcome.HELPED)),
        deals=Count("id", filter=Q(outcome=Outcome.DEAL)),
        no_result=Count("id", filter=Q(outcome=Outcome.NONE)),
    )
    values = (
        confirmed.filter(value_amount__isnull=False)
        .values("value_currency")
        .annotate(total=Sum("value_amount"))
        .order_by("value_currency")
    )
    return {
        **{key: value or 0 for key, value in counts.items()},
        "value": {row["value_currency"]: _money(row["total"]) for row in values},
    }


@dataclass
class MonthReport:
    """One month of the exchange: connections confirmed, their outcomes, the value."""

    month: dt.date
    connections: int = 0
    helped: int = 0
    deals: int = 0
    no_result: int = 0
    value: dict[str, Decimal] = field(default_factory=dict)

    @property
    def not_reported(self) -> int:
        return self.connections - self.helped - self.deals - self.no_result


def _month_start(day: dt.date, back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def monthly_report(
    community: Community, *, months: int = 12, now: dt.datetime | None = None
) -> list[MonthReport]:
    """Per month (local, oldest first, up to this one, months without any included): the
    connections confirmed then, their outcomes and the value reported for them. Two grouped
    queries."""
    now = now or timezone.now()
    zone = community.zoneinfo
    today = now.astimezone(zone).date()
    start = dt.datetime.combine(_month_start(today, months - 1), dt.time(), zone)
    confirmed = Connection.objects.filter(
        community=community, confirmed_at__gte=start, confirmed_at__lte=now
    ).annotate(month=TruncMonth("confirmed_at", tzinfo=zone))
    report = {
        _month_start(today, back): MonthReport(month=_month_start(today, back))
        for back in range(months - 1, -1, -1)
    }

    def month_of(value: dt.date | dt.datetime) -> dt.date:
        if isinstance(value, dt.datetime):
            value = value.astimezone(zone).date() if value.tzinfo else value.date()
        return value.replace(day=1)

    for row in (
        confirmed.order_by()
        .values("month")
        .annotate(
            connections=Count("id"),
            helped=Count("id", filter=Q(outcome=Outcome.HELPED)),
            deals=Count("id", filter=Q(outcome=Outcome.DEAL)),
            no_result=Count("id", filter=Q(outcome=Outcome.NONE)),
        )
    ):
        entry = report.get(month_of(row["month"]))
        if entry is not None:
            entry.connections, entry.helped = row["connections"], row["helped"]
            entry.deals, entry.no_result = row["deals"], row["no_result"]
    for row in (
        confirmed.filter(value_amount__isnull=False)
        .order_by()
        .values("month", "value_currency")
        .annotate(total=Sum("value_amount"))
    ):
        entry = report.get(month_of(row["month"]))
        if entry is not None:
            entry.value[row["value_currency"]] = _money(row["total"])
    return list(report.values())


def report_currencies(months: list[MonthReport]) -> list[str]:
    """The currencies in a report, the one with the largest total first."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for month in months:
        for currency, amount in month.value.items():
            totals[currency] += amount
    return sorted(totals, key=lambda code: (-totals[code], code))


def first_connection_times(community: Community, tag: str = "") -> list[dt.datetime]:
    """When each need (with ``tag``, if given) got its first confirmed connection, in
    order: one grouped query, whatever the number of days asked about."""
    connections = Connection.objects.filter(community=community)
    if tag:
        connections = connections.filter(
            Exists(PostTag.objects.filter(post=OuterRef("need_id"), name=normalise_tag(tag)))
        )
    rows = (
        connections.order_by()
        .values("need_id")
        .annotate(first=Min("confirmed_at"))
        .values_list("first", flat=True)
    )
    return sorted(rows)
