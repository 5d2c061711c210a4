from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "shequn.activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        from shequn.activities import receivers  # noqa: F401  (connects them)
        from shequn.activities.advocacy import register

        register()
