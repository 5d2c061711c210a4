"""URLs of the points pages, under /c/<slug>/points/."""

from django.urls import path

from shequn.web.points import views

urlpatterns = [
    path("", views.leaderboards, name="points"),
    path("rules/", views.rules, name="points_rules"),
    path("rules/new/", views.rule_edit, name="points_rule_new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="points_rule"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="points_rule_delete"),
    path("rules/export.toml", views.rules_export, name="points_rules_export"),
    path("rules/import/", views.rules_import, name="points_rules_import"),
    path("rules/preset/", views.preset, name="points_preset"),
    path("levels/", views.levels, name="points_levels"),
    path("recompute/", views.recompute, name="points_recompute"),
    path("members/<int:member_id>/entries/", views.manual_entry, name="points_manual"),
    path("entries/<int:entry_id>/reverse/", views.reverse_entry, name="points_reverse"),
]
