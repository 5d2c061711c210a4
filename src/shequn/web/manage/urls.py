"""URLs of the manage pages, under /c/<slug>/manage/."""

from django.urls import path

from shequn.web.manage import views

urlpatterns = [
    path("", views.settings_page, name="manage"),
    path("profile/", views.profile, name="manage_profile"),
    path("access/", views.access, name="manage_access"),
    path("access/<int:access_id>/", views.access_change, name="manage_access_change"),
    path("access/invite/", views.invite, name="manage_invite"),
    path(
        "access/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="manage_invitation_revoke",
    ),
    path("audit/", views.audit, name="manage_audit"),
]
