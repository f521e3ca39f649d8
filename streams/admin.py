from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from audit.context import note_confidential_read
from companies.roles import roles_for
from streams.models import EwcCode, ResourceCategory, Stream, SubstitutionRule


@admin.register(ResourceCategory)
class ResourceCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "value_class", "is_leaf")
    list_filter = ("kind", "is_leaf", "value_class")
    search_fields = ("code", "name")


@admin.register(EwcCode)
class EwcCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "description", "is_hazardous", "is_mirror", "category")
    list_filter = ("is_hazardous", "is_mirror")
    search_fields = ("code", "description")
    raw_id_fields = ("category",)


@admin.register(SubstitutionRule)
class SubstitutionRuleAdmin(admin.ModelAdmin):
    list_display = ("offer_category", "need_category", "factor", "source")
    raw_id_fields = ("offer_category", "need_category")


@admin.register(Stream)
class StreamAdmin(SimpleHistoryAdmin):
    list_display = ("title", "company", "direction", "kind", "category", "status", "visibility")
    list_filter = ("direction", "kind", "status", "visibility")
    search_fields = ("title", "company__name", "external_ref")
    raw_id_fields = ("company", "site", "category", "entered_by")
    filter_horizontal = ("ewc_codes",)
    readonly_fields = ("quantity_yearly", "base_unit", "created_at", "updated_at")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The form shows every confidential field: an audited read (audit/services.py, confidential.read).
        if obj is not None and obj.company_id not in roles_for(request.user).company_ids:
            note_confidential_read("streams.stream", obj.pk)
        return super().render_change_form(request, context, add, change, form_url, obj)
