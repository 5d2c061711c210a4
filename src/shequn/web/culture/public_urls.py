"""Public pages of culture (no account needed: a link's token is the permission)."""

from django.urls import path

from shequn.web.culture import public

urlpatterns = [
    path("goals/<str:token>/", public.goal_public, name="goal_public"),
]
