"""What a merge moved, so that undoing it gives every row back to the person it was about.

Apps that hold rows about members move them from the merged member to the target when a merge
happens (``signals.member_merging``), and answer with a ``MergeMoves``: the ids they moved, by
model and member field, and the rows they deleted as duplicates of the target's own (serialized).
The merge keeps the answers in ``MemberMerge.moved``; undoing it (``restore_moves``) moves the
rows that still belong to the target back to the restored member, and recreates the target's
deleted duplicates, in one statement per model. Rows an app changed in place (e.g. an earlier
onboarding date copied onto the target) stay as they are, and a dropped row comes back without
the rows that hung on it (the feedback on a registration dropped as a duplicate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction

# Models whose rows cannot be moved back by a plain UPDATE (the append-only points ledger)
# name a function (ids, target id, restored id) -> rows given back: ``register_restorer``.
Restorer = Callable[[list[int], int, int], int]
_RESTORERS: dict[str, Restorer] = {}


def register_restorer(model_label: str, restorer: Restorer) -> None:
    _RESTORERS[model_label] = restorer


class MergeEncoder(DjangoJSONEncoder):
    """Django's encoder cuts times to the millisecond (as JavaScript would): a row given back
    keeps its own microseconds (a waitlist is ordered by them)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


def sets_aside(record: Mapping[str, Any]) -> bool:
    """Did this merge set rows aside as duplicates? Undoing merges into one member in another
    order than the reverse of theirs could then give a row to the wrong one."""
    return bool(record.get("dropped"))


@dataclass
class MergeMoves:
    """The rows one app moved to the target (``"app_label.Model.field"`` -> ids) and the rows
    it deleted as duplicates (serialized in Django's python format, with the member field to
    point at the restored member, or "" for the target's own rows)."""

    moved: dict[str, list[int]] = field(default_factory=dict)
    dropped: list[dict[str, Any]] = field(default_factory=list)

    def move(self, queryset: models.QuerySet, member_field: str, target_id: int) -> list[int]:
        """Point the rows of ``queryset`` at ``target_id`` through ``member_field`` (a
        foreign key to the member) and remember which they were."""
        ids = list(queryset.values_list("pk", flat=True))
        if ids:
            queryset.model.objects.filter(pk__in=ids).update(**{f"{member_field}_id": target_id})
            self.note(queryset.model, member_field, ids)
        return ids

    def note(self, model: type[models.Model], member_field: str, ids: Iterable[int]) -> None:
        """Remember rows moved by the app itself."""
        ids = list(ids)
        if ids:
            self.moved.setdefault(f"{model._meta.label}.{member_field}", []).extend(ids)

    def drop(self, queryset: models.QuerySet, *, member_field: str = "") -> None:
        """Delete rows that lose to their counterpart, keeping a copy: the target's own (given
        back as they were) or, naming ``member_field``, the merged member's (given to the
        restored member)."""
        rows = list(queryset)
        if rows:
            for row in serializers.serialize("python", rows):
                self.dropped.append({"row": row, "field": member_field})
            queryset.model.objects.filter(pk__in=[row.pk for row in rows]).delete()


def combined(responses: Iterable[tuple[Any, Any]]) -> dict[str, Any]:
    """The answers of the ``member_merging`` receivers, as kept on the merge."""
    moved: dict[str, list[int]] = {}
    dropped: list[dict[str, Any]] = []
    for _receiver, answer in responses:
        if isinstance(answer, MergeMoves):
            for label, ids in answer.moved.items():
                moved.setdefault(label, []).extend(ids)
            dropped.extend(answer.dropped)
    return {"moved": moved, "dropped": dropped} if moved or dropped else {}


def _refers_to_existing(instance: models.Model) -> bool:
    """Does every row a recreated row points at still exist? (Foreign keys are checked only at
    commit, where a missing one would undo the whole un-merge.)"""
    for relation in instance._meta.concrete_fields:
        if relation.is_relation and relation.many_to_one:
            value = getattr(instance, relation.attname)
            if (
                value is not None
                and not relation.related_model._base_manager.filter(pk=value).exists()
            ):
                return False
    return True


def restore_moves(record: Mapping[str, Any], target_id: int, restored_id: int) -> dict[str, int]:
    """Give the restored member back the rows the merge moved to the target (those the target
    still has), and recreate the rows the merge deleted as duplicates (unless something has
    taken their place since). Returns the rows given back per model label."""
    counts: dict[str, int] = {}
    for label, ids in (record.get("moved") or {}).items():
        model_label, member_field = label.rsplit(".", 1)
        restorer = _RESTORERS.get(model_label)
        if restorer is not None:
            given = restorer(sorted(ids), target_id, restored_id)
        else:
            model = apps.get_model(model_label)
            given = model.objects.filter(pk__in=ids, **{f"{member_field}_id": target_id}).update(
                **{f"{member_field}_id": restored_id}
            )
        if given:
            counts[model_label] = counts.get(model_label, 0) + given
    for item in record.get("dropped") or []:
        (row,) = serializers.deserialize("python", [item["row"]])
        if item["field"]:
            setattr(row.object, f"{item['field']}_id", restored_id)
        model = type(row.object)
        if model.objects.filter(pk=row.object.pk).exists() or not _refers_to_existing(row.object):
            continue
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:  # its place was taken since the merge (e.g. registered again)
            continue
        counts[model._meta.label] = counts.get(model._meta.label, 0) + 1
    return counts
