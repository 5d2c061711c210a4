#!/usr/bin/env python
"""Tiers and points on the real data sets in ../shared/data, as docs/real-data.md reports them.

    python scripts/real_data_report.py                 # every data set, Markdown on stdout
    python scripts/real_data_report.py cardano-se-2021

Each data set is imported into a throw-away SQLite database with the points preset that fits it
(Stack Exchange reputation for the Stack Exchange dumps, the default rules for the Slack
export); the import computes points and tiers as it does for any user. Then it prints the tier
distribution, the top of the all-time leaderboard and, where the dump has them, how tiers and
points relate to the dump's own Reputation and badges.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
# data set -> (format, points preset, community time zone)
DATA_SETS = {
    "cardano-se-2021": ("stackexchange", "stackexchange", "UTC"),
    # No Votes.xml in this dump: reputation cannot be replayed, the default rules apply.
    "history-meta-se": ("stackexchange", "default", "UTC"),
    "houstondatavis-slack-2016": ("slack", "default", "America/Chicago"),
}
TIERS = ("advocate", "participant", "follower", "lapsed")


def setup() -> None:
    work = Path(tempfile.mkdtemp(prefix="shequn-real-data-"))
    os.environ["SHEQUN_DATA_DIR"] = str(work)
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'report.sqlite3'}"
    os.environ.setdefault("SHEQUN_SECRET_KEY", "report-not-secret")
    os.environ["DJANGO_SETTINGS_MODULE"] = "shequn.settings"
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=values.__getitem__)
        result = [0.0] * len(values)
        start = 0
        while start < len(order):
            end = start
            while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
                end += 1
            for position in range(start, end + 1):
                result[order[position]] = (start + end) / 2 + 1
            start = end + 1
        return result

    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / var if var else 0.0


def report(name: str) -> str:
    from django.db.models import Count

    from shequn.communities.services import do_create_community
    from shequn.interactions.models import EventKind, InteractionEvent
    from shequn.interactions.services import do_import
    from shequn.members.models import Identity, Member
    from shequn.rewards.models import MemberPoints
    from shequn.rewards.selectors import leaderboard
    from shequn.rewards.services import do_apply_preset
    from shequn.tiers.models import MemberTier
    from shequn.tiers.selectors import latest_tier_run, tier_funnel

    format_name, preset, time_zone = DATA_SETS[name]
    community = do_create_community(slug=name, name=name, time_zone=time_zone)
    do_apply_preset(community, preset, actor=None)
    do_import(community, DATA / name, format_name=format_name)
    run = latest_tier_run(community)
    lines = [f"### {name}", ""]
    lines.append(
        f"Format `{format_name}`, points preset `{preset}`, tiers as of {run.as_of} "
        f"(the latest day in the data)."
    )
    lines += ["", "| tier | members | share |", "|---|---:|---:|"]
    for row in tier_funnel(community):
        share = f"{row['share'] * 100:.1f} %" if row["share"] is not None else ""
        lines.append(f"| {row['tier']} | {row['count']:,} | {share} |")

    tiers = dict(MemberTier.objects.filter(community=community).values_list("member_id", "tier"))
    balances = dict(
        MemberPoints.objects.filter(community=community).values_list("member_id", "balance")
    )
    reputation: dict[int, int] = {}
    for member_id, profile in Identity.objects.filter(member__community=community).values_list(
        "member_id", "profile"
    ):
        if isinstance(profile, dict) and profile.get("reputation") is not None:
            reputation[member_id] = int(profile["reputation"])
    badges = Counter(
        dict(
            InteractionEvent.objects.filter(community=community, kind=EventKind.BADGE)
            .values_list("member_id")
            .annotate(n=Count("id"))
            .values_list("member_id", "n")
        )
    )

    board = leaderboard(community, "all", limit=10)
    lines += ["", "Top of the all-time leaderboard:", ""]
    header = "| # | member | points | level |"
    rule = "|---:|---|---:|---|"
    if reputation:
        header += " dump Reputation | badges |"
        rule += "---:|---:|"
    lines += [header, rule]
    for row in board.rows:
        line = f"| {row.rank} | {row.display_name} | {row.points:,} | {row.level_name} |"
        if reputation:
            line += f" {reputation.get(row.member_id, 0):,} | {badges.get(row.member_id, 0)} |"
        lines.append(line)

    lines += ["", "Per tier (ordinary members: no founders, operators or bots):", ""]
    staff = set(
        Member.objects.filter(community=community)
        .exclude(role="member")
        .values_list("id", flat=True)
    )
    by_tier: dict[str, list[int]] = defaultdict(list)
    for member_id, tier in tiers.items():
        if member_id not in staff:
            by_tier[tier].append(member_id)
    header = "| tier | members | median points | mean points |"
    rule = "|---|---:|---:|---:|"
    if reputation:
        header += " median Reputation | with a badge | badges per member |"
        rule += "---:|---:|---:|"
    lines += [header, rule]
    for tier in TIERS:
        ids = by_tier.get(tier, [])
        if not ids:
            continue
        points = [balances.get(i, 0) for i in ids]
        line = (
            f"| {tier} | {len(ids):,} | {statistics.median(points):,.0f} | "
            f"{statistics.fmean(points):,.1f} |"
        )
        if reputation:
            reps = [reputation.get(i, 0) for i in ids]
            with_badge = sum(1 for i in ids if badges.get(i))
            line += (
                f" {statistics.median(reps):,.0f} | {with_badge / len(ids) * 100:.0f} % | "
                f"{sum(badges.get(i, 0) for i in ids) / len(ids):.1f} |"
            )
        lines.append(line)
    if reputation:
        ids = [i for i in reputation if i in balances or i in tiers]
        rank = {t: len(TIERS) - n for n, t in enumerate(TIERS)}
        tiered = [i for i in ids if i in tiers]
        rho_tier = spearman([rank[tiers[i]] for i in tiered], [reputation[i] for i in tiered])
        rho_badges = spearman([rank[tiers[i]] for i in tiered], [badges.get(i, 0) for i in tiered])
        rho_points = spearman([balances.get(i, 0) for i in ids], [reputation[i] for i in ids])
        lines.append("")
        if preset == "stackexchange":
            exact = sum(1 for i in ids if balances.get(i, 0) == reputation[i])
            bonus = sum(1 for i in ids if balances.get(i, 0) == reputation[i] - 100)
            lines.append(
                f"Points against the dump's Reputation, {len(ids):,} users: {exact:,} exactly "
                f"equal ({exact / len(ids) * 100:.1f} %), {bonus:,} exactly 100 less "
                f"({bonus / len(ids) * 100:.1f} %, the association bonus no dump shows)."
            )
        lines.append(
            f"Spearman rank correlation: points vs Reputation {rho_points:.3f}; tier vs "
            f"Reputation {rho_tier:.3f}; tier vs badge count {rho_badges:.3f}."
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    names = argv or list(DATA_SETS)
    unknown = [name for name in names if name not in DATA_SETS]
    if unknown:
        print(f"unknown data sets: {', '.join(unknown)} (known: {', '.join(DATA_SETS)})")
        return 2
    setup()
    for name in names:
        print(report(name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
