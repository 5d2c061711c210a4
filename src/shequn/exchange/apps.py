from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "shequn.exchange"
    verbose_name = _("Needs and offers")

    def ready(self) -> None:
        from shequn.exchange import receivers  # noqa: F401  (connects them)
        from shequn.exchange.advocacy import register as register_advocacy
        from shequn.exchange.metrics import register as register_metric

        register_advocacy()
        register_metric()
