"""factory_boy factories: build only what a test needs."""

import factory
from django.contrib.auth import get_user_model

from companies.choices import MembershipRole, RegionRoleKind
from companies.models import Company, Membership, NaceCode, Region, RegionRole, Site
from streams.choices import Direction, StreamKind, StreamStatus, Visibility
from streams.models import ResourceCategory, Stream


def region(code: str = "SE22") -> Region:
    return Region.objects.get(code=code)


def nace(code: str = "10.51") -> NaceCode:
    return NaceCode.objects.get(revision="2.1", code=code)


def leaf_category(kind: str = StreamKind.MATERIAL, code: str | None = None) -> ResourceCategory:
    if code:
        return ResourceCategory.objects.get(code=code)
    return ResourceCategory.objects.filter(kind=kind, is_leaf=True).order_by("code").first()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "correct horse battery staple")
        if create:
            obj.save(update_fields=["password"])


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n} AB")
    nace = factory.LazyFunction(nace)
    country = "SE"
    employees = 40


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Plant {n}")
    address = "Industrivägen 1"
    latitude = 55.60
    longitude = 13.00
    region = factory.LazyFunction(region)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory)
    role = MembershipRole.ADMIN


class RegionRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegionRole

    user = factory.SubFactory(UserFactory)
    region = factory.LazyFunction(region)
    role = RegionRoleKind.FACILITATOR


class StreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stream
        skip_postgeneration_save = True

    company = factory.LazyAttribute(lambda s: s.site.company)
    site = factory.SubFactory(SiteFactory)
    direction = Direction.OFFER
    kind = StreamKind.MATERIAL
    title = factory.Sequence(lambda n: f"Side stream {n}")
    category = factory.LazyAttribute(lambda s: leaf_category(s.kind))
    quantity = 100
    unit = "t"
    period = "year"
    status = StreamStatus.ACTIVE
    visibility = Visibility.ANONYMOUS
    price_eur_per_unit = 12
    disposal_cost_eur_per_unit = 45
    composition = "secret recipe 42% lignin"

    @factory.post_generation
    def normalise(obj, create, extracted, **kwargs):
        obj.normalise()
        if create:
            obj.save()


def verified_peers(code: str = "10.51", region_code: str = "SE22", n: int = 2) -> list[Company]:
    """`n` verified companies with NACE `code` and a site in `region_code`: with the owner they make
    the k = 3 that lets an anonymous label show the exact class and region (companies/anonymity.py)."""
    from django.utils import timezone

    out = []
    for _ in range(n):
        company = CompanyFactory(nace=nace(code), verified_at=timezone.now())
        SiteFactory(company=company, region=region(region_code))
        out.append(company)
    return out
