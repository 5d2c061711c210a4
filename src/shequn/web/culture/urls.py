"""URLs of the culture and goals pages, under /c/<slug>/culture/."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
