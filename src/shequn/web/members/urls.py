"""URLs of the members pages, under /c/<slug>/members/."""

from django.urls import path

from shequn.web.members import views

urlpatterns = [
    path("", views.members, name="members"),
    path("<int:member_id>/", views.member, name="member"),
]
