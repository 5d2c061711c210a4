"""URLs of the business model pages, under /c/<slug>/commerce/."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
