"""API routes of the dashboards and open data, included by symbiosis/api_urls.py under /api/v1/."""

from django.urls import path

from dashboards.api.views import DashboardDetailAPIView, DashboardListAPIView, OpenDataAPIView

app_name = "dashboards_api"
urlpatterns = [
    path("dashboards/", DashboardListAPIView.as_view(), name="list"),
    path("dashboards/<str:code>/", DashboardDetailAPIView.as_view(), name="region"),
    path("open-data/", OpenDataAPIView.as_view(), name="open_data"),
]
