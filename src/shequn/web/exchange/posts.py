"""One need or offer: its page (with the offers or needs that match it and its connections),
posting one for a member, editing, closing and reopening, approving or rejecting a public
submission."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.exchange.models import Post, PostKind, PostStatus
from shequn.exchange.selectors import post_connections, suggestions
from shequn.exchange.services import (
    ExchangeError,
    do_approve_post,
    do_close_post,
    do_create_post,
    do_reject_post,
    do_reopen_post,
    do_update_post,
)
from shequn.web.access import community_view
from shequn.web.exchange.common import (
    back,
    index_url,
    may_write,
    post_or_404,
    problems_text,
    resolve_member,
)
from shequn.web.exchange.forms import (
    ApproveForm,
    OutcomeForm,
    PairForm,
    PostEditForm,
    PostForm,
    ReasonForm,
)

MATCHES_SHOWN = 20


def _detail(post: Post) -> HttpResponse:
    return redirect("web:exchange_post", post.community.slug, post.pk)


@community_view()
def post_page(request: HttpRequest, post_id: int) -> HttpResponse:
    community = request.community
    can_write = may_write(request)
    post = post_or_404(community, post_id, reviewed_only=not can_write)
    matches = []
    if post.status == PostStatus.OPEN:
        side = {"need": post} if post.kind == PostKind.NEED else {"offer": post}
        matches = suggestions(community, limit=MATCHES_SHOWN, **side)
    return render(
        request,
        "web/exchange/post.html",
        {
            "community": community,
            "section": "exchange",
            "post": post,
            "can_write": can_write,
            "matches": matches,
            "connections": list(post_connections(post)),
            "approve_form": ApproveForm(),
            "reason_form": ReasonForm(),
            "pair_form": PairForm(),
            "outcome_form": OutcomeForm(),
        },
    )


def _form_page(
    request: HttpRequest, form: PostEditForm, post: Post | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "web/exchange/post_form.html",
        {"community": request.community, "section": "exchange", "form": form, "post": post},
        status=status,
    )


@community_view(AccessRole.OPERATOR)
def post_new(request: HttpRequest) -> HttpResponse:
    """Post a need or an offer for a member: open at once."""
    community = request.community
    if request.method != "POST":
        initial = {"kind": request.GET.get("kind", PostKind.NEED)}
        return _form_page(request, PostForm(initial=initial), None)
    form = PostForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            post = do_create_post(
                community,
                {
                    "kind": data["kind"],
                    "title": data["title"],
                    "description": data["description"],
                    "tags": data["tags"],
                },
                member=resolve_member(community, data["member"]),
                actor=request.user,
            )
        except ExchangeError as exc:
            form.add_problems(exc)
        else:
            messages.success(request, _("Posted: it is open and matched from now on."))
            return _detail(post)
    return _form_page(request, form, None, status=400)


@community_view(AccessRole.OPERATOR)
def post_edit(request: HttpRequest, post_id: int) -> HttpResponse:
    post = post_or_404(request.community, post_id)
    if request.method != "POST":
        initial = {
            "title": post.title,
            "description": post.description,
            "tags": ", ".join(post.tag_names),
        }
        return _form_page(request, PostEditForm(initial=initial), post)
    form = PostEditForm(request.POST)
    if form.is_valid():
        try:
            do_update_post(post, form.cleaned_data, actor=request.user)
        except ExchangeError as exc:
            form.add_problems(exc)
        else:
            messages.success(request, _("Saved."))
            return _detail(post)
    return _form_page(request, form, post, status=400)


def _reason(request: HttpRequest) -> str:
    form = ReasonForm(request.POST)
    return form.cleaned_data["reason"] if form.is_valid() else ""


@community_view(AccessRole.OPERATOR)
@require_POST
def post_close(request: HttpRequest, post_id: int) -> HttpResponse:
    post = post_or_404(request.community, post_id)
    try:
        do_close_post(post, reason=_reason(request), actor=request.user)
    except ExchangeError as exc:
        messages.error(request, problems_text(exc))
    else:
        messages.success(request, _("Closed: it is no longer suggested."))
    return back(request, reverse("web:exchange_post", args=[post.community.slug, post.pk]))


@community_view(AccessRole.OPERATOR)
@require_POST
def post_reopen(request: HttpRequest, post_id: int) -> HttpResponse:
    post = post_or_404(request.community, post_id)
    try:
        do_reopen_post(post, actor=request.user)
    except ExchangeError as exc:
        messages.error(request, problems_text(exc))
    else:
        messages.success(request, _("Reopened: it is matched again."))
    return _detail(post)


@community_view(AccessRole.OPERATOR)
@require_POST
def post_approve(request: HttpRequest, post_id: int) -> HttpResponse:
    """Let a public submission in, for a member the operator names or a new member."""
    community = request.community
    post = post_or_404(community, post_id)
    form = ApproveForm(request.POST)
    try:
        if not form.is_valid():
            raise ExchangeError(_("is not valid"), field="member")
        post = do_approve_post(
            post,
            member=resolve_member(community, form.cleaned_data["member"]),
            create_member=form.cleaned_data["create_member"],
            actor=request.user,
        )
    except ExchangeError as exc:
        messages.error(
            request,
            _("#%(id)d was not approved: %(problems)s")
            % {"id": post.pk, "problems": problems_text(exc)},
        )
    else:
        messages.success(
            request,
            _("#%(id)d approved for %(member)s: it is open and matched from now on.")
            % {"id": post.pk, "member": post.member.display_name},
        )
    return back(request, index_url(community, "pending"))


@community_view(AccessRole.OPERATOR)
@require_POST
def post_reject(request: HttpRequest, post_id: int) -> HttpResponse:
    community = request.community
    post = post_or_404(community, post_id)
    try:
        do_reject_post(post, reason=_reason(request), actor=request.user)
    except ExchangeError as exc:
        messages.error(request, problems_text(exc))
    else:
        messages.success(request, _("#%(id)d rejected.") % {"id": post.pk})
    return back(request, index_url(community, "pending"))
