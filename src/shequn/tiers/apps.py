from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TiersConfig(AppConfig):
    name = "shequn.tiers"
    verbose_name = _("Tiers")

    def ready(self) -> None:
        from shequn.tiers import receivers  # noqa: F401  (connects them)
