from django.contrib import admin

from companies.models import Company, Membership, NaceCode, NaceCorrespondence, Region, RegionRole, Site
from companies.presentation import note_site_reads


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0
    autocomplete_fields = ("region",)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "nace", "country", "employees", "is_sme", "external_ref", "entered_by_facilitator",
                    "verified_at")
    list_filter = ("country", "is_sme", "entered_by_facilitator", ("verified_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "external_ref", "nace__code")
    raw_id_fields = ("nace", "entered_by")
    readonly_fields = ("created_at", "updated_at")
    inlines = (SiteInline, MembershipInline)
    actions = ("mark_verified",)

    @admin.action(description="Mark as verified (counts in dashboards after the minimum age)")
    def mark_verified(self, request, queryset):
        from companies.services import company_verify

        for company in queryset.filter(verified_at__isnull=True):
            company_verify(company=company, actor=request.user)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The site inline shows every site's address and coordinates: an audited read (confidential.read).
        if obj is not None:
            note_site_reads(request.user, obj.sites.all())
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "country")
    list_filter = ("country",)
    search_fields = ("code", "name")


@admin.register(RegionRole)
class RegionRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "region", "role")
    list_filter = ("role", "region")
    raw_id_fields = ("user",)


@admin.register(NaceCode)
class NaceCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "revision", "level", "title")
    list_filter = ("revision", "level")
    search_fields = ("code", "compact", "title")


@admin.register(NaceCorrespondence)
class NaceCorrespondenceAdmin(admin.ModelAdmin):
    list_display = ("rev2", "rev21", "correspondence_type")
    list_filter = ("correspondence_type",)
    raw_id_fields = ("rev2", "rev21")
