"""URLs of the activities pages: ``community_urlpatterns`` under /c/<slug>/activities/, and
``public_urlpatterns`` (no login: the public registration page, tickets, feedback and the
calendar feed) at the top level."""

from django.urls import path

from shequn.web.views import activities as views
from shequn.web.views import activities_public as public
from shequn.web.views import activities_registrations as registrations
from shequn.web.views import activities_rituals as rituals

ACTIVITY = "<int:activity_id>/"
REGISTRATION = f"{ACTIVITY}registrations/<int:registration_id>/"

community_urlpatterns = [
    path("", views.activities, name="activities"),
    path("new/", views.activity_new, name="activity_new"),
    path("calendar.ics", views.calendar_ics, name="activities_ics"),
    path(ACTIVITY, views.activity_page, name="activity"),
    path(f"{ACTIVITY}edit/", views.activity_edit, name="activity_edit"),
    path(f"{ACTIVITY}publish/", views.activity_publish, name="activity_publish"),
    path(f"{ACTIVITY}cancel/", views.activity_cancel, name="activity_cancel"),
    path(f"{ACTIVITY}complete/", views.activity_complete, name="activity_complete"),
    path(f"{ACTIVITY}delete/", views.activity_delete, name="activity_delete"),
    path(f"{ACTIVITY}activity.ics", views.activity_calendar, name="activity_ics"),
    path(f"{ACTIVITY}guests/", views.guest_add, name="activity_guest_add"),
    path(
        f"{ACTIVITY}guests/<int:guest_id>/remove/",
        views.guest_remove,
        name="activity_guest_remove",
    ),
    path(f"{ACTIVITY}registrations/", registrations.registration_add, name="activity_register"),
    path(
        f"{ACTIVITY}registrations.csv",
        registrations.registrations_export,
        name="activity_registrations_csv",
    ),
    path(REGISTRATION, registrations.registration_page, name="activity_registration"),
    path(
        f"{REGISTRATION}cancel/",
        registrations.registration_cancel,
        name="activity_registration_cancel",
    ),
    path(f"{REGISTRATION}fee/", registrations.registration_fee, name="activity_registration_fee"),
    path(f"{REGISTRATION}qr.svg", registrations.registration_qr, name="activity_registration_qr"),
    path(f"{ACTIVITY}check-in/", registrations.check_in, name="activity_check_in"),
    path(f"{ACTIVITY}attendance/", registrations.attendance_import, name="activity_attendance"),
    path("rituals/", rituals.rituals, name="rituals"),
    path("rituals/new/", rituals.ritual_new, name="ritual_new"),
    path("rituals/<int:ritual_id>/", rituals.ritual, name="ritual"),
    path("rituals/<int:ritual_id>/edit/", rituals.ritual_edit, name="ritual_edit"),
    path("rituals/<int:ritual_id>/generate/", rituals.ritual_generate, name="ritual_generate"),
]

public_urlpatterns = [
    path("a/<str:token>/", public.activity_public, name="activity_public"),
    path("a/<str:token>/activity.ics", public.activity_public_ics, name="activity_public_ics"),
    path("t/<str:token>/", public.ticket, name="activity_ticket"),
    path("t/<str:token>/cancel/", public.ticket_cancel, name="activity_ticket_cancel"),
    path("f/<str:token>/", public.feedback, name="activity_feedback"),
    path("cal/<str:token>.ics", public.activities_feed, name="activities_feed"),
]
