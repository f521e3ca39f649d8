from django.db import models
from django.utils.translation import gettext_lazy as _


class NaceRevision(models.TextChoices):
    REV2 = "2", _("NACE Rev. 2")
    REV21 = "2.1", _("NACE Rev. 2.1")


class MembershipRole(models.TextChoices):
    ADMIN = "admin", _("Company admin")
    MEMBER = "member", _("Company member")


class RegionRoleKind(models.TextChoices):
    FACILITATOR = "facilitator", _("Facilitator")
    AUTHORITY = "authority", _("Regional authority")


class Country(models.TextChoices):
    """Countries of the Baltic Sea Region and their neighbours (ISO 3166-1 alpha-2)."""

    DE = "DE", _("Germany")
    DK = "DK", _("Denmark")
    EE = "EE", _("Estonia")
    FI = "FI", _("Finland")
    LT = "LT", _("Lithuania")
    LV = "LV", _("Latvia")
    NO = "NO", _("Norway")
    PL = "PL", _("Poland")
    SE = "SE", _("Sweden")
    IS = "IS", _("Iceland")
    BY = "BY", _("Belarus")
    UA = "UA", _("Ukraine")
    NL = "NL", _("Netherlands")
    BE = "BE", _("Belgium")
    FR = "FR", _("France")
    CZ = "CZ", _("Czechia")
    SK = "SK", _("Slovakia")
    AT = "AT", _("Austria")
    IT = "IT", _("Italy")
    ES = "ES", _("Spain")
    GB = "GB", _("United Kingdom")
    IE = "IE", _("Ireland")
