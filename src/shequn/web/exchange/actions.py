"""What operators do with pairs: confirm an introduction, turn a suggestion down, report a
connection's outcome. Each answers by going back to the page the form was on."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.exchange.models import Post
from shequn.exchange.services import (
    ExchangeError,
    do_confirm_connection,
    do_dismiss_suggestion,
    do_record_outcome,
)
from shequn.web.access import community_view
from shequn.web.exchange.common import (
    back,
    connection_or_404,
    index_url,
    post_or_404,
    problems_text,
)
from shequn.web.exchange.forms import OutcomeForm, PairForm


def _pair(request: HttpRequest) -> tuple[PairForm, Post, Post]:
    """The need and the offer the form names, both of this community (else 404)."""
    form = PairForm(request.POST)
    if not form.is_valid():
        raise ExchangeError(_("name a need and an offer by their numbers"))
    community = request.community
    return (
        form,
        post_or_404(community, form.cleaned_data["need"]),
        post_or_404(community, form.cleaned_data["offer"]),
    )


@community_view(AccessRole.OPERATOR)
@require_POST
def connect(request: HttpRequest) -> HttpResponse:
    """Confirm an introduction: the connection, its tie in the network and its points."""
    try:
        form, need, offer = _pair(request)
        connection = do_confirm_connection(
            need,
            offer,
            note=form.cleaned_data["note"],
            close_need=form.cleaned_data["close_need"],
            actor=request.user,
        )
    except ExchangeError as exc:
        messages.error(request, _("Not connected: %(problems)s") % {"problems": problems_text(exc)})
    else:
        messages.success(
            request,
            _("Connected: %(need_member)s #%(need)d ↔ %(offer_member)s #%(offer)d.")
            % {
                "need_member": need.member.display_name,
                "need": need.pk,
                "offer_member": offer.member.display_name,
                "offer": offer.pk,
            },
        )
        return back(request, index_url(request.community, f"connection-{connection.pk}"))
    return back(request, index_url(request.community, "suggestions"))


@community_view(AccessRole.OPERATOR)
@require_POST
def dismiss(request: HttpRequest) -> HttpResponse:
    """Turn a suggested pair down: it is not suggested again."""
    try:
        _form, need, offer = _pair(request)
        do_dismiss_suggestion(need, offer, actor=request.user)
    except ExchangeError as exc:
        messages.error(request, problems_text(exc))
    else:
        messages.success(
            request,
            _("Need #%(need)d and offer #%(offer)d will not be suggested again.")
            % {"need": need.pk, "offer": offer.pk},
        )
    return back(request, index_url(request.community, "suggestions"))


@community_view(AccessRole.OPERATOR)
@require_POST
def outcome(request: HttpRequest, connection_id: int) -> HttpResponse:
    """Report (or correct) what came of a connection, with its value."""
    connection = connection_or_404(request.community, connection_id)
    form = OutcomeForm(request.POST)
    try:
        if not form.is_valid():
            raise ExchangeError(
                {
                    field: " ".join(str(error) for error in errors)
                    for field, errors in form.errors.items()
                }
            )
        data = form.cleaned_data
        do_record_outcome(
            connection,
            data["outcome"],
            value=data["value"],
            currency=data["currency"],
            note=data["note"],
            actor=request.user,
        )
    except ExchangeError as exc:
        messages.error(
            request,
            _("The outcome of connection #%(id)d was not saved: %(problems)s")
            % {"id": connection.pk, "problems": problems_text(exc)},
        )
    else:
        messages.success(
            request, _("The outcome of connection #%(id)d is saved.") % {"id": connection.pk}
        )
    return back(request, index_url(request.community, f"connection-{connection.pk}"))
