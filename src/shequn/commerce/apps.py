from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommerceConfig(AppConfig):
    name = "shequn.commerce"
    verbose_name = _("Business model")

    def ready(self) -> None:
        from shequn.commerce import receivers  # noqa: F401  (connects them)
