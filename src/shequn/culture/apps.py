from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CultureConfig(AppConfig):
    name = "shequn.culture"
    verbose_name = _("Culture and goals")

    def ready(self) -> None:
        from shequn.culture import receivers  # noqa: F401  (connects them)
        from shequn.culture.advocacy import register
        from shequn.culture.builtin_metrics import register_builtin_metrics

        register_builtin_metrics()
        register()
