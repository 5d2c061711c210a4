"""The charter page (社群公约): the current text and its versions, who acknowledged it (and who
has not yet), and for operators publishing a new version and recording acknowledgements one by
one or from a CSV file. Writes go through ``shequn.charter.services``."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.charter.selectors import (
    charter_status,
    charter_versions,
    current_charter,
    data_end,
    members_to_acknowledge,
    version_acknowledgements,
)
from shequn.charter.services import (
    CharterError,
    do_acknowledge,
    do_import_acknowledgements,
    do_publish_charter,
)
from shequn.web.access import community_view
from shequn.web.charter.common import find_member, page, version_or_404
from shequn.web.charter.forms import AcknowledgeForm, AcknowledgementsImportForm, CharterTextForm

ACKNOWLEDGEMENTS_PAGE = 50
TO_ASK = 20
MAX_UPLOAD = 10 * 1024 * 1024


def _problems(form) -> str:
    return "; ".join(
        f"{form.fields[field].label if field in form.fields else ''}: {' '.join(errors)}"
        for field, errors in form.errors.items()
    )


@community_view()
def charter(request: HttpRequest) -> HttpResponse:
    """The current text, its acknowledgements and the figures that say whether the charter is
    enforced."""
    community = request.community
    version = current_charter(community)
    context = page(
        request,
        "web:charter",
        version=version,
        status=charter_status(community, end=data_end(community)),
        versions=list(charter_versions(community)[:20]),
        text_form=CharterTextForm(initial={"text": version.text if version else ""}),
        acknowledge_form=AcknowledgeForm(),
        import_form=AcknowledgementsImportForm(),
    )
    if version is not None:
        waiting = members_to_acknowledge(community, version)
        context["acknowledgements"] = Paginator(
            version_acknowledgements(version), ACKNOWLEDGEMENTS_PAGE
        ).get_page(request.GET.get("page"))
        context["to_ask"] = list(waiting[:TO_ASK])
        context["to_ask_count"] = waiting.count()
    return render(request, "web/charter/index.html", context)


@community_view()
def version(request: HttpRequest, charter_version_id: int) -> HttpResponse:
    found = version_or_404(request.community, charter_version_id)
    return render(
        request,
        "web/charter/version.html",
        page(
            request,
            "web:charter",
            version=found,
            current=current_charter(request.community),
            acknowledged=found.acknowledgements.count(),
        ),
    )


@community_view(AccessRole.OPERATOR)
@require_POST
def publish(request: HttpRequest) -> HttpResponse:
    community = request.community
    form = CharterTextForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Nothing published: %(problems)s") % {"problems": _problems(form)}
        )
        return redirect("web:charter", community.slug)
    try:
        published = do_publish_charter(
            community, form.cleaned_data["text"], request.user, note=form.cleaned_data["note"]
        )
    except CharterError as exc:
        messages.error(request, _("Nothing published: %(problems)s") % {"problems": exc})
    else:
        messages.success(
            request,
            _("Version %(n)d published. Ask the members to acknowledge it.")
            % {"n": published.number},
        )
    return redirect("web:charter", community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def acknowledge(request: HttpRequest) -> HttpResponse:
    community = request.community
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not recorded: %(problems)s") % {"problems": _problems(form)})
        return redirect("web:charter", community.slug)
    try:
        member = find_member(community, form.cleaned_data["member"])
        do_acknowledge(
            member,
            via=form.cleaned_data["via"],
            actor=request.user,
            at=form.cleaned_data["acknowledged_at"],
        )
    except CharterError as exc:
        messages.error(request, _("Not recorded: %(problems)s") % {"problems": exc})
    else:
        messages.success(
            request,
            _("%(member)s acknowledged the charter.") % {"member": member.display_name},
        )
    return redirect("web:charter", community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def acknowledgements_import(request: HttpRequest) -> HttpResponse:
    community = request.community
    form = AcknowledgementsImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Nothing imported: %(problems)s") % {"problems": _problems(form)})
        return redirect("web:charter", community.slug)
    upload = form.cleaned_data["file"]
    try:
        if upload.size > MAX_UPLOAD:
            raise CharterError(_("the file is larger than 10 MB"), "file")
        try:
            content = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CharterError(_("the file is not UTF-8 text"), "file") from None
        result = do_import_acknowledgements(
            community, content, actor=request.user, source=upload.name
        )
    except CharterError as exc:
        messages.error(request, _("Nothing imported: %(problems)s") % {"problems": exc})
    else:
        messages.success(
            request,
            _(
                "%(created)d acknowledgements of version %(version)d recorded; %(already)d rows "
                "were already recorded."
            )
            % {"created": result.created, "version": result.version, "already": result.already},
        )
    return redirect("web:charter", community.slug)


@community_view()
def acknowledgements_csv(request: HttpRequest) -> HttpResponse:
    """The current version's acknowledgements as CSV (the same columns the import reads)."""
    community = request.community
    version = current_charter(community)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["member", "member_name", "acknowledged_at", "via"])
    if version is not None:
        for ack in version_acknowledgements(version).iterator():
            writer.writerow(
                [ack.member_id, ack.member.display_name, ack.acknowledged_at.isoformat(), ack.via]
            )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    number = version.number if version is not None else 0
    response["Content-Disposition"] = (
        f'attachment; filename="{community.slug}-charter-v{number}-acknowledgements.csv"'
    )
    return response
