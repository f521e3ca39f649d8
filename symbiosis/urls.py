from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.ratelimits import limit_auth_form
from facilitation import urls as facilitation_urls
from matching import urls as matching_urls

# The admin's own log-in form gets the same limits as ours.
admin.site.login = limit_auth_form(admin.site.login, group="admin-login")

handler404 = "core.api.not_found"

urlpatterns = [
    path("", include("companies.urls")),
    path("streams/", include("streams.urls")),
    # One namespace, `matching`, for the pages of matching and of facilitation under /matches/.
    path("matches/", include((matching_urls.urlpatterns + facilitation_urls.urlpatterns, "matching"))),
    path("", include("dashboards.urls")),
    # Rate-limited before django.contrib.auth.urls, which provides the other /accounts/ pages.
    path("accounts/login/", limit_auth_form(auth_views.LoginView.as_view(), group="login"), name="login"),
    path("accounts/password_reset/", limit_auth_form(auth_views.PasswordResetView.as_view(), group="reset"),
         name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("symbiosis.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
]
