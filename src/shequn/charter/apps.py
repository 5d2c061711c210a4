from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CharterConfig(AppConfig):
    name = "shequn.charter"
    verbose_name = _("Charter")

    def ready(self) -> None:
        from shequn.charter import receivers  # noqa: F401  (connects them)
