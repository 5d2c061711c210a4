"""URLs of the charter pages, under /c/<slug>/charter/."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
