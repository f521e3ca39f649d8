from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    OFFER = "offer", _("Offer (we have it)")
    NEED = "need", _("Need (we want it)")


class StreamKind(models.TextChoices):
    MATERIAL = "material", _("Material")
    ENERGY = "energy", _("Energy")
    WATER = "water", _("Water")
    ASSET = "asset", _("Equipment, space or logistics")
    EXPERTISE = "expertise", _("Know-how or personnel")


class Period(models.TextChoices):
    DAY = "day", _("per day")
    WEEK = "week", _("per week")
    MONTH = "month", _("per month")
    YEAR = "year", _("per year")
    ONCE = "once", _("one-off (batch)")


class Availability(models.TextChoices):
    CONTINUOUS = "continuous", _("Continuous, all year")
    SEASONAL = "seasonal", _("Seasonal (some months)")
    BATCH = "batch", _("In batches")


class EnergyCarrier(models.TextChoices):
    HOT_WATER = "hot_water", _("Hot water")
    STEAM = "steam", _("Steam")
    HOT_AIR = "hot_air", _("Hot air / flue gas")
    ELECTRICITY = "electricity", _("Electricity")
    COLD = "cold", _("Cooling / cold")
    GAS = "gas", _("Combustible gas")
    OTHER = "other", _("Other")


class WaterQuality(models.IntegerChoices):
    """Ordered from dirtiest to cleanest: a need gives the minimum class it accepts."""

    WASTEWATER = 1, _("Untreated wastewater")
    TREATED = 2, _("Treated wastewater / grey water")
    COOLING = 3, _("Cooling or rain water")
    PROCESS = 4, _("Process water")
    DEMINERALISED = 5, _("Demineralised / potable quality")


class PhysicalForm(models.TextChoices):
    SOLID = "solid", _("Solid pieces")
    GRANULAR = "granular", _("Granular / bulk")
    POWDER = "powder", _("Powder / dust")
    SLUDGE = "sludge", _("Sludge / paste")
    LIQUID = "liquid", _("Liquid")
    GAS = "gas", _("Gas")
    MIXED = "mixed", _("Mixed")


class Provenance(models.TextChoices):
    ESTIMATE = "estimate", _("Estimate")
    MEASURED = "measured", _("Measured")
    LAB = "lab", _("Lab analysis")


class RegulatoryStatus(models.TextChoices):
    UNKNOWN = "unknown", _("Not known")
    WASTE = "waste", _("Waste")
    BY_PRODUCT = "by_product", _("By-product")
    END_OF_WASTE = "end_of_waste", _("End-of-waste")
    PRODUCT = "product", _("Product")


class DisposalRoute(models.TextChoices):
    NONE = "", _("Not disposed / not known")
    LANDFILL = "landfill", _("Landfill")
    INCINERATION = "incineration", _("Incineration")
    ENERGY_RECOVERY = "energy_recovery", _("Energy recovery")
    RECYCLING = "recycling", _("Recycling")
    SEWER = "sewer", _("Sewer / discharge")
    VENTED = "vented", _("Vented / dissipated (heat, gas)")
    OTHER = "other", _("Other")


class StreamStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    CLOSED = "closed", _("Closed")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public: company name shown")
    ANONYMOUS = "anonymous", _("Anonymous: sector, region and distance only")
    PRIVATE = "private", _("Private: facilitators and the matching engine only")
