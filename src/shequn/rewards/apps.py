from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "shequn.rewards"
    verbose_name = _("Points and levels")

    def ready(self) -> None:
        from shequn.members.merging import register_restorer
        from shequn.rewards import receivers  # noqa: F401  (connects them)
        from shequn.rewards.services import give_back_entries

        # the ledger refuses plain UPDATEs: an un-merge gives entries back through it
        register_restorer("rewards.PointEntry", give_back_entries)
