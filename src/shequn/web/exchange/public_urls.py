"""Public pages of exchange (no account needed: a link's token is the permission)."""

from django.urls import path

from shequn.web.exchange import public

urlpatterns = [
    path("needs-offers/<str:token>/", public.public_post, name="exchange_public"),
]
