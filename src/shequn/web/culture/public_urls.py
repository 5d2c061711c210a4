"""Public pages of culture (no account needed: a link's token is the permission)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
