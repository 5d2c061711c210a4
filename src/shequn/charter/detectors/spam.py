"""Spam: a newcomer's links, or a newcomer posting the same text again and again.

A newcomer is a member within D days of joining (the join the platform recorded, else their
first event in shequn). SQL finds the candidates — messages with a link (a link content type or
``http://``, ``https://``, ``www.`` in the text) and copies of a text the member posted C times
within H hours (``ROW_NUMBER``/``LAG`` over the member's texts) — by newcomers only; Python then
drops links that all point to an allowed domain (the community's own site, say). One violation
per message.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.charter.detectors.base import (
    MESSAGES,
    Detector,
    Finding,
    Param,
    Scope,
    aware,
    excerpt,
    register,
    run_query,
)
from shequn.insights.sql import seconds_between
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member

URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'，。、）)\]】]+", re.IGNORECASE)
LINK_MARKS = ("%http://%", "%https://%", "%www.%")
LINK_TYPES = ("link", "share")


def link_domains(text: str | None) -> list[str]:
    """The host names of the links in a text, lower case, without ``www.``."""
    domains = []
    for match in URL.finditer(text or ""):
        url = match.group(0)
        host = urlsplit(url if "://" in url else f"http://{url}").hostname or ""
        domains.append(host.lower().removeprefix("www."))
    return domains


def allowed(domain: str, allowed_domains: list[str]) -> bool:
    return any(domain == ok or domain.endswith(f".{ok}") for ok in allowed_domains)


@register
class Spam(Detector):
    kind = "spam"
    label = gettext_lazy("Spam from newcomers")
    help_text = gettext_lazy(
        "Links, or the same text posted again and again, by a member who joined less than D days "
        "ago."
    )
    params = (
        Param(
            "newcomer_days",
            "int",
            7,
            gettext_lazy("D: a member is a newcomer for this many days after joining."),
            minimum=1,
            maximum=365,
        ),
        Param("links", "bool", True, gettext_lazy("Flag a newcomer's links.")),
        Param(
            "allowed_domains",
            "domains",
            [],
            gettext_lazy("Links to these sites are fine (one per line, e.g. example.com)."),
            max_items=200,
            max_length=253,
        ),
        Param(
            "copies",
            "int",
            3,
            gettext_lazy("C: the C-th copy of the same text within H hours is spam; 0: off."),
            minimum=0,
            maximum=100,
        ),
        Param(
            "repeat_hours",
            "int",
            24,
            gettext_lazy("H: the window for copies, in hours."),
            minimum=1,
            maximum=720,
        ),
        Param(
            "min_chars",
            "int",
            10,
            gettext_lazy("Shorter texts (thanks, +1) may be repeated freely."),
            minimum=1,
            maximum=10_000,
        ),
    )

    def check(self, params: dict[str, Any]) -> list[tuple[str, str]]:
        if not params["links"] and not params["copies"]:
            return [("links", _("the rule looks for nothing: turn on links or set copies"))]
        if params["copies"] == 1:
            return [("copies", _("must be 0 (off) or at least 2: a first post is no repeat"))]
        return []

    def margin(self, params: dict[str, Any]) -> dt.timedelta:
        return dt.timedelta(hours=params["repeat_hours"])

    def find(self, scope: Scope) -> list[Finding]:
        params = scope.params
        events, members = InteractionEvent._meta.db_table, Member._meta.db_table
        in_time, time_params = scope.time_sql("e.occurred_at")
        kinds = ", ".join(["%s"] * len(MESSAGES))
        base = f"e.community_id = %s AND e.kind IN ({kinds}) AND {in_time}"
        base_params = [scope.community.pk, *MESSAGES, *time_params]
        parts, part_params = [], []
        if params["links"]:
            types = ", ".join(["%s"] * len(LINK_TYPES))
            marks = " OR ".join(["LOWER(e.text) LIKE %s"] * len(LINK_MARKS))
            parts.append(
                "SELECT e.id, e.member_id, e.occurred_at, e.text, 1 AS link, 0 AS copy"
                f" FROM {events} AS e WHERE {base}"
                f" AND (e.content_type IN ({types}) OR {marks})"
            )
            part_params += [*base_params, *LINK_TYPES, *LINK_MARKS]
        if params["copies"]:
            copies = int(params["copies"])
            gap = seconds_between("occurred_at", "earlier_at")
            parts.append(
                "SELECT id, member_id, occurred_at, text, 0 AS link, copy FROM ("
                " SELECT e.id, e.member_id, e.occurred_at, e.text, ROW_NUMBER() OVER ("
                " PARTITION BY e.member_id, e.text ORDER BY e.occurred_at, e.id) AS copy,"
                f" LAG(e.occurred_at, {copies - 1}) OVER (PARTITION BY e.member_id, e.text"
                " ORDER BY e.occurred_at, e.id) AS earlier_at"
                f" FROM {events} AS e WHERE {base}"
                " AND e.text IS NOT NULL AND LENGTH(e.text) >= %s AND e.member_id IS NOT NULL"
                f") AS texts WHERE earlier_at IS NOT NULL AND {gap} <= %s"
            )
            part_params += [*base_params, params["min_chars"], params["repeat_hours"] * 3600]
        judged, judged_params = scope.judged_sql("m")
        first_seen = f"(SELECT MIN(x.occurred_at) FROM {events} AS x WHERE x.member_id = m.id)"
        newness = seconds_between("c.occurred_at", "s.since")
        rows = run_query(
            f"WITH candidates AS ({' UNION ALL '.join(parts)}),"
            f" seen AS (SELECT m.id, COALESCE(m.joined_at, {first_seen}) AS since"
            f" FROM {members} AS m WHERE m.id IN (SELECT member_id FROM candidates)"
            f" AND {judged})"
            " SELECT c.id, c.member_id, c.occurred_at, c.text, c.link, c.copy, s.since"
            " FROM candidates AS c JOIN seen AS s ON s.id = c.member_id"
            f" WHERE {newness} >= 0 AND {newness} < %s ORDER BY c.occurred_at, c.id",
            [*part_params, *judged_params, params["newcomer_days"] * 86400],
        )
        found: dict[int, Finding] = {}
        for event_id, member_id, occurred_at, text, link, copy, since in rows:
            reasons: dict[str, Any] = {}
            if link:
                domains = link_domains(text)
                if domains and all(allowed(d, params["allowed_domains"]) for d in domains):
                    continue
                reasons["links"] = sorted(set(domains))[:10]
            if copy:
                reasons["copy"] = int(copy)
            finding = found.get(event_id)
            if finding is None:
                found[event_id] = Finding(
                    key=f"event:{event_id}",
                    member_id=member_id,
                    event_id=event_id,
                    occurred_at=aware(occurred_at),
                    detail={
                        "joined": aware(since).isoformat(),
                        "excerpt": excerpt(text),
                        **reasons,
                    },
                )
            else:
                finding.detail.update(reasons)
        return list(found.values())

    def describe(self, detail: dict[str, Any]) -> str:
        parts = []
        if "links" in detail:
            domains = ", ".join(detail["links"]) or _("a shared link")
            parts.append(_("a newcomer's link (%(domains)s)") % {"domains": domains})
        if "copy" in detail:
            parts.append(_("copy %(n)s of the same text") % {"n": detail["copy"]})
        return "; ".join(parts)
