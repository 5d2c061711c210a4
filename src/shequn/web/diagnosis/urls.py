"""URLs of the diagnosis pages, under /c/<slug>/diagnosis/."""

from django.urls import path

from shequn.web.diagnosis import views

urlpatterns = [
    path("", views.diagnosis, name="diagnosis"),
    path("run/", views.run, name="diagnosis_run"),
    path("<int:report_id>/", views.diagnosis, name="diagnosis_report"),
    path("<int:report_id>/report.html", views.download, name="diagnosis_download"),
    path("<int:report_id>/report.json", views.download_json, name="diagnosis_json"),
    path("<int:report_id>/delete/", views.delete, name="diagnosis_delete"),
]
