"""Pages: the dashboards index with the comparison of regions, one region's dashboard and its exports,
the public open-data page, and a company's printable impact report.

Adapters only: a selector returns suppressed figures (or 404), `presentation` prepares them, the
template renders. A region the user may not see is a 404, like any object they may not see.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views import View

from audit.services import get_visible_or_404
from dashboards import exports, presentation, selectors

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


def _download(body, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


class DashboardIndexView(LoginRequiredMixin, View):
    def get(self, request):
        regions = list(selectors.dashboard_regions(request.user))
        context = {"regions": regions}
        if len(regions) > 1:
            table = selectors.region_comparison(regions=regions)
            context["comparison_table"] = presentation.display_table(table, row_header=_("Region"))
            context["comparison_chart"] = presentation.comparison_chart(table)
        return render(request, "dashboards/index.html", context)


def render_region_body(region, dashboard) -> str:
    """The dashboard's body: the same for every user who may see the region (no user, no CSRF token)."""
    context = {"region": region, "dashboard": dashboard, **presentation.region_page(dashboard)}
    return render_to_string("dashboards/_region_body.html", context)


class RegionDashboardView(LoginRequiredMixin, View):
    def get(self, request, code):
        region = selectors.dashboard_region(user=request.user, code=code)
        body = selectors.region_artefact(
            region=region, name="page-body", make=lambda dashboard: render_region_body(region, dashboard),
        )
        # Our own template's output, escaped when it was rendered.
        return render(request, "dashboards/region.html", {"region": region, "body": mark_safe(body)})  # noqa: S308


class RegionExportView(LoginRequiredMixin, View):
    def get(self, request, code, fmt):
        region = selectors.dashboard_region(user=request.user, code=code)
        dashboard = selectors.region_dashboard(region=region)
        name = f"symbiosis-dashboard-{slugify(region.code)}"
        tables = list(dashboard.tables.values())
        if fmt == "csv":
            return _download(exports.to_csv(tables), fmt, name)
        if fmt == "xlsx":
            title = _("Symbiosis dashboard: %(name)s (%(code)s)") % {"name": region.name, "code": region.code}
            return _download(exports.to_xlsx(tables, title=title, generated_at=dashboard.meta.get("generated_at", "")),
                             fmt, name)
        if fmt == "geojson":
            return _download(exports.to_geojson(dashboard), fmt, name)
        raise Http404("Unknown format")


class OpenDataView(View):
    """Public: region-level statistics of every region, suppressed like every dashboard."""

    def get(self, request):
        table = selectors.open_data()
        return render(request, "dashboards/open_data.html", {
            "table": presentation.display_table(table, row_header=_("Region")),
            "chart": presentation.comparison_chart(table),
        })


class OpenDataExportView(View):
    def get(self, request, fmt):
        table = selectors.open_data()
        if fmt == "csv":
            return _download(exports.to_csv([table]), fmt, "symbiosis-open-data")
        if fmt == "xlsx":
            return _download(exports.to_xlsx([table], title=table.title), fmt, "symbiosis-open-data")
        if fmt == "geojson":
            return _download(exports.regions_geojson(table), fmt, "symbiosis-open-data")
        raise Http404("Unknown format")


class CompanyImpactView(LoginRequiredMixin, View):
    """A company's impact report: its members, facilitators of its regions and staff; else 404."""

    def get(self, request, pk):
        company = get_visible_or_404(selectors.report_companies(request.user).select_related("nace"), pk=pk)
        report = selectors.company_impact_report(company=company)
        return render(request, "dashboards/company_impact.html", {"company": company, "report": report})
