"""URLs of the import pages, under /c/<slug>/imports/."""

from django.urls import path

from shequn.web.imports import views

urlpatterns = [
    path("", views.imports, name="imports"),
    path("upload/", views.upload, name="import_upload"),
    path("<int:job_id>/", views.job, name="import_job"),
    path("<int:job_id>/progress/", views.progress, name="import_progress"),
]
