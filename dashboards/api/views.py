"""API twins of the dashboard pages: the same selectors, the same suppressed figures, as JSON.

- GET /api/v1/dashboards/            regions whose dashboard you may see (staff: all)
- GET /api/v1/dashboards/<code>/     every table of one region's dashboard, plus its map as GeoJSON
- GET /api/v1/open-data/             region-level statistics of every region (public)

A suppressed cell has ``"value": null, "companies": null, "suppressed": true``.
"""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards import presentation, selectors


class DashboardListAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="dashboards_list", responses={200: OpenApiTypes.OBJECT}, tags=["dashboards"])
    def get(self, request):
        regions = list(selectors.dashboard_regions(request.user))
        results = [
            {
                "code": r.code, "name": r.name, "country": r.country,
                "url": request.build_absolute_uri(reverse("dashboards_api:region", args=[r.code])),
                "page": request.build_absolute_uri(reverse("dashboards:region", args=[r.code])),
            }
            for r in regions
        ]
        body = {"count": len(results), "results": results}
        if len(regions) > 1:
            body["comparison"] = presentation.table_json(selectors.region_comparison(regions=regions))
        return Response(body)


class DashboardDetailAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="dashboards_retrieve", responses={200: OpenApiTypes.OBJECT}, tags=["dashboards"],
        parameters=[OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="NUTS code")],
    )
    def get(self, request, code):
        region = selectors.dashboard_region(user=request.user, code=code)
        body = selectors.region_artefact(
            region=region, name="api-json",
            make=lambda dashboard: json.dumps(
                presentation.dashboard_json(dashboard), cls=DjangoJSONEncoder, separators=(",", ":"),
            ).encode(),
        )
        return HttpResponse(body, content_type="application/json")


class OpenDataAPIView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []  # public and read-only: no session, so no CSRF or login needed

    @extend_schema(operation_id="open_data_retrieve", responses={200: OpenApiTypes.OBJECT}, tags=["open data"])
    def get(self, request):
        table = selectors.open_data()
        return Response({
            "suppression": {"min_companies": 3},
            "table": presentation.table_json(table),
        })
