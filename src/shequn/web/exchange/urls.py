"""URLs of the needs and offers pages, under /c/<slug>/exchange/."""

from django.urls import path

from shequn.web.exchange import actions, posts, views

POST = "posts/<int:post_id>/"

urlpatterns = [
    path("", views.exchange, name="exchange"),
    path("connections/", views.connections, name="exchange_connections"),
    path("settings/", views.settings, name="exchange_settings"),
    path("public-form/", views.public_form, name="exchange_public_form"),
    path("posts/new/", posts.post_new, name="exchange_post_new"),
    path(POST, posts.post_page, name="exchange_post"),
    path(f"{POST}edit/", posts.post_edit, name="exchange_post_edit"),
    path(f"{POST}close/", posts.post_close, name="exchange_post_close"),
    path(f"{POST}reopen/", posts.post_reopen, name="exchange_post_reopen"),
    path(f"{POST}approve/", posts.post_approve, name="exchange_post_approve"),
    path(f"{POST}reject/", posts.post_reject, name="exchange_post_reject"),
    path("connect/", actions.connect, name="exchange_connect"),
    path("dismiss/", actions.dismiss, name="exchange_dismiss"),
    path(
        "connections/<int:connection_id>/outcome/",
        actions.outcome,
        name="exchange_connection_outcome",
    ),
]
