"""Write operations on tiers: recomputing them, and changing a community's tier policy.

A recompute reads the weekly rollups (kept with the daily ones by every writer), the reply ties
and invitations (folded once from new events) and the members. A full run replays everyone at
once over member x week arrays (``shequn.tiers.batch``), fingerprints every result
(``shequn.tiers.digest``) and builds and writes only the members whose stored fingerprints
differ. An incremental run replays only the members something happened to since the last run,
the same way but from the first week it touched for each, reading only their rows from the
weeks that replay needs, and compares their stored rows as values. Both give the same tiers and
history (tests/test_tiers_incremental.py), and the arrays give what the per-member reference
replay (``shequn.tiers.engine.evaluate``) gives (tests/test_tiers_batch.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from shequn.audit import services as audit
from shequn.communities.models import Community
from shequn.interactions.selectors import latest_event_day
from shequn.members.models import Identity, MemberMerge
from shequn.tiers import arrays, batch, inputs, store
from shequn.tiers.digest import Fingerprints
from shequn.tiers.engine import Calendar, MemberResult, week_of
from shequn.tiers.models import TIER_BY_RANK, MemberTier, Tier, TierChange, TierPolicy, TierRun
from shequn.tiers.ordering import Positions
from shequn.tiers.policy import Rules, rules_of, validate_policy_values
from shequn.tiers.selectors import last_steps, tier_policy
from shequn.tiers.signals import advocacy_signals

FROM_START = None  # replay a member from their first signal
_I = np.int64


@dataclass(frozen=True)
class TierRunResult:
    full: bool
    as_of: dt.date
    evaluated: int
    changed: int
    seconds: float
    rewritten: int = 0  # members whose stored tier row or history had to be written


@dataclass
class _Member:
    is_staff: bool
    is_bot: bool
    joined: int | None
    gone: int | None
    gone_code: str


def _members(fetched: arrays.Fetched, zone: tzinfo) -> dict[int, _Member]:
    """Every member's facts (``arrays.fetch_members``); leaving or muting, whichever came
    first, ends membership."""
    columns = arrays.member_columns(fetched, zone)
    left, muted = columns.left, columns.muted
    by_leaving = (left > 0) & ((muted == 0) | (left <= muted))
    gone = np.where(by_leaving, left, muted)
    codes = np.where(by_leaving, "left", np.where(muted > 0, "muted", ""))
    return {
        pk: _Member(staff, bot, joined or None, gone_day or None, code)
        for pk, staff, bot, joined, gone_day, code in zip(
            columns.ids.tolist(),
            columns.is_staff.tolist(),
            columns.is_bot.tolist(),
            columns.joined.tolist(),
            gone.tolist(),
            codes.tolist(),
            strict=True,
        )
    }


class _Affected:
    """Members to replay, each from the earliest week something changed for them."""

    def __init__(self, members: dict[int, _Member]) -> None:
        self.members = members
        self.start: dict[int, int | None] = {}

    def touch(self, member_id: int, week: int | None) -> None:
        info = self.members.get(member_id)
        if info is None or info.is_bot:
            return
        if member_id not in self.start:
            self.start[member_id] = week
            return
        current = self.start[member_id]
        if current is not None:
            self.start[member_id] = None if week is None else min(current, week)


def _states_before(
    member_ids: list[int], before: dt.date, current: dict[int, tuple[str, int | None]]
) -> dict[int, tuple[str, int]]:
    """Each member's tier and its day before ``before``: their current tier when it is older
    (the usual case: time moved on), else the last step of their stored path before it."""
    states: dict[int, tuple[str, int]] = {}
    older = []
    for member_id in member_ids:
        tier, since = current.get(member_id, ("", None))
        if since is not None and since < before.toordinal():
            states[member_id] = (tier, since)
        else:
            older.append(member_id)
    if not older:
        return states
    for member_id, (tier, on) in last_steps(before, members=older, strictly_before=True).items():
        states[member_id] = (tier, on.toordinal())
    return states


def _incremental_starts(
    community: Community,
    last: TierRun,
    upto: int,
    as_of: dt.date,
    members: dict[int, _Member],
    stored: dict[int, store.StoredState],
    inviters_of: dict[int, list[tuple[int, int]]],
    late_replies: dict[int, int],
    touched: Mapping[int, dt.date],
) -> dict[int, int | None]:
    """Who needs replaying, and from which week (None: from their first signal)."""
    affected = _Affected(members)
    # What the caller changed outside the events (an advocacy act, e.g. a testimonial).
    for member_id, day in touched.items():
        affected.touch(member_id, week_of(day.toordinal()))
    for member_id, day in inputs.new_event_members(community, last.watermark, upto).items():
        affected.touch(member_id, week_of(day))
    # Replies whose target arrived only now count as help from their week on.
    for member_id, day in late_replies.items():
        affected.touch(member_id, week_of(day))
    # Joined, left or muted changed (a leave event, a member list, an operator's edit).
    for member_id, (_tier, _since, joined_on, gone_on, *_flags) in stored.items():
        info = members.get(member_id)
        if info is None:
            continue
        for before, now in ((joined_on, info.joined), (gone_on, info.gone)):
            if before != now:
                affected.touch(member_id, week_of(min(d for d in (before, now) if d is not None)))
    # Members new to tiers: just imported, no longer a bot, restored by an un-merge.
    for member_id, info in members.items():
        if not info.is_bot and member_id not in stored:
            affected.touch(member_id, FROM_START)
    # Merged members: their history is one person's now (or two again).
    for merge in MemberMerge.objects.filter(community=community).filter(
        Q(created_at__gte=last.started_at) | Q(undone_at__gte=last.started_at)
    ):
        affected.touch(merge.target_id, FROM_START)
        for owner in Identity.objects.filter(pk__in=merge.identity_ids).values_list(
            "member_id", flat=True
        ):
            affected.touch(owner, FROM_START)
    # Time alone moves members down (silence) and applies downgrades that were waiting.
    if as_of > last.as_of:
        # A join or leave dated after the last run's day (a member list can say so) takes
        # effect once the as-of day reaches it.
        before, now = last.as_of.toordinal(), as_of.toordinal()
        for member_id, info in members.items():
            for day in (info.joined, info.gone):
                if day is not None and before < day <= now:
                    affected.touch(member_id, week_of(day))
        week = week_of(last.as_of.toordinal())
        for member_id, (tier, *_days) in stored.items():
            if tier != Tier.LAPSED:
                affected.touch(member_id, week)
        for member_id in (
            TierChange.objects.filter(
                community=community, changed_on__gte=dt.date.fromordinal(week * 7 + 1)
            )
            .values_list("member_id", flat=True)
            .distinct()
        ):
            affected.touch(member_id, week)
    # An invitee's change can change what their inviter gets credit for, from the day they
    # would qualify.
    for invitee in list(affected.start):
        for inviter, qualified in inviters_of.get(invitee, ()):
            affected.touch(inviter, week_of(qualified))
    return affected.start


@transaction.atomic
def do_recompute_tiers(
    community: Community,
    *,
    full: bool = False,
    as_of: dt.date | None = None,
    actor: Any = None,
    rebuild: bool = False,
    touched: Mapping[int, dt.date] | None = None,
) -> TierRunResult:
    """Bring every member's tier, reasons, progress, risk and history up to date.

    Incremental unless ``full``: only members something happened to since the last run are
    replayed, and the members in ``touched`` from the day given (inputs that are no events,
    such as an advocacy act recorded by another app). ``as_of`` defaults to the latest local
    day of any event in the community (an archive is judged as of its own last day, not today).
    ``rebuild`` refolds reply ties and invitations from the events and compares every stored row
    with the results as values, not by digest (needed only if events or tiers were rewritten
    outside shequn).
    """
    started = time.perf_counter()
    policy = tier_policy(community)
    rules = rules_of(policy)
    last = (
        TierRun.objects.filter(community=community, finished_at__isnull=False)
        .order_by("-id")
        .first()
    )
    upto = inputs.max_event_id()
    late: dict[int, int] = {}
    if last is None or rebuild or last.time_zone != community.time_zone:
        inputs.rebuild_folds(community, upto)
        full = True
    else:
        late = inputs.fold_events(community, last.watermark, upto)
    if as_of is None:
        as_of = latest_event_day(community) or timezone.localdate(timezone=community.zoneinfo)
    if last is not None and (as_of < last.as_of or policy.updated_at >= last.started_at):
        full = True
    run = TierRun.objects.create(
        community=community,
        full=full,
        as_of=as_of,
        watermark=upto,
        time_zone=community.time_zone,
        actor=actor if getattr(actor, "pk", None) else None,
    )

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shequn-tiers") as worker:
        # The worker thread parses what this one reads, while this one reads on: it touches
        # no database connection (this thread's transaction is the run's).
        fetched_members = arrays.fetch_members(community)
        fetched_states = store.fetch_stored_states(community)
        parsed_members = worker.submit(_members, fetched_members, community.zoneinfo)
        parsed_states = worker.submit(store.stored_states_of, fetched_states)
        # A full run reads all the help given, whoever gave it.
        help_given = (
            arrays.fetch_ties(community, rules, week_of(as_of.toordinal()), np.zeros(0, dtype=_I))
            if full
            else None
        )
        return _recompute(
            community,
            run,
            last,
            rules,
            full=full,
            rebuild=rebuild,
            as_of=as_of,
            upto=upto,
            late=late,
            touched=touched or {},
            members=parsed_members.result(),
            stored=parsed_states.result(),
            help_given=help_given,
            worker=worker,
            started=started,
        )


def _recompute(
    community: Community,
    run: TierRun,
    last: TierRun | None,
    rules: Rules,
    *,
    full: bool,
    rebuild: bool,
    as_of: dt.date,
    upto: int,
    late: dict[int, int],
    touched: Mapping[int, dt.date],
    members: dict[int, _Member],
    stored: dict[int, store.StoredState],
    help_given: tuple[arrays.Fetched, arrays.Fetched] | None,
    worker: Executor,
    started: float,
) -> TierRunResult:
    """The run once its members and stored states are parsed: who is replayed and from when,
    the replay, and the writes of what differs."""
    bots = {pk for pk, info in members.items() if info.is_bot}
    if bots:  # bots get no tier, also those flagged since the last run
        store.delete_members(MemberTier._meta.db_table, bots)
        store.delete_members(TierChange._meta.db_table, bots)
        stored = {member_id: state for member_id, state in stored.items() if member_id not in bots}
    current = {member_id: (tier, since) for member_id, (tier, since, *_days) in stored.items()}
    tiers_before = {member_id: tier for member_id, (tier, _since) in current.items()}
    gone = {pk: info.gone for pk, info in members.items()}
    credits, inviters_of = inputs.read_invitations(community, gone, bots, rules.invitee_min_days)
    if full or last is None:
        starts: dict[int, int | None] = dict.fromkeys(
            (pk for pk in members if pk not in bots), FROM_START
        )
    else:
        starts = _incremental_starts(
            community, last, upto, as_of, members, stored, inviters_of, late, touched or {}
        )

    cal = Calendar(as_of, rules.cadence)
    # A change dated after the as-of day (a member list saying someone joins later) is replayed
    # from the as-of week, where the replay begins anyway; its history is replaced from there.
    starts = {
        member_id: week if week is None else min(week, cal.last_week)
        for member_id, week in starts.items()
    }
    # Members replayed from a week need the tier they had before it; without one, from start.
    states: dict[int, tuple[str, int]] = {}
    by_start: dict[int | None, list[int]] = {}
    for member_id, week in starts.items():
        by_start.setdefault(week, []).append(member_id)
    for week in [w for w in by_start if w is not None]:
        group = by_start[week]
        found = _states_before(group, dt.date.fromordinal(week * 7 + 1), current)
        states.update(found)
        missing = [m for m in group if m not in found]
        if missing:
            by_start[week] = [m for m in group if m in found]
            by_start.setdefault(FROM_START, []).extend(missing)
            for member_id in missing:
                starts[member_id] = FROM_START

    fingerprints = Fingerprints(rules, [signal.code for signal in advocacy_signals()])
    # A full run trusts the stored fingerprints (and builds only what differs) unless rebuilding.
    trusted = store.digests_of(stored) if full and not rebuild else None
    with _gc_paused():
        results = _replay(
            community,
            rules,
            cal,
            members,
            credits,
            by_start,
            states,
            fingerprints,
            trusted,
            full=full,
            help_given=help_given,
            worker=worker,
        )

    rewritten = store.store_results(
        community,
        results,
        members,
        as_of,
        starts,
        full=full,
        stored=trusted,
        stored_members=stored,
    )
    # Founders and operators named (or no longer) since their row was written.
    replayed = set(starts)
    staff_now = {pk for pk, info in members.items() if info.is_staff}
    flags = {m: state[4] for m, state in stored.items() if m not in replayed}
    store.set_staff_flags(
        community,
        [m for m, flag in flags.items() if not flag and m in staff_now],
        [m for m, flag in flags.items() if flag and m not in staff_now],
    )

    changed = sum(1 for r in results if tiers_before.get(r.member_id) != r.tier)
    run.evaluated = len(starts)
    run.changed = changed
    run.finished_at = timezone.now()
    run.save(update_fields=["evaluated", "changed", "finished_at"])
    return TierRunResult(
        full, as_of, len(starts), changed, time.perf_counter() - started, rewritten
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The replay allocates many small, never cyclic tuples: collecting them is wasted time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _replay(
    community: Community,
    rules: Rules,
    cal: Calendar,
    members: dict[int, _Member],
    credits: dict[int, list[tuple[int, int]]],
    by_start: dict[int | None, list[int]],
    states: dict[int, tuple[str, int]],
    fingerprints: Fingerprints,
    trusted: store.StoredDigests | None,
    *,
    full: bool,
    help_given: tuple[arrays.Fetched, arrays.Fetched] | None,
    worker: Executor,
) -> list[MemberResult]:
    """Replay the members of ``by_start`` over arrays (``shequn.tiers.batch``): those under
    ``FROM_START`` from their first signal, the others from their week on, starting from their
    tier before it (``states``). A full run reads the whole community; given ``trusted``
    fingerprints it returns results only for the members whose stored rows differ."""
    wanted = None if full else {m for group in by_start.values() for m in group}
    acts = inputs.read_acts(community, cal.as_of_date, wanted) if _has_acts() else {}
    helpable = np.array(sorted(pk for pk, info in members.items() if not info.is_bot), dtype=_I)
    results: list[MemberResult] = []
    fresh = by_start.get(FROM_START) or []
    if fresh:
        differs = None if trusted is None else _differs(trusted, members)
        groups = functools.partial(
            arrays.batch_inputs,
            community,
            rules,
            cal.as_of_date,
            cal.last_week,
            {member_id: members[member_id] for member_id in fresh},
            credits,
            acts,
            helpable,
            only=not full,
            help_given=help_given if full else None,
        )

        def replay_fresh(data: batch.BatchInput) -> list[MemberResult]:
            return batch.replay(data, rules, cal, fingerprints, differs)

        results.extend(_overlapped(groups, len(fresh), replay_fresh, worker))
    resumed = {m: week for week, group in by_start.items() if week is not None for m in group}
    if resumed:
        # Each window, and the weeks the risk compares, reach lookback weeks before a start;
        # what is older tells only each member's last signal.
        back = min(resumed.values()) - rules.lookback_weeks
        prior = inputs.last_signals_before(list(resumed), dt.date.fromordinal(back * 7 + 1))

        def resume(data: batch.BatchInput) -> list[MemberResult]:
            ids = data.member_ids.tolist()
            data.start_week = np.array([resumed[m] for m in ids], dtype=_I)
            data.prev_tier = np.array([TIER_BY_RANK.index(states[m][0]) for m in ids], dtype=_I)
            data.prev_since = np.array([states[m][1] for m in ids], dtype=_I)
            data.prior_last = np.array([prior.get(m, 0) for m in ids], dtype=_I)
            return batch.replay(data, rules, cal, fingerprints)

        groups = functools.partial(
            arrays.batch_inputs,
            community,
            rules,
            cal.as_of_date,
            cal.last_week,
            {member_id: members[member_id] for member_id in resumed},
            credits,
            acts,
            helpable,
            only=True,
            since_week=back,
        )
        results.extend(_overlapped(groups, len(resumed), resume, worker))
    return results


def _overlapped(
    groups: Callable[..., Iterator[arrays.PendingInput]],
    count: int,
    replay: Callable[[batch.BatchInput], list[MemberResult]],
    worker: Executor,
) -> list[MemberResult]:
    """The ``count`` members' groups (``arrays.batch_inputs``) parsed and replayed on the
    ``worker`` thread while the next group is read: the database works (and this thread
    waits, releasing the interpreter) while numpy parses and replays. A lone group is
    replayed on this thread."""
    if count <= arrays.GROUP:
        return [result for pending in groups() for result in replay(pending())]
    futures = [
        worker.submit(lambda pending=pending: replay(pending())) for pending in groups(pool=worker)
    ]
    return [result for future in futures for result in future.result()]


def _differs(trusted: store.StoredDigests, members: dict[int, _Member]) -> batch.Wanted:
    """Which members' stored rows differ from what the replay fingerprinted: compared as
    arrays, 50,000 members at a time."""
    ids = np.array(sorted(trusted), dtype=_I)
    absent = -1  # no fingerprint stored: never equal to one (they are not negative)
    stored_row = np.array([_or(trusted[m][0], absent) for m in ids.tolist()], dtype=_I)
    stored_path = np.array([_or(trusted[m][1], absent) for m in ids.tolist()], dtype=_I)
    stored_staff = np.array([trusted[m][2] for m in ids.tolist()], dtype=bool)
    staff_now = np.array(sorted(pk for pk, info in members.items() if info.is_staff), dtype=_I)
    positions = Positions(ids)

    def wanted(member_ids: np.ndarray, rows: np.ndarray, paths: np.ndarray) -> np.ndarray:
        pos, found = positions.of(member_ids)
        if not len(ids):
            return ~found
        return (
            ~found
            | (stored_row[pos] != rows)
            | (stored_path[pos] != paths)
            | (stored_staff[pos] != np.isin(member_ids, staff_now))
        )

    return wanted


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _has_acts() -> bool:
    return bool(advocacy_signals())


@transaction.atomic
def do_update_tier_policy(community: Community, *, actor: Any = None, **values: Any) -> TierPolicy:
    """Change a community's tier thresholds, then recompute every member with them.

    Every value is validated first (``TierPolicyError`` names the field); on an error nothing
    is changed. Values equal to the current ones are ignored; a real change is audited.
    """
    policy = tier_policy(community)
    cleaned = validate_policy_values(policy, values)
    changes = {field: value for field, value in cleaned.items() if getattr(policy, field) != value}
    if not changes:
        return policy
    before = {field: getattr(policy, field) for field in changes}
    for field, value in changes.items():
        setattr(policy, field, value)
    policy.save(update_fields=[*changes, "updated_at"])
    audit.record(
        "tiers.update_policy",
        community=community,
        actor=actor,
        target=policy,
        details={"before": before, "after": changes},
    )
    do_recompute_tiers(community, full=True, actor=actor)
    return policy
