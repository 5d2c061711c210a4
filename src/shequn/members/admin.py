from django.contrib import admin

from shequn.members.models import Identity, Member


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ["channel", "platform_user_id", "handle"]
    readonly_fields = ["channel", "platform_user_id"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "community",
        "role",
        "is_bot",
        "joined_at",
        "left_at",
        "muted_at",
    ]
    list_filter = ["community", "role", "is_bot"]
    search_fields = ["display_name", "identities__handle", "identities__platform_user_id"]
    inlines = [IdentityInline]
    list_select_related = ["community"]


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ["handle", "platform_user_id", "channel", "member"]
    list_filter = ["channel__platform"]
    search_fields = ["handle", "platform_user_id"]
    raw_id_fields = ["member"]
