from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "shequn.rewards"
    verbose_name = _("Points and levels")

    def ready(self) -> None:
        from shequn.rewards import receivers  # noqa: F401  (connects them)
