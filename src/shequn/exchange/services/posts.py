"""Needs and offers: posting, curating (edit, close, reopen) and the public submissions that
wait for an operator (approve — linked to a member or making a new one — or reject)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.communities.models import Community
from shequn.exchange.models import ExchangeSettings, Post, PostSource, PostStatus, PostTag
from shequn.exchange.services.common import post_snapshot, user_of
from shequn.exchange.validation import (
    ExchangeError,
    clean_note,
    clean_post,
    clean_submitter,
)
from shequn.members.merging import MergeMoves
from shequn.members.models import Member

# Public submissions waiting at once: beyond this the form refuses more (a flood of spam
# cannot bury the operators' queue).
MAX_PENDING = 200


def _set_tags(post: Post, tags: list[str]) -> None:
    PostTag.objects.filter(post=post).delete()
    PostTag.objects.bulk_create(
        [PostTag(post=post, name=name, position=index) for index, name in enumerate(tags)]
    )


def _check_member(community: Community, member: Member | None) -> Member:
    if member is None:
        raise ExchangeError(_("is required: whose need or offer it is"), field="member")
    if member.community_id != community.pk:
        raise ExchangeError(_("must be a member of this community"), field="member")
    return member


def _locked(post: Post) -> Post:
    """The post as stored now, locked for the transaction (PostgreSQL)."""
    return (
        Post.objects.select_for_update(of=("self",))
        .select_related("community", "member")
        .get(pk=post.pk)
    )


@transaction.atomic
def do_create_post(
    community: Community, values: Mapping[str, Any], *, member: Member | None, actor: Any = None
) -> Post:
    """An operator (or the API, or the command line) posts a member's need or offer: open at
    once, so it is matched from now on."""
    cleaned = clean_post(values)
    member = _check_member(community, member)
    post = Post.objects.create(
        community=community,
        kind=cleaned["kind"],
        member=member,
        title=cleaned["title"],
        description=cleaned["description"],
        status=PostStatus.OPEN,
        source=PostSource.OPERATOR,
        created_by=user_of(actor),
    )
    _set_tags(post, cleaned["tags"])
    audit.record(
        "exchange.post",
        community=community,
        actor=actor,
        target=post,
        details=post_snapshot(post, cleaned["tags"]),
    )
    return post


@transaction.atomic
def do_update_post(post: Post, values: Mapping[str, Any], *, actor: Any = None) -> Post:
    """Change a post's title, description or tags (those given); audited with before and
    after. A rejected post is kept as it was sent."""
    cleaned = clean_post(values, partial=True)
    current = _locked(post)
    if current.status == PostStatus.REJECTED:
        raise ExchangeError(_("A rejected submission cannot be edited."), field="status")
    if "kind" in cleaned and cleaned["kind"] != current.kind:
        raise ExchangeError(_("cannot change: post a new need or offer instead"), field="kind")
    before = post_snapshot(current)
    for name in ("title", "description"):
        if name in cleaned:
            setattr(current, name, cleaned[name])
    current.save()
    if "tags" in cleaned:
        _set_tags(current, cleaned["tags"])
    after = post_snapshot(current, cleaned.get("tags", before["tags"]))
    audit.record(
        "exchange.post_update",
        community=current.community,
        actor=actor,
        target=current,
        details={"before": before, "after": after},
    )
    return current


def _move(
    post: Post,
    allowed: tuple[str, ...],
    status: str,
    action: str,
    *,
    actor: Any,
    reason: str = "",
    member: Member | None = None,
    new_member: bool = False,
) -> Post:
    """Move a post from one of ``allowed`` to ``status`` (with its member, when approved),
    recorded as ``action``."""
    with transaction.atomic():
        current = _locked(post)
        if current.status not in allowed:
            raise ExchangeError(
                _("%(post)s is %(status)s: this cannot be done to it.")
                % {"post": f"#{current.pk}", "status": current.get_status_display()},
                field="status",
            )
        before = current.status
        now = timezone.now()
        current.status = status
        current.status_note = reason
        current.closed_at = now if status == PostStatus.CLOSED else None
        if before == PostStatus.PENDING:
            current.reviewed_at, current.reviewed_by = now, user_of(actor)
        if member is not None:
            current.member = member
        current.save()
        details = {"post": current.pk, "title": current.title, "before": before, "after": status}
        if reason:
            details["reason"] = reason
        if member is not None:
            details["member"] = {"id": member.pk, "display_name": member.display_name}
            details["new_member"] = new_member
        audit.record(
            action, community=current.community, actor=actor, target=current, details=details
        )
    return current


def do_close_post(post: Post, *, reason: str = "", actor: Any = None) -> Post:
    """Close an open post (met, withdrawn, out of date): it is no longer suggested; its
    connections and their outcomes stay."""
    return _move(
        post,
        (PostStatus.OPEN,),
        PostStatus.CLOSED,
        "exchange.close",
        reason=clean_note(reason),
        actor=actor,
    )


def do_reopen_post(post: Post, *, actor: Any = None) -> Post:
    return _move(post, (PostStatus.CLOSED,), PostStatus.OPEN, "exchange.reopen", actor=actor)


def do_reject_post(post: Post, *, reason: str = "", actor: Any = None) -> Post:
    """Turn a public submission down (spam, off-topic); it is kept, never shown or matched."""
    return _move(
        post,
        (PostStatus.PENDING,),
        PostStatus.REJECTED,
        "exchange.reject",
        reason=clean_note(reason),
        actor=actor,
    )


def _new_member(post: Post) -> Member:
    """A member for a submitter nobody knew: their name, and their contact as member key
    when it is an e-mail address no member has yet (as the activities' public page does)."""
    key = post.submitter_contact.strip().lower()
    try:
        validate_email(key)
    except ValidationError:
        key = ""
    if key and Member.objects.filter(community_id=post.community_id, key__iexact=key).exists():
        key = ""
    return Member.objects.create(
        community_id=post.community_id,
        display_name=post.submitter_name,
        key=key,
        joined_at=timezone.now(),
    )


def do_approve_post(
    post: Post, *, member: Member | None = None, create_member: bool = False, actor: Any = None
) -> Post:
    """Let a public submission in: linked to ``member`` (an operator picks the person), or,
    with ``create_member``, to a new member made from the submitter's name and contact. It is
    open, and matched, from now on."""
    if member is not None and create_member:
        raise ExchangeError(_("either pick a member or create a new one, not both"), field="member")
    if member is None and not create_member:
        raise ExchangeError(
            _("is required: pick the member who sent it, or create a new member"),
            field="member",
        )
    with transaction.atomic():
        current = _locked(post)
        if current.status != PostStatus.PENDING:
            raise ExchangeError(
                _("%(post)s is %(status)s: only a submission waiting for approval can be approved.")
                % {"post": f"#{current.pk}", "status": current.get_status_display()},
                field="status",
            )
        new_member = member is None
        if member is not None:
            _check_member(current.community, member)
        else:
            member = _new_member(current)
        approved = _move(
            current,
            (PostStatus.PENDING,),
            PostStatus.OPEN,
            "exchange.approve",
            member=member,
            new_member=new_member,
            actor=actor,
        )
    return approved


@transaction.atomic
def do_submit_public_post(
    community: Community, values: Mapping[str, Any], *, name: str, contact: str
) -> Post:
    """A need or an offer sent through the community's public form: it waits for an
    operator's approval. What members do for themselves is kept on the post (source
    "public"), not in the operators' audit log."""
    settings = ExchangeSettings.objects.filter(community=community).first()
    if settings is None or not settings.public_form_on:
        raise ExchangeError(_("This community does not take submissions here."))
    cleaned = clean_post(values)
    submitter_name, submitter_contact = clean_submitter({"name": name, "contact": contact})
    waiting = Post.objects.filter(community=community, status=PostStatus.PENDING).count()
    if waiting >= MAX_PENDING:
        raise ExchangeError(
            _("Too many submissions are waiting for approval: please try again in a few days.")
        )
    post = Post.objects.create(
        community=community,
        kind=cleaned["kind"],
        member=None,
        title=cleaned["title"],
        description=cleaned["description"],
        status=PostStatus.PENDING,
        source=PostSource.PUBLIC,
        submitter_name=submitter_name,
        submitter_contact=submitter_contact,
    )
    _set_tags(post, cleaned["tags"])
    return post


def move_member_posts(source_id: int, target_id: int) -> MergeMoves:
    """Before a merge deletes ``source``: its needs and offers become ``target``'s."""
    moves = MergeMoves()
    moves.move(Post.objects.filter(member_id=source_id), "member", target_id)
    return moves
