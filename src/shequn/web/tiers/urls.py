"""URLs of the tiers pages, under /c/<slug>/tiers/."""

from django.urls import path

from shequn.web.tiers import views

urlpatterns = [
    path("", views.tiers, name="tiers"),
    path("recompute/", views.recompute, name="tiers_recompute"),
    path("policy/", views.policy, name="tiers_policy"),
]
