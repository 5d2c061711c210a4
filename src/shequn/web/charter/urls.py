"""URLs of the charter pages, under /c/<slug>/charter/."""

from django.urls import path

from shequn.web.charter import log, rules, views

RULE = "rules/<int:charter_rule_id>/"
VIOLATION = "violations/<int:violation_id>/"

urlpatterns = [
    path("", views.charter, name="charter"),
    path("publish/", views.publish, name="charter_publish"),
    path("versions/<int:charter_version_id>/", views.version, name="charter_version"),
    path("acknowledgements/", views.acknowledge, name="charter_acknowledge"),
    path(
        "acknowledgements/import/",
        views.acknowledgements_import,
        name="charter_acknowledgements_import",
    ),
    path("acknowledgements.csv", views.acknowledgements_csv, name="charter_acknowledgements_csv"),
    path("rules/", rules.rules, name="charter_rules"),
    path("rules/new/", rules.rule_new, name="charter_rule_new"),
    path(RULE, rules.rule_edit, name="charter_rule"),
    path(f"{RULE}enable/", rules.rule_enable, name="charter_rule_enable"),
    path(f"{RULE}disable/", rules.rule_disable, name="charter_rule_disable"),
    path(f"{RULE}delete/", rules.rule_delete, name="charter_rule_delete"),
    path("check/", rules.check, name="charter_check"),
    path("violations/", log.violations_page, name="charter_violations"),
    path("violations/report/", log.report, name="charter_report"),
    path(VIOLATION, log.violation_page, name="charter_violation"),
    path(f"{VIOLATION}decide/", log.decide, name="charter_decide"),
    path("mutes/", log.mutes, name="charter_mutes"),
    path("mutes/<int:member_id>/", log.mute_act, name="charter_mute_act"),
    path("rewards/", log.rewards_page, name="charter_rewards"),
]
