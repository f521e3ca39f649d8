"""Migration companies.0006: which existing company_refs stay import keys, and in which scope."""

import importlib

import pytest
from django.apps import apps

from companies.models import Company
from tests.factories import (
    CompanyFactory,
    MembershipFactory,
    RegionRoleFactory,
    SiteFactory,
    UserFactory,
    region,
)

pytestmark = pytest.mark.django_db

migration = importlib.import_module("companies.migrations.0006_company_import_scope")


def test_existing_refs_keep_a_scope_only_where_no_company_admin_could_have_typed_them():
    fiona = RegionRoleFactory(region=region("SE22")).user
    by_system = CompanyFactory(external_ref="C-1")
    by_staff = CompanyFactory(external_ref="C-2", entered_by=UserFactory(is_staff=True))
    by_facilitator = CompanyFactory(external_ref="C-3", entered_by=fiona, entered_by_facilitator=True)
    SiteFactory(company=by_facilitator, region=region("SE22"))
    self_given = CompanyFactory(external_ref="C-4")
    MembershipFactory(company=self_given)
    demo = CompanyFactory(external_ref="demo-c-00001")
    MembershipFactory(company=demo)
    no_ref = CompanyFactory()

    migration.scope_existing_refs(apps, None)

    scopes = dict(Company.objects.values_list("pk", "import_scope"))
    assert scopes == {by_system.pk: "platform", by_staff.pk: "platform", by_facilitator.pk: "region:SE22",
                      self_given.pk: "", demo.pk: "platform", no_ref.pk: ""}
    assert Company.objects.get(pk=self_given.pk).external_ref == "C-4"  # kept as text, never matched
