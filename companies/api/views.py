from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from companies.api.serializers import (
    CompanySerializer,
    CompanyVerificationSerializer,
    CompanyWriteSerializer,
    CompetitorExclusionSerializer,
    CompetitorExclusionWriteSerializer,
    NaceCodeSerializer,
    RegionSerializer,
    SiteSerializer,
    SiteUpdateSerializer,
    SiteWriteSerializer,
)
from companies.filtersets import CompanyFilterSet, NaceCodeFilterSet, RegionFilterSet, SiteFilterSet
from companies.models import Company, CompetitorExclusion, NaceCode, Region, Site
from companies.permissions import (
    ObjectEditPermission,
    can_edit_company,
    can_manage_exclusions,
    can_verify_company,
)
from companies.selectors import exclusion_list
from companies.services import (
    company_create,
    company_unverify,
    company_update,
    company_verify,
    exclusion_add,
    exclusion_remove,
    site_create,
    site_update,
)
from core.pagination import IdsFirst


class ReferenceViewSet(viewsets.ReadOnlyModelViewSet):
    """Public reference data: readable without an account."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []


class RegionViewSet(ReferenceViewSet):
    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    ordering_fields = ("code", "name", "country")


class NaceCodeViewSet(ReferenceViewSet):
    queryset = NaceCode.objects.all()
    serializer_class = NaceCodeSerializer
    filterset_class = NaceCodeFilterSet
    ordering_fields = ("code", "level")


class WriteMixin:
    """Reads use the read serializer; writes validate with the write serializer, call a service and
    answer with the read representation."""

    write_serializer_class = None
    update_serializer_class = None

    def _input(self, partial=False, update=False):
        cls = (self.update_serializer_class if update else None) or self.write_serializer_class
        serializer = cls(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _output(self, obj, code=status.HTTP_200_OK):
        return Response(self.get_serializer(obj).data, status=code)


class CompanyViewSet(WriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = CompanySerializer
    write_serializer_class = CompanyWriteSerializer
    filterset_class = CompanyFilterSet
    permission_classes = [ObjectEditPermission(can_edit_company)]
    ordering_fields = ("name", "created_at", "employees")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return Company.objects.visible_to(self.request.user).select_related("nace")

    def paginate_queryset(self, queryset):
        return super().paginate_queryset(IdsFirst(queryset))

    @extend_schema(request=CompanyWriteSerializer, responses={201: CompanySerializer})
    def create(self, request, *args, **kwargs):
        company = company_create(actor=request.user, **self._input())
        return self._output(company, status.HTTP_201_CREATED)

    @extend_schema(request=CompanyWriteSerializer, responses=CompanySerializer)
    def update(self, request, *args, **kwargs):
        company = self.get_object()
        data = self._input(partial=kwargs.get("partial", False))
        return self._output(company_update(company=company, actor=request.user, **data))


    @extend_schema(request=None, responses=CompanyVerificationSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ObjectEditPermission(can_verify_company)],
            serializer_class=CompanyVerificationSerializer)
    def verify(self, request, pk=None, **kwargs):
        """Vouch that the company is real: facilitators of its regions and staff. Idempotent (the first
        verification is kept). A company you cannot see is a 404; one you may not verify a 403."""
        return self._output(company_verify(company=self.get_object(), actor=request.user))

    @extend_schema(request=None, responses=CompanyVerificationSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ObjectEditPermission(can_verify_company)],
            serializer_class=CompanyVerificationSerializer)
    def unverify(self, request, pk=None, **kwargs):
        """Undo a verification (the same people who may verify). Idempotent."""
        return self._output(company_unverify(company=self.get_object(), actor=request.user))


class SiteViewSet(WriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = SiteSerializer
    write_serializer_class = SiteWriteSerializer
    update_serializer_class = SiteUpdateSerializer
    filterset_class = SiteFilterSet
    permission_classes = [ObjectEditPermission(lambda user, site: can_edit_company(user, site.company))]
    ordering_fields = ("name", "created_at")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return Site.objects.visible_to(self.request.user).select_related("region", "company")

    @extend_schema(request=SiteWriteSerializer, responses={201: SiteSerializer})
    def create(self, request, *args, **kwargs):
        data = self._input()
        company = data.pop("company")
        if not Company.objects.visible_to(request.user).filter(pk=company.pk).exists():
            raise ValidationError({"company": ["Unknown company."]})
        if not can_edit_company(request.user, company):
            raise PermissionDenied("You cannot add sites to this company.")
        return self._output(site_create(company=company, actor=request.user, **data), status.HTTP_201_CREATED)

    @extend_schema(request=SiteUpdateSerializer, responses=SiteSerializer)
    def update(self, request, *args, **kwargs):
        site = self.get_object()
        data = self._input(partial=kwargs.get("partial", False), update=True)
        return self._output(site_update(site=site, actor=request.user, **data))


class CompetitorExclusionViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """`/api/v1/companies/{company_pk}/exclusions/`: who the company hides from. A company the user
    cannot see is a 404; anyone but its admins (and staff) gets a 403, for reads too."""

    serializer_class = CompetitorExclusionSerializer
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.company = get_object_or_404(Company.objects.visible_to(request.user), pk=kwargs["company_pk"])
        if not can_manage_exclusions(request.user, self.company):
            raise PermissionDenied("Only the company's admins manage its competitor exclusions.")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return CompetitorExclusion.objects.none()
        return exclusion_list(company=self.company, user=self.request.user)

    @extend_schema(request=CompetitorExclusionWriteSerializer, responses={201: CompetitorExclusionSerializer})
    def create(self, request, *args, **kwargs):
        serializer = CompetitorExclusionWriteSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        try:
            exclusion = exclusion_add(company=self.company, actor=request.user, **serializer.validated_data)
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict") and "excluded_name" in exc.error_dict:  # the field the caller sent
                exc.error_dict["company_name"] = exc.error_dict.pop("excluded_name")
            raise
        # Read back through the list's rule: the id only of a company the caller may see.
        exclusion = self.get_queryset().get(pk=exclusion.pk)
        return Response(self.get_serializer(exclusion).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: CompetitorExclusion):
        exclusion_remove(exclusion=instance, actor=self.request.user)
