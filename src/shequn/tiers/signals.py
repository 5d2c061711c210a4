"""The extension point for "acts for the community": advocacy signal providers.

Two ways of acting for the community are built in, because the interaction data already shows
them: **helped** (replied to several different members) and **invited** (brought in a member who
stayed). Hosting or speaking at an activity and publishing a testimonial arrive with later
issues; their apps register a provider here and the tier engine needs no change::

    from shequn.tiers.signals import register_advocacy_signal

    class HostedActivities:
        code = "hosted"            # the reason code stored with a tier, rendered by describe()
        weight_kind = "host"       # which commitment weight of the policy an act earns
        def acts(self, community, member_ids, until):
            # (member id, local day, how many) for every act up to ``until``;
            # ``member_ids`` None means every member of the community.
            ...
        def describe(self, reason):
            return ngettext("hosted %(count)d activity", "hosted %(count)d activities", ...)

    register_advocacy_signal(HostedActivities())

An act counts as a contribution (it makes its week active and earns ``weight_kind`` points of
commitment), and one act inside the window is one way an advocate acts for the community.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class AdvocacySignal(Protocol):
    code: str
    weight_kind: str

    def acts(
        self, community: Any, member_ids: set[int] | None, until: dt.date
    ) -> Iterable[tuple[int, dt.date, int]]: ...

    def describe(self, reason: dict[str, Any]) -> str: ...


_REGISTRY: dict[str, AdvocacySignal] = {}


def register_advocacy_signal(signal: AdvocacySignal) -> None:
    """Add a provider (replacing one with the same ``code``)."""
    if not isinstance(signal, AdvocacySignal):
        raise TypeError("an advocacy signal needs code, weight_kind, acts() and describe()")
    if signal.code in {"helped", "invited"}:
        raise ValueError(f"'{signal.code}' is built in")
    _REGISTRY[signal.code] = signal


def unregister_advocacy_signal(code: str) -> None:
    _REGISTRY.pop(code, None)


def advocacy_signals() -> list[AdvocacySignal]:
    return list(_REGISTRY.values())


def advocacy_signal(code: str) -> AdvocacySignal | None:
    return _REGISTRY.get(code)
