from django.contrib import admin

from shequn.communities.models import Channel, Community


class ChannelInline(admin.TabularInline):
    model = Channel
    extra = 0
    fields = ["platform", "external_id", "name"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "carrier", "time_zone", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ChannelInline]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "platform", "external_id", "community"]
    list_filter = ["platform", "community"]
    search_fields = ["name", "external_id"]
