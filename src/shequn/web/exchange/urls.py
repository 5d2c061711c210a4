"""URLs of the needs and offers pages, under /c/<slug>/exchange/."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
