"""The one import pipeline every source format feeds.

A format parser (see ``base.Source``) yields normalised records; this module turns them into
members, identities and events in a single transaction, in batches, with set-based writes:
members in bulk, events through a backend bulk writer, reply targets and daily rollups by one SQL
statement each at the end. Memory stays bounded by the batch size and the number of members,
never by the size of the file.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.audit import services as audit
from shequn.communities.models import Channel, Community, Platform
from shequn.communities.services import get_or_create_channel
from shequn.interactions.importers.base import Source
from shequn.interactions.importers.records import (
    ChannelRecord,
    EventRecord,
    ImportFormatError,
    MemberRecord,
)
from shequn.interactions.importers.writers import EventRow, event_writer
from shequn.interactions.models import MESSAGE_KINDS, EventKind, ImportRun, InteractionEvent
from shequn.interactions.rollups import add_received_rollups, add_rollups_for_run
from shequn.members.mapping import mapped_keys
from shequn.members.models import ROLE_RANK, Identity, IdentityMapping, Member, Role

ProgressCallback = Callable[[int, int, int], None]
"""Called with (bytes read, bytes total, records read) after every batch."""

VALID_KINDS = frozenset(EventKind.values)
TARGETED_BY_PARENT = (EventKind.REPLY, EventKind.REACTION)
LIFECYCLE_KINDS = (EventKind.JOIN, EventKind.LEAVE, EventKind.MUTE)
# How many recent messages the pipeline remembers to aim replies without a database lookup.
RECENT_MESSAGES = 100_000
# The longest id of any kind: event, platform user, channel, parent and thread ids.
MAX_ID = InteractionEvent._meta.get_field("source_id").max_length
VALID_PLATFORMS = frozenset(Platform.values)
# Platforms whose user ids name one person everywhere on the platform, so one account seen in
# two channels (two Discord channels, two Slack channels) is one member. Stack Exchange ids are
# per site, WhatsApp "ids" are contact names, CSV and forum ids are whatever the file says.
GLOBAL_ID_PLATFORMS = frozenset(
    {
        Platform.WECHAT,
        Platform.WECOM,
        Platform.QQ,
        Platform.TELEGRAM,
        Platform.DISCORD,
        Platform.SLACK,
        Platform.LINE,
    }
)
# What an over-long value is, in the error that names it; translated only when one is raised.
CHANNEL_ID = gettext_lazy("channel id")
USER_ID = gettext_lazy("user id")
TARGET_USER_ID = gettext_lazy("target user id")
PARENT_ID = gettext_lazy("parent id")
THREAD_ID = gettext_lazy("thread id")
EVENT_ID = gettext_lazy("event id")


@dataclass
class ChannelSummary:
    name: str
    platform: str
    events_read: int = 0
    events_added: int = 0
    added_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def duplicates_skipped(self) -> int:
        return self.events_read - self.events_added


@dataclass
class ImportSummary:
    import_run_id: int
    format: str
    source: str
    community: str
    members_new: int = 0
    members_updated: int = 0
    events_read: int = 0
    events_added: int = 0
    seconds: float = 0.0
    channels: dict[str, ChannelSummary] = field(default_factory=dict)
    source_counts: dict[str, int] = field(default_factory=dict)

    @property
    def duplicates_skipped(self) -> int:
        return self.events_read - self.events_added

    @property
    def events_per_second(self) -> float:
        return self.events_read / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_run_id": self.import_run_id,
            "format": self.format,
            "source": self.source,
            "community": self.community,
            "members_new": self.members_new,
            "members_updated": self.members_updated,
            "events_read": self.events_read,
            "events_added": self.events_added,
            "duplicates_skipped": self.duplicates_skipped,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_per_second, 1),
            "source_counts": self.source_counts,
            "channels": {
                key: {
                    "name": channel.name,
                    "platform": channel.platform,
                    "events_read": channel.events_read,
                    "events_added": channel.events_added,
                    "duplicates_skipped": channel.duplicates_skipped,
                    "added_by_kind": channel.added_by_kind,
                }
                for key, channel in self.channels.items()
            },
        }


@dataclass(slots=True)
class _KnownIdentity:
    member_id: int
    identity_id: int
    handle: str
    display_name: str
    role: str
    joined_at: dt.datetime | None
    left_at: dt.datetime | None
    profile: dict[str, Any]


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector rarely during an import.

    An import allocates millions of short-lived objects (parse results, records, rows), hardly
    any of them in reference cycles, while it holds large maps (accounts, recent messages). At
    the default thresholds the collector ran thousands of times and rescanned those maps each
    time, which cost a third of an import's time. Reference counting still frees everything at
    once; the collector still runs, only every few hundred thousand allocations.
    """
    thresholds = gc.get_threshold()
    gc.freeze()  # what was alive before the import (Django, the app registry) is never rescanned
    gc.set_threshold(200_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strip_nul(v) for v in value]
    return value


def _attributes_json(attributes: dict[str, Any]) -> str:
    """JSON text for the attributes column; PostgreSQL's JSON refuses NUL, so it is dropped."""
    text = orjson.dumps(attributes).decode()
    if "\\u0000" in text:
        text = orjson.dumps(_strip_nul(attributes)).decode()
    return text


def _clean_name(name: str) -> str:
    """Names are shown, not matched: drop NUL (PostgreSQL refuses it) and fit the column."""
    return name.replace("\x00", "")[:255]


def _merged(earlier: MemberRecord, later: MemberRecord) -> MemberRecord:
    """Two records of one account in one import: the later wins, roles only rise, joins only
    move earlier — the same rules as for an account already stored."""
    role = earlier.role
    if later.role and (role is None or ROLE_RANK[Role(later.role)] > ROLE_RANK[Role(role)]):
        role = later.role
    joined = [t for t in (earlier.joined_at, later.joined_at) if t is not None]
    return MemberRecord(
        channel=later.channel,
        platform_user_id=later.platform_user_id,
        display_name=later.display_name or earlier.display_name,
        handle=later.handle or earlier.handle,
        role=role,
        is_bot=later.is_bot or earlier.is_bot,
        joined_at=min(joined) if joined else None,
        left_at=later.left_at or earlier.left_at,
        profile={**(earlier.profile or {}), **(later.profile or {})} or None,
        location=later.location,
    )


class _ChannelState:
    """What the pipeline knows about one channel's accounts, loaded once per import."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.known: dict[str, _KnownIdentity] = {}
        rows = Identity.objects.filter(channel=channel).values_list(
            "platform_user_id",
            "id",
            "member_id",
            "handle",
            "member__display_name",
            "member__role",
            "member__joined_at",
            "member__left_at",
            "profile",
        )
        for puid, identity_id, member_id, *fields in rows.iterator(2000):
            self.known[puid] = _KnownIdentity(member_id, identity_id, *fields)


class ImportPipeline:
    def __init__(
        self,
        community: Community,
        source: Source,
        *,
        actor: Any = None,
        store_text: bool | None = None,
        batch_size: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.community = community
        self.source = source
        self.actor = actor
        self.store_text = settings.SHEQUN_STORE_TEXT if store_text is None else store_text
        self.batch_size = batch_size or settings.SHEQUN_IMPORT_BATCH_SIZE
        self.progress = progress
        self._tz = community.zoneinfo
        self._day_cache: tuple[int, Any] = (-1, None)  # (quarter hour, day as the writer wants it)
        # (channel id, source id) -> (member id, identity id) of recent messages, oldest first.
        # An OrderedDict: evicting the oldest entry of a plain dict slows down as deletions pile up.
        self._recent_messages: OrderedDict[tuple[int, str], tuple[int | None, int]] = OrderedDict()
        self._membership_changes = False  # any join, leave or mute seen
        self._channels: dict[str, _ChannelState] = {}
        self._pending_members: dict[tuple[str, str], MemberRecord] = {}
        self._member_updates: dict[int, dict[str, Any]] = {}
        self._identity_updates: dict[int, dict[str, Any]] = {}
        self._events: list[tuple[EventRecord, _ChannelState]] = []
        self._members_new = 0
        self._members_updated: set[int] = set()
        self._created_member_ids: set[int] = set()
        # Platform-wide accounts met so far and their members: the same account in the next
        # channel (a Slack user in every channel they post in) needs no query to find its owner.
        self._global_members: dict[tuple[str, str], Member] = {}
        self._has_mappings = IdentityMapping.objects.filter(community=community).exists()
        self._records_read = 0
        self._events_read: Counter[str] = Counter()

    # ----------------------------------------------------------------- public
    def run(self) -> ImportSummary:
        """Import everything or nothing: on any error the database is left as it was."""
        started = time.perf_counter()
        with _fewer_collections(), transaction.atomic():
            run = ImportRun.objects.create(
                community=self.community,
                format=self.source.format_name,
                source=str(self.source.path),
                source_bytes=self.source.total_bytes,
                actor=self.actor,
            )
            return self._run_in_transaction(run, started)

    # ---------------------------------------------------------------- private
    def _run_in_transaction(self, run: ImportRun, started: float) -> ImportSummary:
        self._run = run
        self._after_event_id = InteractionEvent.objects.aggregate(m=Max("id"))["m"] or 0
        self._writer = event_writer()
        self._events_added = 0
        try:
            for record in self.source.records():
                self._records_read += 1
                if isinstance(record, EventRecord):
                    self._accept_event(record)
                elif isinstance(record, MemberRecord):
                    self._accept_member(record)
                elif isinstance(record, ChannelRecord):
                    self._accept_channel(record)
                else:  # pragma: no cover - a parser bug, not bad input
                    raise TypeError(f"unexpected record {record!r}")
            self._flush()
        finally:
            self._writer.close()
        self._resolve_targets_from_parents()
        self._apply_membership_events()
        add_rollups_for_run(run.pk, self._after_event_id)
        summary = self._summarise(run, started)
        run.status = ImportRun.Status.SUCCEEDED
        run.finished_at = timezone.now()
        run.summary = summary.as_dict()
        run.save(update_fields=["status", "finished_at", "summary"])
        audit.record(
            "import.run",
            community=self.community,
            actor=self.actor,
            target=run,
            details={
                "format": run.format,
                "source": run.source,
                "events_added": summary.events_added,
                "members_new": summary.members_new,
            },
        )
        return summary

    def _channel(self, key: str, location: str) -> _ChannelState:
        try:
            return self._channels[key]
        except KeyError:
            raise ImportFormatError(
                self.source.path,
                location,
                _("refers to channel %(channel)s before it was declared") % {"channel": repr(key)},
            ) from None

    def _check_id(self, value: str | None, what: Promise, location: str) -> None:
        if value is None:
            return
        if len(value) > MAX_ID:
            raise ImportFormatError(
                self.source.path,
                location,
                _("%(field)s is longer than %(limit)d characters")
                % {"field": what, "limit": MAX_ID},
            )
        if "\x00" in value:
            raise ImportFormatError(
                self.source.path,
                location,
                _("%(field)s contains a NUL character") % {"field": what},
            )

    def _accept_channel(self, record: ChannelRecord) -> None:
        if record.key in self._channels:
            return
        if not record.key:
            raise ImportFormatError(self.source.path, "", _("a channel without a name or id"))
        self._check_id(record.key, CHANNEL_ID, "")
        if record.platform not in VALID_PLATFORMS:
            raise ImportFormatError(
                self.source.path,
                "",
                _("unknown platform %(platform)s") % {"platform": repr(record.platform)},
            )
        channel, _created = get_or_create_channel(
            self.community, platform=record.platform, external_id=record.key, name=record.name
        )
        self._channels[record.key] = _ChannelState(channel)

    def _accept_member(self, record: MemberRecord) -> None:
        state = self._channel(record.channel, record.location)
        if not record.platform_user_id:
            raise ImportFormatError(self.source.path, record.location, _("member has no user id"))
        self._check_id(record.platform_user_id, USER_ID, record.location)
        if record.role is not None and record.role not in ROLE_RANK:
            raise ImportFormatError(
                self.source.path,
                record.location,
                _("unknown role %(role)s") % {"role": repr(record.role)},
            )
        known = state.known.get(record.platform_user_id)
        if known is None:
            key = (record.channel, record.platform_user_id)
            pending = self._pending_members.get(key)
            self._pending_members[key] = record if pending is None else _merged(pending, record)
            return
        self._update_known(known, record)

    def _update_known(self, known: _KnownIdentity, record: MemberRecord) -> None:
        member_changes: dict[str, Any] = {}
        identity_changes: dict[str, Any] = {}
        handle = _clean_name(record.handle or record.display_name)
        if handle and handle != known.handle:
            identity_changes["handle"] = handle
            # The member's name followed this account's name; keep following it.
            if known.display_name == known.handle and record.display_name:
                member_changes["display_name"] = _clean_name(record.display_name)
                known.display_name = member_changes["display_name"]
            known.handle = handle
        if record.profile and record.profile != known.profile:
            identity_changes["profile"] = record.profile
            known.profile = record.profile
        # Platform roles only ever raise a member's role; operators lower them by hand.
        if record.role and ROLE_RANK[Role(record.role)] > ROLE_RANK[Role(known.role)]:
            member_changes["role"] = record.role
            known.role = record.role
        if record.joined_at and (known.joined_at is None or record.joined_at < known.joined_at):
            member_changes["joined_at"] = record.joined_at
            known.joined_at = record.joined_at
        if record.left_at and record.left_at != known.left_at:
            member_changes["left_at"] = record.left_at
            known.left_at = record.left_at
        if member_changes:
            self._member_updates.setdefault(known.member_id, {}).update(member_changes)
            self._members_updated.add(known.member_id)
        if identity_changes:
            self._identity_updates.setdefault(known.identity_id, {}).update(identity_changes)
            if "handle" in identity_changes:
                self._members_updated.add(known.member_id)

    def _accept_event(self, record: EventRecord) -> None:
        # The hot path: one call per event. Checks are cheap tests first; the slow path that
        # builds the error message runs only for a bad record.
        state = self._channels.get(record.channel) or self._channel(record.channel, record.location)
        if record.kind not in VALID_KINDS or not record.source_id:
            self._reject_event(record)
        for value in (record.source_id, record.actor, record.target, record.parent, record.thread):
            if value is not None and (len(value) > MAX_ID or "\x00" in value):
                self._reject_event(record)
        if record.occurred_at.utcoffset() is None:
            self._reject_event(record)
        known = state.known
        kind = record.kind
        actor = record.actor
        if actor is not None and actor not in known:
            self._pend_member(record.channel, actor, record.actor_name, record.location)
        target = record.target
        if target is not None and target not in known:
            self._pend_member(record.channel, target, "", record.location)
        if kind in LIFECYCLE_KINDS:
            self._membership_changes = True
        self._events_read[record.channel] += 1
        self._events.append((record, state))
        if len(self._events) >= self.batch_size:
            self._flush()

    def _pend_member(self, channel: str, user_id: str, name: str, location: str) -> None:
        key = (channel, user_id)
        if key not in self._pending_members:
            self._pending_members[key] = MemberRecord(
                channel=channel,
                platform_user_id=user_id,
                display_name=name or user_id,
                location=location,
            )

    def _reject_event(self, record: EventRecord) -> None:
        """Raise the error that explains what is wrong with this event."""
        if record.kind not in VALID_KINDS:
            raise ImportFormatError(
                self.source.path,
                record.location,
                _("unknown event kind %(kind)s") % {"kind": repr(record.kind)},
            )
        if not record.source_id:
            raise ImportFormatError(self.source.path, record.location, _("event has no id"))
        for value, what in (
            (record.source_id, EVENT_ID),
            (record.actor, USER_ID),
            (record.target, TARGET_USER_ID),
            (record.parent, PARENT_ID),
            (record.thread, THREAD_ID),
        ):
            self._check_id(value, what, record.location)
        raise ImportFormatError(
            self.source.path,
            record.location,
            _("time %(time)s has no time zone") % {"time": record.occurred_at.isoformat()},
        )

    def _flush(self) -> None:
        self._create_pending_members()
        self._apply_member_updates()
        if self._events:
            self._events_added += self._writer.write(self._event_rows())
            self._events.clear()
        if self.progress is not None:
            done, total = self.source.progress()
            self.progress(done, total, self._records_read)

    def _create_pending_members(self) -> None:
        """New accounts become new members, unless a mapping file ties them to a member key."""
        if not self._pending_members:
            return
        pending = list(self._pending_members.values())
        self._pending_members.clear()
        keys = self._mapped_keys(pending)
        existing = {
            member.key: member
            for member in Member.objects.filter(
                community=self.community, key__in=set(keys.values())
            )
        }
        by_account = self._members_of_global_accounts(pending)
        owners: list[Member] = []
        created: list[Member] = []
        by_key: dict[str, Member] = dict(existing)
        for index, record in enumerate(pending):
            key = keys.get(index, "")
            if key and key in by_key:
                owners.append(by_key[key])
                continue
            account = self._global_account(record)
            if not key and account in by_account:
                owners.append(by_account[account])
                continue
            member = Member(
                community=self.community,
                display_name=_clean_name(
                    record.display_name or record.handle or record.platform_user_id
                ),
                role=record.role or Role.MEMBER,
                is_bot=record.is_bot,
                joined_at=record.joined_at,
                left_at=record.left_at,
                key=key,
            )
            created.append(member)
            owners.append(member)
            if key:
                by_key[key] = member
            if account is not None:
                by_account[account] = member
        Member.objects.bulk_create(created, batch_size=500)
        self._global_members.update(by_account)
        identities = [
            Identity(
                member=member,
                channel=self._channels[record.channel].channel,
                platform_user_id=record.platform_user_id,
                handle=_clean_name(record.handle or record.display_name or ""),
                profile=record.profile or {},
            )
            for record, member in zip(pending, owners, strict=True)
        ]
        Identity.objects.bulk_create(identities, batch_size=500)
        for record, member, identity in zip(pending, owners, identities, strict=True):
            self._channels[record.channel].known[record.platform_user_id] = _KnownIdentity(
                member.pk,
                identity.pk,
                identity.handle,
                member.display_name,
                member.role,
                member.joined_at,
                member.left_at,
                identity.profile,
            )
        self._members_new += len(created)
        self._created_member_ids.update(member.pk for member in created)
        self._members_updated.update(
            member.pk for member in owners if member.pk not in self._created_member_ids
        )

    def _global_account(self, record: MemberRecord) -> tuple[str, str] | None:
        platform = self._channels[record.channel].channel.platform
        if platform in GLOBAL_ID_PLATFORMS:
            return platform, record.platform_user_id
        return None

    def _members_of_global_accounts(
        self, pending: list[MemberRecord]
    ) -> dict[tuple[str, str], Member]:
        """Accounts already known on another channel of the same platform: the same person."""
        met = self._global_members
        wanted: dict[str, set[str]] = {}
        found: dict[tuple[str, str], Member] = {}
        for record in pending:
            account = self._global_account(record)
            if account is None:
                continue
            if account in met:
                found[account] = met[account]
            else:
                wanted.setdefault(account[0], set()).add(account[1])
        for platform, user_ids in wanted.items():
            ids = sorted(user_ids)
            for start in range(0, len(ids), 500):
                identities = Identity.objects.filter(
                    member__community=self.community,
                    channel__platform=platform,
                    platform_user_id__in=ids[start : start + 500],
                ).select_related("member")
                for identity in identities:
                    found.setdefault((platform, identity.platform_user_id), identity.member)
        return found

    def _mapped_keys(self, pending: list[MemberRecord]) -> dict[int, str]:
        """Member keys for pending accounts (by position), from the community's mapping file."""
        if not self._has_mappings:
            return {}
        accounts = [
            (self._channels[record.channel].channel.platform, record.platform_user_id)
            for record in pending
        ]
        found = mapped_keys(self.community, accounts)
        return {index: found[account] for index, account in enumerate(accounts) if account in found}

    def _apply_member_updates(self) -> None:
        for model, updates in ((Member, self._member_updates), (Identity, self._identity_updates)):
            if not updates:
                continue
            by_fields: dict[tuple[str, ...], list[Any]] = {}
            for pk, changes in updates.items():
                obj = model(pk=pk, **changes)
                by_fields.setdefault(tuple(sorted(changes)), []).append(obj)
            for fields, objs in by_fields.items():
                if model is Member:
                    fields = (*fields, "updated_at")
                    now = timezone.now()
                    for obj in objs:
                        obj.updated_at = now
                model.objects.bulk_update(objs, list(fields), batch_size=500)
            updates.clear()

    def _event_rows(self) -> list[EventRow]:
        """The batch's rows, in the writer's column order and with its time representation.

        The hot loop of every import after parsing: lookups are hoisted into locals, and the
        community-local day is worked out once per quarter hour (every UTC offset in use is a
        multiple of 15 minutes, and events arrive mostly in time order).
        """
        community_id = self.community.pk
        run_id = self._run.pk
        store_text = self.store_text
        recent = self._recent_messages
        targeted_by_parent = TARGETED_BY_PARENT
        message_kinds = MESSAGE_KINDS
        tz, utc = self._tz, dt.UTC
        naive_utc_text = self._writer.NAIVE_UTC_TEXT
        bucket_seen, day = self._day_cache
        rows: list[EventRow] = []
        append = rows.append
        for record, state in self._events:
            known = state.known
            channel_id = state.channel.pk
            kind = record.kind
            actor = actor_identity = target = target_identity = None
            if record.actor is not None:
                account = known[record.actor]
                actor, actor_identity = account.member_id, account.identity_id
            if record.target is not None:
                account = known[record.target]
                target_identity = account.identity_id
                # Addressing oneself is no interaction; the account is kept for un-merging.
                target = account.member_id if account.member_id != actor else None
            elif record.parent is not None and kind in targeted_by_parent:
                # Most replies answer something recent: aim them here, and leave the rest to
                # one UPDATE once everything is in (_resolve_targets_from_parents).
                parent = recent.get((channel_id, record.parent))
                if parent is not None:
                    target, target_identity = parent
                    if target == actor:
                        target = None
            if kind in message_kinds and actor_identity is not None:
                recent[(channel_id, record.source_id)] = (actor, actor_identity)
                if len(recent) > RECENT_MESSAGES:
                    recent.popitem(last=False)
            text = record.text
            if text and "\x00" in text:  # PostgreSQL text cannot hold NUL; it carries no meaning
                text = text.replace("\x00", "")
            length = record.text_length if record.text_length is not None else len(text or "")
            occurred = record.occurred_at
            bucket = int(occurred.timestamp() // 900)
            if bucket != bucket_seen:
                bucket_seen = bucket
                day = occurred.astimezone(tz).date()
                if naive_utc_text:
                    day = day.isoformat()
            if naive_utc_text:
                # Django keeps SQLite datetimes as naive UTC text; store the same.
                if occurred.tzinfo is not utc:
                    occurred = occurred.astimezone(utc)
                # The aware text less its "+00:00": one call instead of replace() + isoformat().
                occurred = occurred.isoformat(" ")[:-6]
            append(
                [
                    community_id,
                    channel_id,
                    actor,
                    target,
                    kind,
                    occurred,
                    day,
                    record.source_id,
                    record.parent,
                    record.thread,
                    record.content_type,
                    length,
                    text if store_text else None,
                    _attributes_json(record.attributes) if record.attributes else None,
                    run_id,
                    actor_identity,
                    target_identity,
                ]
            )
        self._day_cache = (bucket_seen, day)
        return rows

    def _resolve_targets_from_parents(self) -> None:
        """Aim replies and reactions at the author of what they answer, set-based.

        First this import's events whose parent the pipeline did not remember; then earlier
        imports' events whose parent arrived only now (their received counts are added here, as
        their own import could not). Answering or reacting to oneself has no target.
        """
        table = InteractionEvent._meta.db_table
        kinds = ", ".join(f"'{kind}'" for kind in TARGETED_BY_PARENT)
        # UPDATE … FROM (SQLite >= 3.33, PostgreSQL): one index lookup of the parent per row.
        assignment = (
            f"UPDATE {table} SET target_identity_id = parent.identity_id,"
            f" target_member_id = CASE WHEN {table}.member_id IS NULL"
            f"   OR parent.member_id <> {table}.member_id THEN parent.member_id END"
            f" FROM {table} AS parent"
            f" WHERE parent.channel_id = {table}.channel_id"
            f" AND parent.source_id = {table}.parent_source_id"
            f" AND {table}.target_identity_id IS NULL"
            f" AND {table}.parent_source_id IS NOT NULL AND {table}.kind IN ({kinds})"
        )
        run, after = self._run.pk, self._after_event_id
        with connection.cursor() as cursor:
            cursor.execute(
                f"{assignment} AND {table}.import_run_id = %s AND {table}.id > %s", [run, after]
            )
            cursor.execute(
                f"{assignment} AND {table}.id <= %s"
                f" AND parent.import_run_id = %s AND parent.id > %s RETURNING {table}.id",
                [after, run, after],
            )
            earlier = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(earlier), 500):
            add_received_rollups(earlier[start : start + 500])

    def _apply_membership_events(self) -> None:
        """Keep members' joined/left/muted times in step with their join, leave and mute events.

        Per account: a leave after its latest join means the account left. A member has left
        (the seed: no longer a member) only when every account with join/leave history has left
        — leaving one Slack channel is not leaving the community — and comes back with any later
        join. Only members with such events in this import are looked at, over their history.
        """
        if not self._membership_changes:
            return
        touched = (
            InteractionEvent.objects.filter(
                import_run=self._run,
                id__gt=self._after_event_id,
                kind__in=LIFECYCLE_KINDS,
                member__isnull=False,
            )
            .values("member_id")
            .distinct()
        )
        # member -> account -> kind -> (first, last)
        history: dict[int, dict[int | None, dict[str, tuple[dt.datetime, dt.datetime]]]] = {}
        rows = (
            InteractionEvent.objects.filter(member_id__in=touched, kind__in=LIFECYCLE_KINDS)
            .values_list("member_id", "identity_id", "kind")
            .annotate(first=Min("occurred_at"), last=Max("occurred_at"))
            .order_by()
        )
        for member_id, identity_id, kind, first, last in rows:
            history.setdefault(member_id, {}).setdefault(identity_id, {})[kind] = (first, last)
        if not history:
            return
        changed = []
        for member in Member.objects.filter(pk__in=history.keys()).only(
            "joined_at", "left_at", "muted_at"
        ):
            before = (member.joined_at, member.left_at, member.muted_at)
            accounts = history[member.pk].values()
            joins = [kinds[EventKind.JOIN] for kinds in accounts if EventKind.JOIN in kinds]
            if joins:
                first_join = min(first for first, _last in joins)
                if member.joined_at is None or first_join < member.joined_at:
                    member.joined_at = first_join
            leaves, still_in = [], False
            for kinds in accounts:
                last_join = kinds.get(EventKind.JOIN, (None, None))[1]
                last_leave = kinds.get(EventKind.LEAVE, (None, None))[1]
                if last_leave and (last_join is None or last_leave > last_join):
                    leaves.append(last_leave)
                elif last_join:
                    still_in = True
            if leaves and not still_in:
                member.left_at = max(leaves)
            elif still_in and member.left_at:
                latest_join = max(last for _first, last in joins)
                if latest_join > member.left_at:
                    member.left_at = None
            mutes = [kinds[EventKind.MUTE][1] for kinds in accounts if EventKind.MUTE in kinds]
            latest_join = max((last for _first, last in joins), default=None)
            if mutes and (latest_join is None or max(mutes) > latest_join):
                member.muted_at = max(mutes)
            if (member.joined_at, member.left_at, member.muted_at) != before:
                changed.append(member)
                if member.pk not in self._created_member_ids:
                    self._members_updated.add(member.pk)
        Member.objects.bulk_update(changed, ["joined_at", "left_at", "muted_at"], batch_size=500)

    def _summarise(self, run: ImportRun, started: float) -> ImportSummary:
        summary = ImportSummary(
            import_run_id=run.pk,
            format=run.format,
            source=run.source,
            community=self.community.slug,
            members_new=self._members_new,
            members_updated=len(self._members_updated),
            events_read=sum(self._events_read.values()),
            events_added=self._events_added,
            source_counts=dict(self.source.counts),
        )
        for key, state in self._channels.items():
            summary.channels[key] = ChannelSummary(
                name=state.channel.name or key,
                platform=state.channel.platform,
                events_read=self._events_read.get(key, 0),
            )
        by_channel = {state.channel.pk: key for key, state in self._channels.items()}
        added = (
            InteractionEvent.objects.filter(import_run=run, id__gt=self._after_event_id)
            .values_list("channel_id", "kind")
            .annotate(n=Count("id"))
            .order_by()
        )
        for channel_id, kind, count in added:
            channel_summary = summary.channels[by_channel[channel_id]]
            channel_summary.added_by_kind[kind] = count
            channel_summary.events_added += count
        summary.seconds = time.perf_counter() - started
        return summary
