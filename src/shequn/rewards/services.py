"""Write operations on points: awarding, manual entries and reversals, rules, levels, presets.

Every operator action is audited (``shequn.audit.services.record``) in the transaction that
makes it. The ledger only grows; the one sanctioned change to existing entries is moving them
between members when members are merged or un-merged (``reassign_entries``,
``follow_event_members``).
"""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import tomli_w
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.communities.models import Community
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member
from shequn.rewards.engine import (
    AwardResult,
    award,
    id_filter,
    record_level_ups_from_ledger,
    refresh_member_points,
    store_member_balances,
    write_level_ups,
)
from shequn.rewards.levels import LevelCurve
from shequn.rewards.models import (
    Level,
    LevelScheme,
    LevelUp,
    PointEntry,
    PointRule,
    PointsState,
)
from shequn.rewards.presets import PRESETS
from shequn.rewards.rules import (
    MAX_POINTS,
    RULE_DEFAULTS,
    RULE_FIELDS,
    RuleError,
    check_rule_set,
    clean_levels,
    clean_rule,
    rule_label,
)
from shequn.rewards.selectors import level_curve, level_scheme

__all__ = [
    "AwardResult",
    "PointsError",
    "RuleError",
    "RulesImportResult",
    "do_apply_preset",
    "do_award_points",
    "do_delete_rule",
    "do_import_rules_toml",
    "do_manual_entry",
    "do_reverse_entry",
    "do_save_level_scheme",
    "do_save_rule",
    "export_rules_toml",
    "follow_event_members",
    "give_back_entries",
    "reassign_entries",
    "rule_values",
]

MAX_REASON = 1_000


class PointsError(ValueError):
    """A points operation that is refused (no reason given, reversing twice …)."""


# --------------------------------------------------------------------------- awarding
@transaction.atomic
def do_award_points(community: Community, *, full: bool = False, actor: Any = None) -> AwardResult:
    """Award the enabled rules to events not looked at yet (``full``: to every event).

    Only entries whose idempotency key is new are added, so running it again, re-importing the
    same data or recomputing in full never awards an event twice; a rule added later (or a
    preset applied) reaches past events on the next full run. Changing a rule does not rewrite
    history: entries already awarded stay as they are.
    """
    PointsState.objects.get_or_create(community=community)
    state = PointsState.objects.select_for_update().get(community=community)
    upto = InteractionEvent.objects.filter(community=community).aggregate(top=Max("id"))["top"] or 0
    result, balances = award(community, after=0 if full else state.last_event_id, upto=upto)
    result.full = full
    if full:
        refresh_member_points(community)
    else:
        store_member_balances(community, balances)
    state.last_event_id = max(state.last_event_id, upto)
    if full:
        state.last_full_at = timezone.now()
    state.save()
    result.watermark = state.last_event_id
    if result.entries_created:
        audit.record(
            "points.award",
            community=community,
            actor=actor,
            details={
                "full": full,
                "events": result.events_scanned,
                "entries": result.entries_created,
                "points": result.points_awarded,
                "members": result.members_touched,
                "level_ups": result.level_ups,
            },
        )
    return result


# ----------------------------------------------------------------- manual and reversal
def _check_reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise PointsError(_("A reason is required: say why the points change."))
    if len(text) > MAX_REASON:
        raise PointsError(
            _("The reason is too long (at most %(n)d characters).") % {"n": MAX_REASON}
        )
    return text


def _check_amount(amount: Any) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise PointsError(_("The amount must be a whole number other than 0."))
    if abs(amount) > MAX_POINTS:
        raise PointsError(_("The amount is too large (at most %(n)d).") % {"n": MAX_POINTS})


def _append(community: Community, entry: PointEntry) -> list[LevelUp]:
    """Save one new entry, bring the member's balance up to date and record level-ups."""
    curve = level_curve(community)
    member_id = entry.member_id
    before = int(
        PointEntry.objects.filter(member_id=member_id).aggregate(total=Sum("amount"))["total"] or 0
    )
    recorded = LevelUp.objects.filter(member_id=member_id).aggregate(top=Max("level"))["top"] or 0
    entry.save()
    reached = curve.level_of(before + entry.amount)
    start = max(recorded, curve.level_of(0))
    if reached > start:
        write_level_ups(
            community, curve, [(member_id, start, reached, entry.occurred_at, entry.pk)]
        )
    refresh_member_points(community, [member_id])
    return list(LevelUp.objects.filter(entry=entry))


@transaction.atomic
def do_manual_entry(member: Member, amount: int, *, reason: str, actor: Any) -> PointEntry:
    """Award (amount > 0) or deduct (amount < 0) points by hand, with a reason; audited."""
    text = _check_reason(reason)
    _check_amount(amount)
    community = member.community
    now = timezone.now()
    entry = PointEntry(
        community=community,
        member=member,
        amount=amount,
        kind=PointEntry.Kind.MANUAL,
        reason=text,
        occurred_at=now,
        day=timezone.localdate(now, timezone=community.zoneinfo),
        idempotency_key=f"manual:{uuid.uuid4().hex}",
        actor=actor if getattr(actor, "pk", None) else None,
    )
    level_ups = _append(community, entry)
    audit.record(
        "points.manual",
        community=community,
        actor=actor,
        target=member,
        details={
            "entry": entry.pk,
            "member": {"id": member.pk, "display_name": member.display_name},
            "amount": amount,
            "reason": text,
            "level_ups": [level_up.level for level_up in level_ups],
        },
    )
    return entry


@transaction.atomic
def do_keyed_entry(
    member: Member,
    amount: int,
    *,
    reason: str,
    key: str,
    rule_key: str = "",
    occurred_at: Any = None,
    source_event: InteractionEvent | None = None,
    actor: Any = None,
) -> tuple[PointEntry, bool]:
    """Give (amount > 0) or take (amount < 0) points on another app's terms — a charter
    rule's penalty or reward, a connection made — under an idempotency key of that app's own
    (e.g. ``charter-violation:42``), so that replaying the same cause never counts twice.

    Returns the entry and whether it is new (an existing key returns the entry it made).
    Not audited here: the calling action records its own audit entry."""
    text = _check_reason(reason)
    _check_amount(amount)
    community = member.community
    existing = PointEntry.objects.filter(community=community, idempotency_key=key).first()
    if existing is not None:
        return existing, False
    when = occurred_at or timezone.now()
    entry = PointEntry(
        community=community,
        member=member,
        amount=amount,
        kind=PointEntry.Kind.AUTOMATIC,
        rule_key=rule_key[:64],
        reason=text,
        source_event=source_event,
        occurred_at=when,
        day=timezone.localdate(when, timezone=community.zoneinfo),
        idempotency_key=key,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    _append(community, entry)
    return entry, True


@dataclass(frozen=True)
class KeyedEntry:
    """One entry of ``do_keyed_entries``: as ``do_keyed_entry``'s arguments."""

    member_id: int
    amount: int
    reason: str
    key: str
    occurred_at: Any = None  # None: now
    rule_key: str = ""
    source_event_id: int | None = None


KEY_LOOKUP_CHUNK = 500


@transaction.atomic
def do_keyed_entries(
    community: Community, items: Sequence[KeyedEntry], *, actor: Any = None
) -> dict[str, PointEntry]:
    """``do_keyed_entry`` for many causes at once (a charter check over an archive): one bulk
    insert, then the members' balances and level-ups brought up to date together. Keys
    already in the ledger are left as they are. Returns the entry of every key given."""
    reasons = [_check_reason(item.reason) for item in items]
    for item in items:
        _check_amount(item.amount)
    wanted = {item.member_id for item in items}
    members = set(
        Member.objects.filter(community=community, pk__in=sorted(wanted)).values_list(
            "pk", flat=True
        )
    )
    if wanted - members:
        raise PointsError(
            _("Not members of this community: %(ids)s")
            % {"ids": ", ".join(str(pk) for pk in sorted(wanted - members))}
        )
    keys = sorted({item.key for item in items})
    found: dict[str, PointEntry] = {}
    for start in range(0, len(keys), KEY_LOOKUP_CHUNK):
        chunk = keys[start : start + KEY_LOOKUP_CHUNK]
        for entry in PointEntry.objects.filter(community=community, idempotency_key__in=chunk):
            found[entry.idempotency_key] = entry
    zone = community.zoneinfo
    now = timezone.now()
    by_key: dict[str, PointEntry] = {}
    for item, reason in zip(items, reasons, strict=True):
        if item.key in found or item.key in by_key:
            continue
        when = item.occurred_at or now
        by_key[item.key] = PointEntry(
            community=community,
            member_id=item.member_id,
            amount=item.amount,
            kind=PointEntry.Kind.AUTOMATIC,
            rule_key=item.rule_key[:64],
            reason=reason,
            source_event_id=item.source_event_id,
            occurred_at=when,
            day=timezone.localdate(when, timezone=zone),
            idempotency_key=item.key,
            actor=actor if getattr(actor, "pk", None) else None,
        )
    created = PointEntry.objects.bulk_create(list(by_key.values()), batch_size=1_000)
    members = sorted({entry.member_id for entry in created})
    if members:
        refresh_member_points(community, members)
        record_level_ups_from_ledger(community, members)
    return {**found, **{entry.idempotency_key: entry for entry in created}}


@transaction.atomic
def do_reverse_entry(entry: PointEntry, *, reason: str, actor: Any) -> PointEntry:
    """Cancel an entry with a new, opposite one (an entry is reversed at most once, and a
    reversal is never reversed: award or deduct by hand instead); audited."""
    text = _check_reason(reason)
    if entry.kind == PointEntry.Kind.REVERSAL:
        raise PointsError(
            _("Entry #%(id)d is itself a reversal and cannot be reversed; add a manual entry.")
            % {"id": entry.pk}
        )
    if PointEntry.objects.filter(reverses_id=entry.pk).exists():
        raise PointsError(_("Entry #%(id)d has already been reversed.") % {"id": entry.pk})
    community = entry.community
    now = timezone.now()
    reversal = PointEntry(
        community=community,
        member_id=entry.member_id,
        amount=-entry.amount,
        kind=PointEntry.Kind.REVERSAL,
        rule_id=entry.rule_id,
        rule_key=entry.rule_key,
        beneficiary=entry.beneficiary,
        reason=text,
        source_event_id=entry.source_event_id,
        occurred_at=now,
        day=timezone.localdate(now, timezone=community.zoneinfo),
        idempotency_key=f"reverse:{entry.pk}",
        reverses=entry,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            _append(community, reversal)
    except IntegrityError:
        raise PointsError(
            _("Entry #%(id)d has already been reversed.") % {"id": entry.pk}
        ) from None
    audit.record(
        "points.reverse",
        community=community,
        actor=actor,
        target=reversal,
        details={
            "entry": entry.pk,
            "reversal": reversal.pk,
            "member": entry.member_id,
            "amount": reversal.amount,
            "original_reason": entry.reason,
            "reason": text,
        },
    )
    return reversal


# ------------------------------------------------------------------------------ rules
def rule_values(rule: PointRule) -> dict[str, Any]:
    """A rule's editable values, as forms, the API and TOML files carry them."""
    return {field: getattr(rule, field) for field in RULE_FIELDS}


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in values.items()
    }


@transaction.atomic
def do_save_rule(
    community: Community, values: Mapping[str, Any], *, actor: Any, rule: PointRule | None = None
) -> PointRule:
    """Create a rule, or change ``rule`` (``values`` may then hold only the fields to change).

    Raises ``RuleError`` naming the rule and field of every problem; nothing is saved then.
    Changes apply to events awarded from now on (or on a full recompute, to events that have
    no entry under the rule's key yet); past entries are kept as they are.
    """
    if rule is not None and rule.community_id != community.pk:
        raise PointsError(_("This rule belongs to another community."))
    base = rule_values(rule) if rule is not None else dict(RULE_DEFAULTS)
    merged = {**base, **dict(values)}
    if rule is None and "position" not in values:
        top = PointRule.objects.filter(community=community).aggregate(top=Max("position"))["top"]
        merged["position"] = (top or 0) + 1
    cleaned, problems = clean_rule(merged)
    if not problems:
        others = PointRule.objects.filter(community=community)
        if rule is not None:
            others = others.exclude(pk=rule.pk)
        problems = check_rule_set(
            [
                *((rule_label(None, other.key), rule_values(other)) for other in others),
                (rule_label(None, cleaned["key"]), cleaned),
            ]
        )
    if problems:
        raise RuleError(problems)
    before = _jsonable(rule_values(rule)) if rule is not None else None
    target = rule or PointRule(community=community)
    for field, value in cleaned.items():
        setattr(target, field, value)
    target.save()
    after = _jsonable(rule_values(target))
    audit.record(
        "points.rule.update" if rule is not None else "points.rule.create",
        community=community,
        actor=actor,
        target=target,
        details={
            "key": target.key,
            "changed": (
                {k: [before[k], after[k]] for k in after if before[k] != after[k]}
                if before is not None
                else after
            ),
        },
    )
    return target


@transaction.atomic
def do_delete_rule(rule: PointRule, *, actor: Any) -> None:
    """Delete a rule; the points it awarded stay, still naming its key and reason."""
    values = _jsonable(rule_values(rule))
    audit.record(
        "points.rule.delete",
        community=rule.community,
        actor=actor,
        target=rule,
        details={"key": rule.key, "rule": values, "entries": rule.entries.count()},
    )
    rule.delete()


# ----------------------------------------------------------------------------- levels
def _save_levels(community: Community, cleaned: Mapping[str, Any]) -> LevelScheme:
    scheme, _created = LevelScheme.objects.get_or_create(community=community)
    scheme.kind = cleaned["kind"]
    scheme.a, scheme.b, scheme.c = cleaned["a"], cleaned["b"], cleaned["c"]
    scheme.save()
    scheme.levels.all().delete()
    if scheme.kind == LevelScheme.Kind.TABLE:
        Level.objects.bulk_create(
            Level(scheme=scheme, threshold=level["threshold"], name=level["name"])
            for level in cleaned["levels"]
        )
    refresh_member_points(community)
    record_level_ups_from_ledger(community)
    return scheme


def levels_values(community: Community) -> dict[str, Any]:
    """The community's level scheme as forms, the API and TOML files carry it."""
    scheme = level_scheme(community)
    if scheme.kind == LevelScheme.Kind.TABLE:
        levels = scheme.levels.all() if scheme.pk else []
        return {
            "kind": scheme.kind,
            "levels": [{"threshold": lv.threshold, "name": lv.name} for lv in levels],
        }
    return {"kind": scheme.kind, "a": scheme.a, "b": scheme.b, "c": scheme.c}


@transaction.atomic
def do_save_level_scheme(
    community: Community, values: Mapping[str, Any], *, actor: Any
) -> LevelScheme:
    """Set how points become levels: {"kind": "quadratic", "a", "b", "c"} or {"kind": "table",
    "levels": [{"threshold", "name"}, …]}. Levels are recomputed; level-ups already recorded
    stay as history."""
    cleaned, problems = clean_levels(values)
    if problems:
        raise RuleError(problems)
    before = levels_values(community)
    scheme = _save_levels(community, cleaned)
    audit.record(
        "points.levels",
        community=community,
        actor=actor,
        target=scheme,
        details={"before": before, "after": levels_values(community)},
    )
    return scheme


# ------------------------------------------------------------------------ TOML, presets
TOML_HEADER = """\
# shequn points rules and levels (see docs/points.md for every field).
# Import with: shequn points import COMMUNITY FILE
"""
# Fields written even when they hold their default, so a file shows what each rule does.
ALWAYS_WRITTEN = ("key", "name", "enabled", "event_kind", "beneficiary", "amount")


def export_rules_toml(community: Community) -> str:
    """The community's rules and levels as a TOML document ``do_import_rules_toml`` reads."""
    rules = []
    for rule in PointRule.objects.filter(community=community).order_by("position", "key"):
        values = rule_values(rule)
        values.pop("position")
        rules.append(
            {
                field: value
                for field, value in values.items()
                if value is not None and (field in ALWAYS_WRITTEN or value != RULE_DEFAULTS[field])
            }
        )
    document: dict[str, Any] = {"levels": levels_values(community), "rules": rules}
    return TOML_HEADER + "\n" + tomli_w.dumps(document)


@dataclass
class RulesImportResult:
    created: list[str]
    updated: list[str]
    deleted: list[str]
    levels_changed: bool


def _parse_document(document: Mapping[str, Any]) -> tuple[list[dict], dict | None, list[str]]:
    problems: list[str] = []
    for name in sorted(set(document) - {"rules", "levels"}):
        problems.append(_("unknown section '%(name)s' (known: rules, levels)") % {"name": name})
    raw_rules = document.get("rules", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, Mapping) for r in raw_rules):
        problems.append(_("'rules' must be a list of tables ([[rules]])"))
        raw_rules = []
    rules = []
    for index, raw in enumerate(raw_rules, 1):
        values = dict(raw)
        values.setdefault("position", index)
        cleaned, rule_problems = clean_rule(values, index=index)
        problems.extend(rule_problems)
        rules.append(cleaned)
    levels = None
    if "levels" in document:
        if not isinstance(document["levels"], Mapping):
            problems.append(_("'levels' must be a table ([levels])"))
        else:
            levels, level_problems = clean_levels(document["levels"])
            problems.extend(level_problems)
    if not problems:
        labelled = [(rule_label(i, r["key"]), r) for i, r in enumerate(rules, 1)]
        problems.extend(check_rule_set(labelled))
    return rules, levels, problems


def _apply_rules(
    community: Community, rules: list[dict], *, replace: bool
) -> tuple[list[str], list[str], list[str]]:
    existing = {rule.key: rule for rule in PointRule.objects.filter(community=community)}
    created, updated, deleted = [], [], []
    wanted = {values["key"] for values in rules}
    if replace:
        for key, rule in existing.items():
            if key not in wanted:
                rule.delete()
                deleted.append(key)
    for values in rules:
        rule = existing.get(values["key"])
        if rule is None:
            PointRule.objects.create(community=community, **values)
            created.append(values["key"])
        elif rule_values(rule) != values:
            for field, value in values.items():
                setattr(rule, field, value)
            rule.save()
            updated.append(values["key"])
    return created, updated, deleted


def _check_against_existing(community: Community, rules: list[dict]) -> list[str]:
    """With replace=False, the file's rules must also fit the rules it leaves in place."""
    keys = {values["key"] for values in rules}
    kept = [
        (rule_label(None, rule.key), rule_values(rule))
        for rule in PointRule.objects.filter(community=community).exclude(key__in=keys)
    ]
    labelled = [(rule_label(i, r["key"]), r) for i, r in enumerate(rules, 1)]
    return check_rule_set([*kept, *labelled])


@transaction.atomic
def do_import_rules_toml(
    community: Community, text: str, *, actor: Any, replace: bool = True
) -> RulesImportResult:
    """Load rules (and levels, when the file has them) from TOML: all of it or nothing.

    ``replace``: rules not in the file are deleted (their entries stay). Raises ``RuleError``
    naming the rule (position and key) and the field of every problem.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError([_("not a valid TOML file: %(error)s") % {"error": exc}]) from None
    rules, levels, problems = _parse_document(document)
    if not problems and not replace:
        problems = _check_against_existing(community, rules)
    if problems:
        raise RuleError(problems)
    before = levels_values(community)
    created, updated, deleted = _apply_rules(community, rules, replace=replace)
    levels_changed = False
    if levels is not None:
        _save_levels(community, levels)
        levels_changed = levels_values(community) != before
    result = RulesImportResult(created, updated, deleted, levels_changed)
    audit.record(
        "points.rules.import",
        community=community,
        actor=actor,
        details={
            "replace": replace,
            "created": created,
            "updated": updated,
            "deleted": deleted,
            "levels_changed": levels_changed,
        },
    )
    return result


@transaction.atomic
def do_apply_preset(community: Community, name: str, *, actor: Any) -> AwardResult:
    """Replace the community's rules and levels with a preset, then award in full.

    Rules keep their keys across re-applications, so applying a preset twice awards nothing
    twice."""
    preset = PRESETS.get(name)
    if preset is None:
        raise PointsError(
            _("Unknown preset '%(name)s' (known: %(names)s).")
            % {"name": name, "names": ", ".join(PRESETS)}
        )
    rules, levels, problems = _parse_document(preset)
    if problems:  # a bug in the preset itself
        raise RuleError(problems)
    created, updated, deleted = _apply_rules(community, rules, replace=True)
    if levels is not None:
        _save_levels(community, levels)
    audit.record(
        "points.preset",
        community=community,
        actor=actor,
        details={"preset": name, "created": created, "updated": updated, "deleted": deleted},
    )
    return do_award_points(community, full=True, actor=actor)


def rules_from_toml(text: str) -> list[dict[str, Any]]:
    """The cleaned rules of a TOML text (for previews); raises ``RuleError``."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError([_("not a valid TOML file: %(error)s") % {"error": exc}]) from None
    rules, _levels, problems = _parse_document(document)
    if problems:
        raise RuleError(problems)
    return rules


# ----------------------------------------------------------------------------- merges
def _move(entry_ids: Sequence[int], member_id: int) -> None:
    """The one sanctioned UPDATE of the ledger: entries change member (merges)."""
    table = PointEntry._meta.db_table
    for start in range(0, len(entry_ids), 10_000):
        where, params = id_filter("id", entry_ids[start : start + 10_000])
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET member_id = %s WHERE {where}", [member_id, *params])


@transaction.atomic
def reassign_entries(from_member_id: int, to_member_id: int) -> list[int]:
    """Move every entry of one member to another (before a merge deletes ``from``); returns
    the ids moved. Balances and level-ups of both are brought up to date."""
    members = {m.pk: m for m in Member.objects.filter(pk__in=[from_member_id, to_member_id])}
    if len(members) != 2 or len({m.community_id for m in members.values()}) != 1:
        raise PointsError(_("Points can only move between two members of one community."))
    ids = list(
        PointEntry.objects.filter(member_id=from_member_id)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if ids:
        _move(ids, to_member_id)
        community = members[to_member_id].community
        refresh_member_points(community, [from_member_id, to_member_id])
        record_level_ups_from_ledger(community, [to_member_id])
    return ids


@transaction.atomic
def give_back_entries(entry_ids: list[int], from_member_id: int, to_member_id: int) -> int:
    """Undoing a merge: the entries it moved that ``from`` still holds go back to ``to`` (the
    restored member), with the entries reversing them since (and their reversals); balances
    and level-ups of both follow. Returns how many moved."""
    ids: list[int] = []
    found = set(
        PointEntry.objects.filter(pk__in=entry_ids, member_id=from_member_id).values_list(
            "id", flat=True
        )
    )
    while found:
        ids.extend(found)
        found = set(
            PointEntry.objects.filter(reverses_id__in=found, member_id=from_member_id)
            .exclude(pk__in=ids)
            .values_list("id", flat=True)
        )
    ids.sort()
    if ids:
        _move(ids, to_member_id)
        community = Member.objects.get(pk=to_member_id).community
        refresh_member_points(community, [from_member_id, to_member_id])
        record_level_ups_from_ledger(community, [from_member_id, to_member_id])
    return len(ids)


def _beneficiary_sql(role: str, event_table: str) -> str:
    if role == "actor":
        return f"(SELECT e.member_id FROM {event_table} e WHERE e.id = x.source_event_id)"
    if role == "target":
        return f"(SELECT e.target_member_id FROM {event_table} e WHERE e.id = x.source_event_id)"
    return (
        f"(SELECT p.member_id FROM {event_table} e"
        f" JOIN {event_table} t ON t.channel_id = e.channel_id"
        " AND t.source_id = e.parent_source_id"
        f" JOIN {event_table} p ON p.channel_id = t.channel_id"
        " AND p.source_id = t.parent_source_id"
        " WHERE e.id = x.source_event_id)"
    )


@transaction.atomic
def follow_event_members(member_ids: Sequence[int]) -> list[int]:
    """After merges or un-merges moved events between members: give each entry with a source
    event back to that event's current beneficiary (its actor, target or the target's parent
    author, as the entry records). Pass every member involved, both sides: entries for the
    author of a target's parent are only looked at on those members. Returns the ids moved.
    Entries whose event now has no beneficiary (e.g. a self-vote after a merge) stay put."""
    ids = sorted(set(member_ids))
    if not ids:
        return []
    event_table = InteractionEvent._meta.db_table
    entry_table = PointEntry._meta.db_table
    moves: dict[int, list[int]] = {}
    old_members: set[int] = set()
    with connection.cursor() as cursor:
        for role, column in (
            ("actor", "member_id"),
            ("target", "target_member_id"),
            ("target_parent", None),
        ):
            mine, mine_params = id_filter("x.member_id", ids)
            scope, params = f"({mine}", list(mine_params)
            if column is not None:
                theirs, theirs_params = id_filter(f"ev.{column}", ids)
                scope += (
                    f" OR x.source_event_id IN (SELECT ev.id FROM {event_table} ev WHERE {theirs})"
                )
                params += theirs_params
            scope += ")"
            cursor.execute(
                f"SELECT x.id, x.member_id, {_beneficiary_sql(role, event_table)}"
                f" FROM {entry_table} x WHERE x.source_event_id IS NOT NULL"
                f" AND x.beneficiary = %s AND {scope}",
                [role, *params],
            )
            for entry_id, old, new in cursor.fetchall():
                if new is not None and new != old:
                    moves.setdefault(new, []).append(entry_id)
                    old_members.add(old)
    moved: list[int] = []
    for member_id, entry_ids in moves.items():
        _move(sorted(entry_ids), member_id)
        moved.extend(entry_ids)
    if moved:
        touched = sorted(old_members | set(moves))
        communities = set(
            Member.objects.filter(pk__in=touched).values_list("community_id", flat=True)
        )
        for community in Community.objects.filter(pk__in=communities):
            refresh_member_points(community, touched)
            record_level_ups_from_ledger(community, touched)
    return sorted(moved)


def preset_names() -> list[str]:
    return list(PRESETS)


def curve_for(values: Mapping[str, Any]) -> LevelCurve:
    """The curve a level scheme's values describe (for previews before saving)."""
    cleaned, problems = clean_levels(values)
    if problems:
        raise RuleError(problems)
    return LevelCurve(
        kind=cleaned["kind"],
        a=cleaned["a"],
        b=cleaned["b"],
        c=cleaned["c"],
        table=[(level["threshold"], level["name"]) for level in cleaned["levels"]],
    )
