"""Plain words for the numbers behind tiers, rendered when shown (so each reader gets their own
language), never stored as text.

A reason, a progress step and a risk are small dicts with a ``code`` and the numbers behind it,
e.g. ``{"code": "helped", "replies": 14, "members": 9, "weeks": 11, "of_weeks": 13}`` →
"replied to 14 messages from 9 different members in 11 of the last 13 weeks".
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shequn.tiers.models import Tier

# The next best action for each tier, and for a member at risk.
TIER_ACTIONS = {
    Tier.FOLLOWER.value: "invite_to_speak",
    Tier.PARTICIPANT.value: "ask_to_help",
    Tier.ADVOCATE.value: "thank_and_host",
    Tier.LAPSED.value: "win_back",
}
RISK_ACTION = "check_in"


def next_action(tier: str, at_risk: bool = False) -> str:
    """The action code an operator should take next for a member in ``tier``."""
    return RISK_ACTION if at_risk else TIER_ACTIONS.get(tier, "")


def action_text(code: str) -> str:
    """An action code as a suggestion an operator can act on."""
    texts = {
        "invite_to_speak": _(
            "Invite them to speak: ask them a question they can answer, or to share their "
            "experience."
        ),
        "ask_to_help": _("Ask them to help: welcome or answer a newcomer, or co-host an activity."),
        "thank_and_host": _(
            "Thank them in public and ask them to host an activity or speak at one."
        ),
        "win_back": _(
            "Win them back: a personal message about what is new and what they would enjoy."
        ),
        "check_in": _(
            "Check in personally: ask how they are doing and what would make the community "
            "worth their time again."
        ),
    }
    return texts.get(code, code)


def tier_label(tier: str | None) -> str:
    if tier is None:
        return _("none")
    try:
        return str(Tier(tier).label)
    except ValueError:
        return tier


def _number(value: Any) -> str:
    if isinstance(value, float) and value != int(value):
        return f"{value:.1f}"
    return f"{int(value)}"


def _messages(count: int) -> str:
    return ngettext("%(count)d message", "%(count)d messages", count) % {"count": count}


def _contributions(count: int) -> str:
    return ngettext("%(count)d message or reply", "%(count)d messages and replies", count) % {
        "count": count
    }


def _days(count: int) -> str:
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


def _members(count: int) -> str:
    return ngettext("%(count)d different member", "%(count)d different members", count) % {
        "count": count
    }


def describe(reason: dict[str, Any]) -> str:
    """One reason as a sentence with its numbers, in the active language."""
    code = reason.get("code", "")
    r = reason
    if code == "active_weeks":
        return ngettext(
            "contributed in %(weeks)d of the last %(of_weeks)d week: %(contributions)s on %(days)s",
            "contributed in %(weeks)d of the last %(of_weeks)d weeks: %(contributions)s on "
            "%(days)s",
            r["of_weeks"],
        ) % {
            "weeks": r["weeks"],
            "of_weeks": r["of_weeks"],
            "contributions": _contributions(r["contributions"]),
            "days": _days(r["days"]),
        }
    if code == "commitment":
        return ngettext(
            "earned %(points)s commitment points in the last %(of_weeks)d week "
            "(%(need)s make a participant)",
            "earned %(points)s commitment points in the last %(of_weeks)d weeks "
            "(%(need)s make a participant)",
            r["of_weeks"],
        ) % {"points": _number(r["points"]), "need": _number(r["need"]), "of_weeks": r["of_weeks"]}
    if code == "helped" and r.get("mentions"):
        return ngettext(
            "replied to or mentioned %(members)s in %(weeks)d of the last %(of_weeks)d week "
            "(%(replies)s, %(mentions)s)",
            "replied to or mentioned %(members)s in %(weeks)d of the last %(of_weeks)d weeks "
            "(%(replies)s, %(mentions)s)",
            r["of_weeks"],
        ) % {
            "members": _members(r["members"]),
            "weeks": r["weeks"],
            "of_weeks": r["of_weeks"],
            "replies": ngettext("%(count)d reply", "%(count)d replies", r["replies"])
            % {"count": r["replies"]},
            "mentions": ngettext("%(count)d mention", "%(count)d mentions", r["mentions"])
            % {"count": r["mentions"]},
        }
    if code == "helped":
        return ngettext(
            "replied to %(replies)s from %(members)s in %(weeks)d of the last %(of_weeks)d week",
            "replied to %(replies)s from %(members)s in %(weeks)d of the last %(of_weeks)d weeks",
            r["of_weeks"],
        ) % {
            "replies": _messages(r["replies"]),
            "members": _members(r["members"]),
            "weeks": r["weeks"],
            "of_weeks": r["of_weeks"],
        }
    if code == "invited":
        return ngettext(
            "brought in %(count)d member who stayed at least %(days)s",
            "brought in %(count)d members who stayed at least %(days)s",
            r["members"],
        ) % {"count": r["members"], "days": _days(r["days"])}
    if code == "signals":
        return ngettext(
            "took part in the last %(of_weeks)d week (%(contributions)s, %(others)s); "
            "last on %(last)s",
            "took part in the last %(of_weeks)d weeks (%(contributions)s, %(others)s); "
            "last on %(last)s",
            r["of_weeks"],
        ) % {
            "of_weeks": r["of_weeks"],
            "contributions": _contributions(r["contributions"]),
            "others": ngettext(
                "%(count)d reaction, mention or join",
                "%(count)d reactions, mentions or joins",
                r["others"],
            )
            % {"count": r["others"]},
            "last": r["last"],
        }
    if code == "silent":
        return ngettext(
            "no activity for at least %(count)d day (last on %(last)s)",
            "no activity for at least %(count)d days (last on %(last)s)",
            r["days"],
        ) % {"count": r["days"], "last": r["last"]}
    if code == "quiet_window":
        return ngettext(
            "no activity in the last %(count)d week (last on %(last)s)",
            "no activity in the last %(count)d weeks (last on %(last)s)",
            r["of_weeks"],
        ) % {"count": r["of_weeks"], "last": r["last"]}
    if code == "no_activity":
        return _("no activity of any kind in the imported data")
    if code == "left":
        return _("left the community on %(on)s") % {"on": r["on"]}
    if code == "muted":
        return _("muted the community on %(on)s: someone who muted it is no longer a member") % {
            "on": r["on"]
        }
    if code == "held":
        return _(
            "kept as %(tier)s until the review on %(review)s (tiers go down only at the "
            "review); activity now matches %(now)s"
        ) % {"tier": tier_label(r["tier"]), "review": r["review"], "now": tier_label(r["now"])}
    from shequn.tiers.signals import advocacy_signal

    provider = advocacy_signal(code)
    if provider is not None:
        return provider.describe(reason)
    return _("%(code)s: %(details)s") % {
        "code": code,
        "details": ", ".join(f"{k} {v}" for k, v in reason.items() if k != "code"),
    }


def describe_all(reasons: list[dict[str, Any]]) -> list[str]:
    return [describe(reason) for reason in reasons or []]


def describe_step(step: dict[str, Any]) -> str:
    """One thing a member still needs for their next tier (or to keep theirs)."""
    code = step.get("code", "")
    s = step
    if code == "one_of":
        return _("one of: %(options)s") % {
            "options": _(" or ").join(describe_step(option) for option in s["options"])
        }
    if code == "any_signal":
        text = _("take part in any way: a message, a reply or a reaction")
    elif code == "active_weeks":
        text = ngettext(
            "be active in %(need)d of %(of_weeks)d week (now %(have)d)",
            "be active in %(need)d of %(of_weeks)d weeks (now %(have)d)",
            s["of_weeks"],
        ) % {"need": s["need"], "of_weeks": s["of_weeks"], "have": s["have"]}
    elif code == "commitment":
        text = ngettext(
            "earn %(need)s commitment points in %(of_weeks)d week (now %(have)s)",
            "earn %(need)s commitment points in %(of_weeks)d weeks (now %(have)s)",
            s["of_weeks"],
        ) % {"need": _number(s["need"]), "of_weeks": s["of_weeks"], "have": _number(s["have"])}
    elif code == "helped" and s.get("mentions"):
        text = ngettext(
            "reply to or mention %(need)s in %(of_weeks)d week (now %(have)d)",
            "reply to or mention %(need)s in %(of_weeks)d weeks (now %(have)d)",
            s["of_weeks"],
        ) % {"need": _members(s["need"]), "of_weeks": s["of_weeks"], "have": s["have"]}
    elif code == "helped":
        text = ngettext(
            "reply to %(need)s in %(of_weeks)d week (now %(have)d)",
            "reply to %(need)s in %(of_weeks)d weeks (now %(have)d)",
            s["of_weeks"],
        ) % {"need": _members(s["need"]), "of_weeks": s["of_weeks"], "have": s["have"]}
    elif code == "invited":
        text = _("bring in a member who stays %(days)s") % {"days": _days(s["days"])}
    else:
        text = code
    return f"✓ {text}" if s.get("met") else text


def describe_progress(progress: dict[str, Any]) -> list[str]:
    return [describe_step(step) for step in (progress or {}).get("steps", [])]


def describe_risk(risk: dict[str, Any]) -> str:
    """Why a member is at risk, with the numbers."""
    if not risk:
        return ""
    return ngettext(
        "contributions fell to %(recent)s a week over the last %(weeks)d week, from %(usual)s a "
        "week in the %(before)d weeks before; %(low)d of the last %(of)d weeks were low",
        "contributions fell to %(recent)s a week over the last %(weeks)d weeks, from %(usual)s a "
        "week in the %(before)d weeks before; %(low)d of the last %(of)d weeks were low",
        risk["weeks"],
    ) % {
        "recent": _number(risk["recent"]),
        "weeks": risk["weeks"],
        "usual": _number(risk["usual"]),
        "before": risk["before_weeks"],
        "low": risk["low_weeks"],
        "of": risk["of_weeks"],
    }
