"""Pages of the dashboards, open data and company impact reports. Mounted at the site root:
``path("", include("dashboards.urls"))``."""

from django.urls import path, register_converter

from dashboards import views


class ExportFormat:
    regex = "csv|xlsx|geojson"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ExportFormat, "dashfmt")

app_name = "dashboards"
urlpatterns = [
    path("dashboards/", views.DashboardIndexView.as_view(), name="index"),
    path("dashboards/<str:code>/", views.RegionDashboardView.as_view(), name="region"),
    path("dashboards/<str:code>/export.<dashfmt:fmt>", views.RegionExportView.as_view(), name="export"),
    path("open-data/", views.OpenDataView.as_view(), name="open_data"),
    path("open-data/export.<dashfmt:fmt>", views.OpenDataExportView.as_view(), name="open_data_export"),
    path("companies/<int:pk>/impact/", views.CompanyImpactView.as_view(), name="company_impact"),
]
