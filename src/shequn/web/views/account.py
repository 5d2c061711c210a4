"""The signed-in account: password, API tokens, and accepting an invitation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.selectors import tokens_of
from shequn.accounts.services import (
    AccessError,
    do_accept_invitation,
    do_create_token,
    do_revoke_token,
    do_sign_up_with_invitation,
    find_invitation,
)
from shequn.audit import services as audit
from shequn.web.forms import SignUpForm, TokenCreateForm


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("web:home")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)
        audit.record("account.change_password", actor=self.request.user, target=self.request.user)
        messages.success(self.request, _("Your password was changed."))
        return response


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    new_key = None
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = do_create_token(request.user, form.cleaned_data["name"])
        except AccessError as exc:
            form.add_error("name", str(exc))
        else:
            form = TokenCreateForm()
    return render(
        request,
        "web/tokens.html",
        {"tokens": tokens_of(request.user), "form": form, "new_key": new_key},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(tokens_of(request.user), pk=token_id)
    do_revoke_token(token, actor=request.user)
    messages.success(request, _("Token revoked; programs using it can no longer sign in."))
    return redirect("web:tokens")


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Open to anyone with the link: logged in, accept; otherwise sign up (or log in first)."""
    found = find_invitation(token)
    if found is None:
        return render(request, "web/invitation_invalid.html", status=404)
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                do_accept_invitation(found, request.user)
            elif form.is_valid():
                user = do_sign_up_with_invitation(found, **form.cleaned_data)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                raise AccessError(_("Please correct the errors below."))
        except AccessError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Welcome to %(community)s.") % {"community": found.community.name},
            )
            return redirect("web:community", slug=found.community.slug)
    return render(request, "web/invitation.html", {"invitation": found, "form": form})
