"""The onboarding message (入群欢迎): what a new member receives — the mission, the values, the
charter, the current goals, the rituals and what other members gained — rendered from the
operators' template for one platform.

The template is text with placeholders in braces. ``{member}`` and ``{community}`` are names;
the others are *blocks* that bring their own heading and stand on a line of their own: a block
with nothing to say (no charter yet, no goals) disappears with its line. ``{{`` and ``}}`` write
literal braces.

Platforms differ in what they format: WeChat, WeCom, QQ, WhatsApp and LINE get plain text;
Discord and forums Markdown; Slack its mrkdwn; Telegram MarkdownV2. What shequn inserts (the
mission, a goal's title, a member's words) is escaped for the platform, so a ``*`` in the
mission never turns bold. The operators' own text is kept as written for Markdown (they may
format it), and escaped where the platform would otherwise refuse or garble it (Telegram,
Slack's ``&<>``).
"""

from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from shequn.communities.models import Community, Platform
from shequn.culture.errors import OnboardingError
from shequn.members.models import Member

TEMPLATE_MAX = 20_000
TESTIMONIALS_SHOWN = 3
TESTIMONIAL_CHARS = 280

DEFAULT_TEMPLATE = gettext_lazy(
    "Welcome to {community}, {member}!\n\n{mission}\n\n{values}\n\n{charter}\n\n{goals}\n\n"
    "{rituals}\n\n{testimonials}\n\nSay hello and tell us what brought you here."
)

PLACEHOLDERS: dict[str, Any] = {
    "member": gettext_lazy("the new member's name"),
    "community": gettext_lazy("the community's name"),
    "mission": gettext_lazy("why we are together: the mission"),
    "values": gettext_lazy("what we stand for and against"),
    "charter": gettext_lazy("the charter (公约)"),
    "goals": gettext_lazy("the current goals with their progress"),
    "rituals": gettext_lazy("the rituals and their next dates"),
    "testimonials": gettext_lazy("what members gained (the latest published testimonials)"),
}
INLINE = ("member", "community")


# ---------------------------------------------------------------------------- dialects
class PlainText:
    code = "plain"

    def escape(self, text: str) -> str:
        return text

    def own_text(self, text: str) -> str:
        return text

    def heading(self, text: str) -> str:
        return pgettext("onboarding plain-text heading", "%(heading)s:") % {"heading": text}

    def bullet(self, text: str) -> str:
        return f"• {text}"

    def link(self, text: str, url: str) -> str:
        return f"{text} {url}"


class Markdown(PlainText):
    """CommonMark as Discord and forums read it."""

    code = "markdown"
    SPECIAL = re.compile(r"([\\*_~`|>\[\]])")
    LINE_START = re.compile(r"(?m)^(\s*)([#+-])")
    NUMBERED = re.compile(r"(?m)^(\s*\d+)\.")

    def escape(self, text: str) -> str:
        text = self.SPECIAL.sub(r"\\\1", text)
        return self.NUMBERED.sub(r"\1\\.", self.LINE_START.sub(r"\1\\\2", text))

    def heading(self, text: str) -> str:
        return f"**{text}**"

    def bullet(self, text: str) -> str:
        return f"- {text}"

    def link(self, text: str, url: str) -> str:
        return f"{text}: <{url}>"


class SlackMrkdwn(PlainText):
    """Slack's mrkdwn: only ``&``, ``<`` and ``>`` must be escaped."""

    code = "slack"

    def escape(self, text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def own_text(self, text: str) -> str:
        return self.escape(text)

    def heading(self, text: str) -> str:
        return f"*{text}*"

    def link(self, text: str, url: str) -> str:
        return f"<{url}|{text}>"


class TelegramMarkdownV2(PlainText):
    """Telegram's MarkdownV2, which refuses a message with any special character unescaped."""

    code = "telegram"
    SPECIAL = re.compile(r"([_*\[\]()~`>#+\-=|{}.!\\])")

    def escape(self, text: str) -> str:
        return self.SPECIAL.sub(r"\\\1", text)

    def own_text(self, text: str) -> str:
        return self.escape(text)

    def heading(self, text: str) -> str:
        return f"*{text}*"

    def link(self, text: str, url: str) -> str:
        return f"[{text}]({url.replace(chr(92), chr(92) * 2).replace(')', chr(92) + ')')})"


DIALECTS = {
    dialect.code: dialect
    for dialect in (PlainText(), Markdown(), SlackMrkdwn(), TelegramMarkdownV2())
}
PLATFORM_DIALECTS = {
    Platform.DISCORD: "markdown",
    Platform.FORUM: "markdown",
    Platform.STACKEXCHANGE: "markdown",
    Platform.SLACK: "slack",
    Platform.TELEGRAM: "telegram",
}


def dialect_for(platform: str) -> PlainText:
    """The formatting a platform reads; ``OnboardingError`` for an unknown platform."""
    if platform not in Platform.values:
        raise OnboardingError(
            _("must be one of %(choices)s, not %(value)s")
            % {"choices": ", ".join(Platform.values), "value": repr(platform)[:60]},
            field="platform",
        )
    return DIALECTS[PLATFORM_DIALECTS.get(platform, "plain")]


# ---------------------------------------------------------------------------- template
def parse_template(text: Any) -> list[tuple[str, str | None]]:
    """(literal text, placeholder or None) pieces; ``OnboardingError`` naming ``text`` for an
    unknown placeholder or a lone brace."""
    if not isinstance(text, str) or not text.strip():
        raise OnboardingError(_("is required"), field="text")
    if "\x00" in text:
        raise OnboardingError(_("must not contain NUL characters"), field="text")
    if len(text) > TEMPLATE_MAX:
        raise OnboardingError(
            _("is too long (at most %(n)d characters)") % {"n": TEMPLATE_MAX}, field="text"
        )
    known = ", ".join("{%s}" % name for name in PLACEHOLDERS)  # noqa: UP031 (braces)
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError:
        raise OnboardingError(
            _("has a lone brace: write {{ or }} for a brace, or use a placeholder (%(known)s)")
            % {"known": known},
            field="text",
        ) from None
    parsed: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in pieces:
        if name is not None and (name not in PLACEHOLDERS or spec or conversion):
            shown = (
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            raise OnboardingError(
                _("%(placeholder)s is not a placeholder (use %(known)s)")
                % {"placeholder": shown[:60], "known": known},
                field="text",
            )
        parsed.append((literal, name))
    return parsed


def template_text(community: Community) -> tuple[str, bool]:
    """The community's template and whether it is the default (never saved)."""
    from shequn.culture.selectors import saved_template

    saved = saved_template(community)
    return (saved.text, False) if saved is not None else (str(DEFAULT_TEMPLATE), True)


# ----------------------------------------------------------------------------- blocks
def charter_text(community: Community) -> str | None:
    """The charter as members should read it, from ``shequn.charter`` when it offers it."""
    try:
        from shequn.charter.selectors import current_charter_text
    except (ImportError, AttributeError):
        return None
    try:
        text = current_charter_text(community)
    except AttributeError:
        return None
    return text.strip() if isinstance(text, str) and text.strip() else None


def number(value: float | None) -> str:
    """A value as people read it: whole numbers without decimals, others with one."""
    if value is None:
        return "–"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _block(dialect: PlainText, heading: str, lines: list[str]) -> str:
    return "\n".join([dialect.heading(dialect.escape(heading)), *lines]) if lines else ""


def _goal_line(dialect: PlainText, progress: Any, base_url: str) -> str:
    from shequn.culture.forecast import NO_DATA, NOT_STARTED

    goal = progress.goal
    values = {
        "title": goal.title,
        "target": number(goal.target),
        "what": progress.metric_text,
        "deadline": goal.deadline.isoformat(),
    }
    if progress.status in (NO_DATA, NOT_STARTED) or progress.forecast.current is None:
        text = _("%(title)s: %(target)s %(what)s by %(deadline)s") % values
    else:
        text = _(
            "%(title)s: %(current)s of %(target)s %(what)s by %(deadline)s (%(percent)s%%)"
        ) % {
            **values,
            "current": number(progress.forecast.current),
            "percent": number(progress.forecast.percent),
        }
    text = dialect.escape(text)
    if base_url and goal.public_token:
        from django.urls import reverse

        url = base_url.rstrip("/") + reverse("web:goal_public", args=[goal.public_token])
        text = f"{text} {dialect.link(dialect.escape(_('progress')), url)}"
    return dialect.bullet(text)


def _ritual_line(dialect: PlainText, summary: Any) -> str:
    from shequn.activities.validation import zone_of

    ritual = summary.ritual
    values = {"name": ritual.name, "frequency": ritual.get_frequency_display()}
    if summary.next_starts_at is not None:
        local = summary.next_starts_at.astimezone(zone_of(ritual.time_zone) or dt.UTC)
        values["when"] = f"{local:%Y-%m-%d %H:%M} {ritual.time_zone}"
        text = _("%(name)s (%(frequency)s), next on %(when)s") % values
    else:
        text = _("%(name)s (%(frequency)s)") % values
    return dialect.bullet(dialect.escape(text))


def _testimonial_line(dialect: PlainText, testimonial: Any) -> str:
    words = " ".join(testimonial.text.split())
    if len(words) > TESTIMONIAL_CHARS:
        words = words[: TESTIMONIAL_CHARS - 1].rstrip() + "…"
    text = _("“%(text)s” — %(name)s") % {"text": words, "name": testimonial.member.display_name}
    return dialect.bullet(dialect.escape(text))


def _blocks(
    community: Community, dialect: PlainText, used: set[str], base_url: str
) -> dict[str, str]:
    """The text of each block placeholder the template uses (empty: nothing to say)."""
    from shequn.culture import selectors

    blocks: dict[str, str] = {}
    if "mission" in used:
        mission = (community.mission or "").strip()
        blocks["mission"] = _block(
            dialect, _("Why we are together"), [dialect.escape(mission)] if mission else []
        )
    if "values" in used:
        parts = [
            _block(
                dialect,
                heading,
                [dialect.bullet(dialect.escape(str(value))) for value in values or []],
            )
            for heading, values in (
                (_("What we stand for"), community.values_advocated),
                (_("What we stand against"), community.values_opposed),
            )
        ]
        blocks["values"] = "\n\n".join(part for part in parts if part)
    if "charter" in used:
        charter = charter_text(community)
        blocks["charter"] = _block(
            dialect, _("Our charter"), [dialect.escape(charter)] if charter else []
        )
    if "goals" in used:
        lines = [
            _goal_line(dialect, progress, base_url)
            for progress in selectors.current_goals(community)
        ]
        blocks["goals"] = _block(dialect, _("How far we are: our goals"), lines)
    if "rituals" in used:
        lines = [
            _ritual_line(dialect, summary) for summary in selectors.ritual_summaries(community)
        ]
        blocks["rituals"] = _block(dialect, _("How we get there: our rituals"), lines)
    if "testimonials" in used:
        shown = selectors.community_testimonials(community, published=True)[:TESTIMONIALS_SHOWN]
        lines = [_testimonial_line(dialect, testimonial) for testimonial in shown]
        blocks["testimonials"] = _block(dialect, _("What members gained"), lines)
    return blocks


# ---------------------------------------------------------------------------- render
@dataclass(frozen=True)
class RenderedOnboarding:
    text: str
    platform: str
    format: str  # plain, markdown, slack or telegram
    member_id: int | None
    empty: list[str] = field(default_factory=list)  # blocks left out: nothing to say yet


def render_onboarding(
    community: Community,
    *,
    platform: str,
    member: Member | None = None,
    template: str | None = None,
    language: str | None = None,
    base_url: str = "",
) -> RenderedOnboarding:
    """The onboarding message for ``member`` (or a generic greeting) on ``platform``, from
    the community's template (or ``template``, to preview an edit), in ``language`` (default:
    the active one). ``base_url`` (e.g. https://shequn.example.org) adds the public progress
    links of goals that have one."""
    dialect = dialect_for(platform)
    if member is not None and member.community_id != community.pk:
        raise OnboardingError(_("must be a member of this community"), field="member")
    with translation.override(language or translation.get_language()):
        text = template if template is not None else template_text(community)[0]
        pieces = parse_template(text)
        used = {name for _literal, name in pieces if name}
        blocks = _blocks(community, dialect, used, base_url)
        inline = {
            "member": dialect.escape(
                member.display_name if member is not None else pgettext("onboarding", "friend")
            ),
            "community": dialect.escape(community.name),
        }
        out: list[str] = []
        for literal, name in pieces:
            out.append(dialect.own_text(literal))
            if name is not None:
                out.append(inline[name] if name in INLINE else blocks.get(name, ""))
    rendered = "".join(out)
    # A block with nothing to say leaves an empty line behind: fold the gaps it leaves.
    rendered = re.sub(r"\n[ \t]*(?:\n[ \t]*)+\n", "\n\n", rendered).strip()
    return RenderedOnboarding(
        text=rendered,
        platform=platform,
        format=dialect.code,
        member_id=member.pk if member is not None else None,
        empty=sorted(name for name in used if name not in INLINE and not blocks.get(name)),
    )
