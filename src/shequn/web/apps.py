from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "shequn.web"
    verbose_name = _("web app")

    def ready(self) -> None:
        from shequn.web import checks  # noqa: F401  (registers the system checks)
