from django.contrib import admin

from shequn.interactions.models import ImportRun, InteractionEvent, MemberDailyRollup


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "community", "format", "source", "status", "finished_at"]
    list_filter = ["status", "format", "community"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]


@admin.register(InteractionEvent)
class InteractionEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "member", "target_member", "channel", "text_length"]
    list_filter = ["kind", "channel__platform", "community"]
    raw_id_fields = ["member", "target_member", "channel", "import_run"]
    list_select_related = ["member", "target_member", "channel"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(MemberDailyRollup)
class MemberDailyRollupAdmin(admin.ModelAdmin):
    list_display = [
        "day",
        "member",
        "messages",
        "replies_given",
        "replies_received",
        "reactions_received",
    ]
    list_filter = ["community"]
    raw_id_fields = ["member"]
    list_select_related = ["member"]
    show_full_result_count = False
