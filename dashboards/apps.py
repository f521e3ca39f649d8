from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """Regional dashboards, open data, exports and company impact reports."""

    name = "dashboards"
    default_auto_field = "django.db.models.BigAutoField"
