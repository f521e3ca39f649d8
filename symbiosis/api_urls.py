"""One router for the whole API under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from companies.api.views import (
    CompanyViewSet,
    CompetitorExclusionViewSet,
    NaceCodeViewSet,
    RegionViewSet,
    SiteViewSet,
)
from facilitation.api.views import MatchViewSet, NotificationViewSet
from matching.api.views import MatchingRunViewSet, StreamViewSet
from streams.api.imports import ImportCommitAPIView, ImportCreateAPIView, ImportDetailAPIView
from streams.api.views import EwcCodeViewSet, ResourceCategoryViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("companies", CompanyViewSet, basename="company")
router.register(r"companies/(?P<company_pk>\d+)/exclusions", CompetitorExclusionViewSet, basename="company-exclusion")
router.register("sites", SiteViewSet, basename="site")
router.register("regions", RegionViewSet, basename="region")
router.register("nace-codes", NaceCodeViewSet, basename="nace-code")
router.register("ewc-codes", EwcCodeViewSet, basename="ewc-code")
router.register("categories", ResourceCategoryViewSet, basename="category")
router.register("streams", StreamViewSet, basename="stream")  # with matching's /streams/{id}/matches/
router.register("matches", MatchViewSet, basename="match")
router.register("matching-runs", MatchingRunViewSet, basename="matching-run")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    *router.urls,
    path("imports/", ImportCreateAPIView.as_view(), name="import-create"),
    path("imports/<str:token>/", ImportDetailAPIView.as_view(), name="import-detail"),
    path("imports/<str:token>/commit/", ImportCommitAPIView.as_view(), name="import-commit"),
    path("", include("dashboards.api.urls")),
]
