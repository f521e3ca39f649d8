from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError

from companies.api.views import ReferenceViewSet, WriteMixin
from companies.models import Company, Site
from companies.permissions import ObjectEditPermission, can_act_for_company
from companies.roles import roles_for
from companies.selectors import viewer_origin
from core.pagination import IdsFirst
from streams.api.serializers import (
    EwcCodeSerializer,
    ResourceCategorySerializer,
    StreamSerializer,
    StreamStatusSerializer,
    StreamWriteSerializer,
)
from streams.filtersets import EwcCodeFilterSet, ResourceCategoryFilterSet, StreamFilterSet
from streams.models import EwcCode, ResourceCategory, check_site
from streams.permissions import can_edit_stream
from streams.selectors import stream_queryset, stream_reloaded
from streams.services import stream_create, stream_set_status, stream_update


class EwcCodeViewSet(ReferenceViewSet):
    queryset = EwcCode.objects.select_related("category")
    serializer_class = EwcCodeSerializer
    filterset_class = EwcCodeFilterSet
    lookup_field = "code"
    ordering_fields = ("code",)


class ResourceCategoryViewSet(ReferenceViewSet):
    queryset = ResourceCategory.objects.select_related("parent")
    serializer_class = ResourceCategorySerializer
    filterset_class = ResourceCategoryFilterSet
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9._-]+"
    ordering_fields = ("code", "name")


def _owner_for_create(user, data) -> tuple[Company, Site | None]:
    """Which company a new stream belongs to: the site's, the named one, or the user's only one."""
    site = data.pop("site", None)
    company = data.pop("company", None)
    if site is not None:
        if not Site.objects.visible_to(user).filter(pk=site.pk).exists():
            raise ValidationError({"site": ["Unknown site."]})
        if company is not None:
            check_site(site, company.pk)
        company = site.company
    elif company is None:
        ids = roles_for(user).company_ids
        if len(ids) != 1:
            raise ValidationError({"company": ["Say which company (or site) this stream belongs to."]})
        company = Company.objects.get(pk=next(iter(ids)))
    roles = roles_for(user)
    own = roles.is_staff or company.pk in roles.company_ids  # visible by definition: no query to plan
    if not own and not Company.objects.visible_to(user).filter(pk=company.pk).exists():
        raise ValidationError({"company": ["Unknown company."]})
    if not can_act_for_company(user, company):
        raise PermissionDenied("You cannot list streams for this company.")
    return company, site


class StreamViewSet(WriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Offers and needs. Anonymous listings hide the company; confidential fields are null unless
    the stream is yours, you facilitate its region, or you are staff."""

    serializer_class = StreamSerializer
    write_serializer_class = StreamWriteSerializer
    filterset_class = StreamFilterSet
    permission_classes = [ObjectEditPermission(can_edit_stream)]
    throttle_scope = "stream_writes"
    ordering_fields = ("updated_at", "created_at", "quantity_yearly", "title")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return stream_queryset(user=self.request.user)

    def paginate_queryset(self, queryset):
        # An action of a higher app (matching's matches) may page its own IdsFirst; the list pages
        # streams ids first.
        return super().paginate_queryset(IdsFirst(queryset) if isinstance(queryset, QuerySet) else queryset)

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        ctx["origin"] = viewer_origin(self.request.user) if self.request.user.is_authenticated else None
        return ctx

    @extend_schema(request=StreamWriteSerializer, responses={201: StreamSerializer})
    def create(self, request, *args, **kwargs):
        data = self._input()
        company, site = _owner_for_create(request.user, data)
        stream = stream_create(company=company, site=site, actor=request.user, **data)
        return self._output(stream_reloaded(user=request.user, stream=stream), status.HTTP_201_CREATED)

    @extend_schema(request=StreamWriteSerializer, responses=StreamSerializer)
    def update(self, request, *args, **kwargs):
        stream = self.get_object()
        data = self._input(partial=kwargs.get("partial", False))
        data.pop("company", None)
        site = data.pop("site", None)  # stream_update refuses a site of another company
        stream = stream_update(stream=stream, site=site, actor=request.user, **data)
        return self._output(stream_reloaded(user=request.user, stream=stream))

    @extend_schema(request=StreamStatusSerializer, responses=StreamSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None, format=None):
        """Publish, pause, close or reopen a stream."""
        stream = self.get_object()
        serializer = StreamStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        stream_set_status(stream=stream, actor=request.user, status=serializer.validated_data["status"])
        return self._output(get_object_or_404(self.get_queryset(), pk=stream.pk))
