"""Identity mapping files: an operator says which accounts are one person.

The CSV has a header and three columns, ``platform,platform_user_id,member_key``. Loading one
stores the statements (so later imports apply them to new accounts too) and merges the members
already in the database whose accounts map to the same key.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.communities.models import Community, Platform
from shequn.interactions.importers.records import ImportFormatError
from shequn.members.models import Identity, IdentityMapping, Member
from shequn.members.services import do_merge_members

COLUMNS = ("platform", "platform_user_id", "member_key")
MAX_LENGTH = 255


@dataclass
class MappingResult:
    rows: int = 0
    accounts_matched: int = 0
    members_merged: int = 0
    keys_assigned: int = 0


def read_mapping_file(path: Path) -> list[tuple[str, str, str]]:
    """Parse and validate the whole file first, so a bad row changes nothing."""
    rows: list[tuple[str, str, str]] = []
    seen: dict[tuple[str, str], str] = {}
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ImportFormatError(path, "", str(exc)) from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = [column.strip().lower() for column in next(reader, [])]
            if tuple(header) != COLUMNS:
                raise ImportFormatError(
                    path,
                    _("line %(number)d") % {"number": 1},
                    _("the header must be %(expected)s, found %(found)s")
                    % {"expected": ",".join(COLUMNS), "found": ",".join(header) or "nothing"},
                )
            for values in reader:
                where = _("line %(number)d") % {"number": reader.line_num}
                if not any(value.strip() for value in values):
                    continue
                if len(values) != len(COLUMNS):
                    raise ImportFormatError(
                        path,
                        where,
                        _("expected %(expected)d fields, found %(found)d")
                        % {"expected": len(COLUMNS), "found": len(values)},
                    )
                platform, user_id, key = (value.strip() for value in values)
                if platform not in Platform.values:
                    raise ImportFormatError(
                        path,
                        where,
                        _("unknown platform %(platform)s (one of: %(known)s)")
                        % {"platform": repr(platform), "known": ", ".join(Platform.values)},
                    )
                for value, name in ((user_id, "platform_user_id"), (key, "member_key")):
                    if not value:
                        raise ImportFormatError(
                            path, where, _("%(field)s is empty") % {"field": name}
                        )
                    if len(value) > MAX_LENGTH:
                        raise ImportFormatError(
                            path,
                            where,
                            _("%(field)s is longer than %(limit)d characters")
                            % {"field": name, "limit": MAX_LENGTH},
                        )
                previous = seen.get((platform, user_id))
                if previous is not None and previous != key:
                    raise ImportFormatError(
                        path,
                        where,
                        _("%(account)s is mapped to two keys: %(first)s and %(second)s")
                        % {"account": f"{platform}:{user_id}", "first": previous, "second": key},
                    )
                seen[(platform, user_id)] = key
                rows.append((platform, user_id, key))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportFormatError(
                path, _("line %(number)d") % {"number": reader.line_num}, str(exc)
            ) from None
    return rows


@transaction.atomic
def do_load_identity_mapping(
    community: Community, path: Path, *, actor: Any = None
) -> MappingResult:
    """Store the mapping and merge existing members whose accounts share a key."""
    rows = read_mapping_file(path)
    result = MappingResult(rows=len(rows))
    IdentityMapping.objects.bulk_create(
        [
            IdentityMapping(community=community, platform=p, platform_user_id=u, member_key=k)
            for p, u, k in rows
        ],
        update_conflicts=True,
        unique_fields=["community", "platform", "platform_user_id"],
        update_fields=["member_key"],
        batch_size=500,
    )
    result.accounts_matched, result.members_merged, result.keys_assigned = apply_mapping(
        community, actor=actor
    )
    audit.record(
        "identity_mapping.load",
        community=community,
        actor=actor,
        details={"file": str(path), **result.__dict__},
    )
    return result


def apply_mapping(community: Community, *, actor: Any = None) -> tuple[int, int, int]:
    """Merge members whose accounts map to one key; give each such member the key."""
    mapping = {
        (platform, user_id): key
        for platform, user_id, key in IdentityMapping.objects.filter(
            community=community
        ).values_list("platform", "platform_user_id", "member_key")
    }
    members_by_key: dict[str, set[int]] = defaultdict(set)
    matched = 0
    identities = Identity.objects.filter(member__community=community).values_list(
        "channel__platform", "platform_user_id", "member_id"
    )
    for platform, user_id, member_id in identities.iterator(2000):
        key = mapping.get((platform, user_id))
        if key is not None:
            members_by_key[key].add(member_id)
            matched += 1
    keyed = {
        member.key: member
        for member in Member.objects.filter(community=community, key__in=members_by_key)
    }
    merged = assigned = 0
    for key, member_ids in members_by_key.items():
        holder = keyed.get(key)
        members = list(Member.objects.filter(pk__in=member_ids).order_by("id"))
        target = holder or members[0]
        for member in members:
            if member.pk != target.pk:
                do_merge_members(
                    member,
                    target,
                    actor=actor,
                    reason=_("identity mapping: %(key)s") % {"key": key},
                )
                merged += 1
        if target.key != key:
            target.key = key
            target.save(update_fields=["key", "updated_at"])
            assigned += 1
    return matched, merged, assigned


def mapped_keys(
    community: Community, accounts: list[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The keys of these (platform, platform user id) accounts, for the import pipeline."""
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(accounts), 500):
        chunk = accounts[start : start + 500]
        user_ids = {user_id for _platform, user_id in chunk}
        wanted = set(chunk)
        for platform, user_id, key in IdentityMapping.objects.filter(
            community=community, platform_user_id__in=user_ids
        ).values_list("platform", "platform_user_id", "member_key"):
            if (platform, user_id) in wanted:
                found[(platform, user_id)] = key
    return found


__all__ = ["MappingResult", "apply_mapping", "do_load_identity_mapping", "mapped_keys"]
