"""Demo data: a believable Baltic Sea Region of companies, sites and side streams, plus demo users.

`seed()` builds it deterministically from `random.Random`: the same seed gives the same companies,
and company *i* is the same whatever the total size, so a larger run extends a smaller one. Sites sit
in industrial zones a few km around real industrial towns; every company belongs to a sector
archetype (NACE Rev. 2.1 class) whose typical offers and needs use the shipped resource taxonomy
(streams/data/resource_categories.csv) and List-of-Waste codes.

Rows are written with bulk_create in batches (companies, sites, streams with their history rows,
and the Stream.ewc_codes through table), so 100k streams build in minutes on PostgreSQL. Because
bulk_create skips save() and clean(), the derived fields are filled here: Company.is_sme and name_key and
Stream.quantity_yearly / base_unit through Stream.normalise(). Stream history rows are created with
simple_history's bulk_create_with_history ("Demo data" as the change reason); matching is not
triggered: run the matching engine after seeding.

Demo rows are recognisable by external_ref: companies `demo-c-00001` (in the import scope "platform", as
if imported by the system), streams `demo-s-<n>-<k>`.
"""

from __future__ import annotations

import functools
import math
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from companies.constants import PLATFORM_SCOPE, SME_MAX_EMPLOYEES

# --- Places ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    name: str
    country: str
    latitude: float
    longitude: float
    region: str  # NUTS 2 code from companies/data/regions.csv
    weight: float = 1.0  # relative number of companies
    specialties: tuple[str, ...] = ()  # sector keys that are typical here


# Real industrial towns around the Baltic Sea (town-centre coordinates, NUTS 2 region).
TOWNS: tuple[Town, ...] = (
    # Sweden
    Town("Södertälje", "SE", 59.196, 17.626, "SE11", 1.5, ("machinery", "pharma", "haulage")),
    Town("Norrtälje", "SE", 59.758, 18.705, "SE11", 0.6, ("dairy", "bakery")),
    Town("Norrköping", "SE", 58.588, 16.192, "SE12", 1.5, ("paper", "chp", "warehouse")),
    Town("Västerås", "SE", 59.611, 16.545, "SE12", 1.5, ("chp", "machinery", "datacentre")),
    Town("Örebro", "SE", 59.275, 15.213, "SE12", 1.2, ("bakery", "warehouse", "haulage")),
    Town("Oxelösund", "SE", 58.670, 17.100, "SE12", 0.6, ("steel",)),
    Town("Växjö", "SE", 56.879, 14.806, "SE21", 1.0, ("sawmill", "chp", "joinery")),
    Town("Jönköping", "SE", 57.783, 14.161, "SE21", 1.2, ("warehouse", "foundry", "bakery")),
    Town("Kalmar", "SE", 56.663, 16.356, "SE21", 0.8, ("dairy", "biogas")),
    Town("Värnamo", "SE", 57.186, 14.040, "SE21", 0.7, ("metalwork", "plastics", "joinery")),
    Town("Malmö", "SE", 55.605, 13.003, "SE22", 2.0, ("food", "wwtp", "wte", "greenhouse")),
    Town("Helsingborg", "SE", 56.047, 12.694, "SE22", 1.3, ("chemicals", "food", "warehouse")),
    Town("Lund", "SE", 55.705, 13.191, "SE22", 1.0, ("dairy", "lab", "greenhouse")),
    Town("Karlshamn", "SE", 56.170, 14.863, "SE22", 0.7, ("oils", "fish")),
    Town("Kristianstad", "SE", 56.029, 14.156, "SE22", 0.8, ("biogas", "potato", "brewery")),
    Town("Göteborg", "SE", 57.709, 11.975, "SE23", 2.2, ("refinery", "autoparts", "wte", "haulage")),
    Town("Stenungsund", "SE", 58.070, 11.818, "SE23", 0.6, ("chemicals", "plastics")),
    Town("Borås", "SE", 57.721, 12.940, "SE23", 0.8, ("textile", "wte")),
    Town("Lidköping", "SE", 58.505, 13.157, "SE23", 0.6, ("dairy", "crops", "sugar")),
    Town("Gävle", "SE", 60.675, 17.141, "SE31", 1.0, ("pulp", "sawmill")),
    Town("Borlänge", "SE", 60.486, 15.436, "SE31", 0.8, ("steel", "paper")),
    Town("Karlstad", "SE", 59.403, 13.511, "SE31", 0.9, ("paper", "engineering")),
    Town("Sundsvall", "SE", 62.391, 17.307, "SE32", 1.0, ("pulp", "aluminium", "sawmill")),
    Town("Örnsköldsvik", "SE", 63.290, 18.716, "SE32", 0.6, ("pulp", "chemicals")),
    Town("Luleå", "SE", 65.585, 22.154, "SE33", 1.0, ("steel", "datacentre", "chp")),
    Town("Skellefteå", "SE", 64.750, 20.950, "SE33", 0.7, ("metalwork", "sawmill")),
    Town("Umeå", "SE", 63.826, 20.263, "SE33", 0.8, ("sawmill", "dairy", "chp")),
    # Finland
    Town("Helsinki", "FI", 60.170, 24.938, "FI1B", 2.0, ("food", "datacentre", "engineering", "lab")),
    Town("Vantaa", "FI", 60.294, 25.040, "FI1B", 1.2, ("warehouse", "bakery", "wte")),
    Town("Porvoo", "FI", 60.393, 25.664, "FI1B", 0.8, ("refinery", "chemicals")),
    Town("Kotka", "FI", 60.467, 26.946, "FI1C", 0.8, ("paper", "warehouse")),
    Town("Lahti", "FI", 60.983, 25.656, "FI1C", 1.0, ("brewery", "materials", "metalwork")),
    Town("Lappeenranta", "FI", 61.058, 28.188, "FI1C", 0.7, ("pulp", "cement")),
    Town("Turku", "FI", 60.452, 22.267, "FI1C", 1.3, ("food", "machinery", "bakery")),
    Town("Tampere", "FI", 61.498, 23.761, "FI19", 1.5, ("machinery", "paper", "engineering")),
    Town("Pori", "FI", 61.485, 21.797, "FI19", 0.8, ("metalwork", "chp")),
    Town("Vaasa", "FI", 63.096, 21.616, "FI19", 0.7, ("machinery", "greenhouse")),
    Town("Jyväskylä", "FI", 62.242, 25.747, "FI19", 0.8, ("sawmill", "paper")),
    Town("Oulu", "FI", 65.012, 25.465, "FI1D", 1.0, ("pulp", "lab", "datacentre")),
    Town("Kuopio", "FI", 62.893, 27.679, "FI1D", 0.7, ("dairy", "joinery")),
    Town("Kemi", "FI", 65.736, 24.564, "FI1D", 0.5, ("pulp", "steel")),
    Town("Raahe", "FI", 64.685, 24.479, "FI1D", 0.5, ("steel",)),
    Town("Mariehamn", "FI", 60.097, 19.935, "FI20", 0.3, ("food", "fish")),
    # Estonia
    Town("Tallinn", "EE", 59.437, 24.754, "EE00", 1.6, ("food", "warehouse", "engineering")),
    Town("Tartu", "EE", 58.378, 26.729, "EE00", 0.8, ("brewery", "dairy", "lab")),
    Town("Narva", "EE", 59.378, 28.190, "EE00", 0.6, ("chp",)),
    Town("Pärnu", "EE", 58.385, 24.497, "EE00", 0.5, ("joinery", "sawmill")),
    Town("Kunda", "EE", 59.497, 26.530, "EE00", 0.3, ("cement",)),
    # Latvia
    Town("Rīga", "LV", 56.949, 24.105, "LV00", 1.8, ("food", "warehouse", "brewery")),
    Town("Liepāja", "LV", 56.505, 21.011, "LV00", 0.7, ("metalwork", "fish")),
    Town("Ventspils", "LV", 57.389, 21.564, "LV00", 0.5, ("warehouse", "fish")),
    Town("Jelgava", "LV", 56.651, 23.712, "LV00", 0.6, ("sugar", "dairy", "crops")),
    Town("Brocēni", "LV", 56.683, 22.563, "LV00", 0.3, ("cement",)),
    # Lithuania
    Town("Vilnius", "LT", 54.687, 25.280, "LT01", 1.5, ("food", "lab", "engineering")),
    Town("Elektrėnai", "LT", 54.785, 24.663, "LT01", 0.4, ("chp",)),
    Town("Kaunas", "LT", 54.898, 23.903, "LT02", 1.3, ("food", "joinery", "metalwork")),
    Town("Klaipėda", "LT", 55.703, 21.144, "LT02", 1.0, ("fish", "warehouse", "wte")),
    Town("Šiauliai", "LT", 55.934, 23.316, "LT02", 0.7, ("dairy", "bakery")),
    Town("Panevėžys", "LT", 55.734, 24.357, "LT02", 0.6, ("glass", "dairy")),
    Town("Naujoji Akmenė", "LT", 56.317, 22.900, "LT02", 0.3, ("cement",)),
    Town("Mažeikiai", "LT", 56.316, 22.338, "LT02", 0.3, ("refinery",)),
    Town("Jonava", "LT", 55.083, 24.280, "LT02", 0.4, ("fertiliser",)),
    # Poland
    Town("Szczecin", "PL", 53.428, 14.553, "PL42", 1.3, ("food", "warehouse", "chp")),
    Town("Police", "PL", 53.552, 14.569, "PL42", 0.4, ("fertiliser", "chemicals")),
    Town("Koszalin", "PL", 54.194, 16.172, "PL42", 0.6, ("joinery", "meat")),
    Town("Gdańsk", "PL", 54.352, 18.646, "PL63", 1.8, ("refinery", "food", "wte")),
    Town("Gdynia", "PL", 54.519, 18.531, "PL63", 1.0, ("fish", "warehouse", "metalwork")),
    Town("Słupsk", "PL", 54.464, 17.028, "PL63", 0.6, ("bakery", "potato")),
    Town("Olsztyn", "PL", 53.778, 20.480, "PL62", 0.8, ("dairy", "autoparts")),
    Town("Elbląg", "PL", 54.156, 19.404, "PL62", 0.7, ("brewery", "machinery")),
    Town("Bydgoszcz", "PL", 53.123, 18.008, "PL61", 1.1, ("chemicals", "plastics", "joinery")),
    Town("Toruń", "PL", 53.013, 18.598, "PL61", 0.8, ("glass", "bakery")),
    Town("Włocławek", "PL", 52.648, 19.068, "PL61", 0.6, ("fertiliser", "sugar")),
    Town("Warszawa", "PL", 52.230, 21.011, "PL91", 2.0, ("food", "warehouse", "datacentre", "lab")),
    # Germany
    Town("Kiel", "DE", 54.323, 10.123, "DEF0", 1.1, ("machinery", "chp", "fish")),
    Town("Lübeck", "DE", 53.866, 10.686, "DEF0", 1.0, ("food", "bakery", "warehouse")),
    Town("Brunsbüttel", "DE", 53.897, 9.139, "DEF0", 0.5, ("chemicals", "wte")),
    Town("Flensburg", "DE", 54.794, 9.446, "DEF0", 0.6, ("brewery", "haulage")),
    Town("Rostock", "DE", 54.092, 12.099, "DE80", 1.1, ("warehouse", "chp", "fertiliser")),
    Town("Wismar", "DE", 53.891, 11.465, "DE80", 0.6, ("sawmill", "joinery")),
    Town("Stralsund", "DE", 54.309, 13.082, "DE80", 0.5, ("fish", "metalwork")),
    Town("Hamburg", "DE", 53.551, 9.994, "DE60", 2.5, ("aluminium", "refinery", "food", "warehouse", "steel")),
    Town("Schwedt", "DE", 53.059, 14.282, "DE40", 0.5, ("refinery", "paper")),
    Town("Eisenhüttenstadt", "DE", 52.145, 14.636, "DE40", 0.5, ("steel",)),
    Town("Rüdersdorf", "DE", 52.475, 13.785, "DE40", 0.4, ("cement",)),
    # Denmark
    Town("København", "DK", 55.676, 12.568, "DK01", 2.0, ("food", "brewery", "wte", "lab")),
    Town("Hillerød", "DK", 55.927, 12.311, "DK01", 0.5, ("pharma", "chp")),
    Town("Kalundborg", "DK", 55.681, 11.089, "DK02", 0.8, ("refinery", "pharma", "chp", "wwtp")),
    Town("Næstved", "DK", 55.230, 11.761, "DK02", 0.6, ("paper", "food")),
    Town("Odense", "DK", 55.404, 10.402, "DK03", 1.2, ("machinery", "datacentre", "chp")),
    Town("Esbjerg", "DK", 55.476, 8.459, "DK03", 0.9, ("fish", "warehouse", "engineering")),
    Town("Fredericia", "DK", 55.566, 9.752, "DK03", 0.6, ("refinery", "chemicals")),
    Town("Aarhus", "DK", 56.157, 10.211, "DK04", 1.5, ("oils", "food", "lab")),
    Town("Herning", "DK", 56.139, 8.974, "DK04", 0.6, ("textile", "meat")),
    Town("Aalborg", "DK", 57.048, 9.922, "DK05", 1.0, ("cement", "chp", "food")),
    # Norway
    Town("Oslo", "NO", 59.914, 10.752, "NO08", 1.6, ("food", "datacentre", "engineering")),
    Town("Drammen", "NO", 59.744, 10.204, "NO08", 0.7, ("warehouse", "bakery")),
    Town("Sarpsborg", "NO", 59.284, 11.110, "NO08", 0.6, ("pulp", "chemicals")),
    Town("Fredrikstad", "NO", 59.218, 10.930, "NO08", 0.6, ("metalwork", "food")),
    Town("Porsgrunn", "NO", 59.141, 9.656, "NO09", 0.7, ("fertiliser", "cement", "chemicals")),
    Town("Kristiansand", "NO", 58.146, 7.996, "NO09", 0.8, ("aluminium", "engineering")),
)

LEGAL_FORM = {"SE": "AB", "FI": "Oy", "EE": "AS", "LV": "SIA", "LT": "UAB", "PL": "Sp. z o.o.",
              "DE": "GmbH", "DK": "A/S", "NO": "AS"}
FAMILY_NAMES = {
    "SE": ("Lindqvist", "Bergström", "Holm", "Ström", "Sjöberg", "Ek", "Nordin", "Wallin", "Dahl", "Lundgren"),
    "FI": ("Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Laine", "Heikkinen", "Koskinen", "Järvinen",
           "Lehtonen", "Saarinen"),
    "EE": ("Tamm", "Saar", "Sepp", "Mägi", "Kask", "Kukk", "Rebane", "Ilves", "Pärn", "Koppel"),
    "LV": ("Bērziņš", "Kalniņš", "Ozoliņš", "Liepiņš", "Krūmiņš", "Balodis", "Zariņš", "Vītols", "Kļaviņš",
           "Egle"),
    "LT": ("Kazlauskas", "Jankauskas", "Petrauskas", "Stankevičius", "Vasiliauskas", "Žukauskas", "Butkus",
           "Paulauskas", "Urbonas", "Kavaliauskas"),
    "PL": ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński", "Szymański",
           "Dąbrowski", "Kozłowski"),
    "DE": ("Müller", "Schmidt", "Schröder", "Hansen", "Petersen", "Meyer", "Jensen", "Wagner", "Becker", "Lange"),
    "DK": ("Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
           "Rasmussen", "Madsen"),
    "NO": ("Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Berg", "Haugen", "Bakken", "Dahl", "Solberg"),
}
BRANDS = ("Nordic", "Baltic", "Northern", "Coastal", "Amber", "Polar", "Green", "Blue Coast", "Eastern",
          "Westwind", "Seaside", "Birch", "Granite", "Lighthouse", "Aurora", "Harbour")
# In these languages the trade comes first: "Molkerei Hansen GmbH", "Mleczarnia Nowak Sp. z o.o.".
NOUN_FIRST = {"DE", "PL"}


# --- Sector archetypes --------------------------------------------------------------------------------

MONTHS_HEATING = (1, 2, 3, 4, 5, 9, 10, 11, 12)
MONTHS_HARVEST = (8, 9, 10, 11)
MONTHS_CAMPAIGN = (9, 10, 11, 12, 1)


@dataclass(frozen=True)
class StreamTemplate:
    """A typical offer or need of a sector; quantities are per year in `unit`."""

    direction: str  # "offer" or "need"
    title: str
    category: str  # ResourceCategory.code
    quantity: tuple[float, float]
    unit: str = "t"
    ewc: tuple[str, ...] = ()  # offer: its code; need: the codes it accepts
    p: float = 1.0  # share of the sector's companies that list it
    temperature: tuple[float, float] | None = None
    carrier: str = ""
    price: tuple[float, float] | None = None  # EUR per unit; negative: gate fee paid by the provider
    disposal: str = ""
    disposal_cost: tuple[float, float] | None = None
    form: str = ""
    water_quality: int | None = None
    months: tuple[int, ...] = ()  # seasonal when given
    description: str = ""


@dataclass(frozen=True)
class Sector:
    key: str
    nace: str  # NACE Rev. 2.1 class
    noun: str  # for company names: "Dairy"
    employees: tuple[int, int]
    weight: float
    streams: tuple[StreamTemplate, ...]
    local: dict[str, str] = field(default_factory=dict)  # the noun in the country's language
    common: bool = True  # also lists the packaging, pallets and scrap most producers have

    def templates(self) -> tuple[StreamTemplate, ...]:
        """The sector's own streams, then the common ones it does not already list."""
        if not self.common:
            return self.streams
        own = {t.category for t in self.streams}
        return self.streams + tuple(t for t in COMMON_STREAMS if t.category not in own)

    def categories(self) -> set[str]:
        return {t.category for t in self.templates()}


OFFER, NEED = "offer", "need"
T = StreamTemplate

# Side streams of almost any producer, whatever its sector.
COMMON_STREAMS: tuple[StreamTemplate, ...] = (
    T(OFFER, "Cardboard and paper packaging", "MAT.PAPER.CARDBOARD", (20, 500), ewc=("150101",), p=0.3,
      price=(20, 90), disposal="recycling", disposal_cost=(0, 25)),
    T(OFFER, "Wooden pallets and crates", "MAT.PACK.REUSE", (10, 300), p=0.2, price=(0, 30)),
    T(OFFER, "Plastic film and packaging", "MAT.PACK.PLASTIC", (5, 200), ewc=("150102",), p=0.2, price=(-30, 50),
      disposal="recycling", disposal_cost=(0, 40)),
    T(OFFER, "Scrap metal from maintenance", "MAT.MET.MIXED", (5, 200), ewc=("170407",), p=0.15, price=(80, 200)),
    T(NEED, "Advice on energy efficiency", "EXP.TECH.ENERGY", (20, 200), "h", p=0.1, price=(60, 120)),
    T(NEED, "Transport for our by-products", "AST.LOGI.TRANSPORT", (1, 3), "unit", p=0.06, price=(100, 500)),
    T(NEED, "Reusable pallets", "MAT.PACK.REUSE", (10, 200), p=0.1, price=(2, 8)),
    T(NEED, "Extra warehouse space", "AST.SPACE.WAREHOUSE", (1, 3), "unit", p=0.05, price=(50, 200)),
    T(NEED, "Process water", "WAT.PROC.PROCESS", (2000, 50000), "m3", p=0.08, water_quality=4, price=(0.5, 2)),
    T(NEED, "Laboratory analysis of our side streams", "EXP.SERV.LAB", (10, 100), "h", p=0.08, price=(60, 120)),
    T(NEED, "Help with waste and by-product permits", "EXP.REG.PERMIT", (10, 80), "h", p=0.05, price=(80, 150)),
)

SECTORS: tuple[Sector, ...] = (
    Sector("dairy", "10.51", "Dairy", (20, 400), 3.0, (
        T(OFFER, "Whey from cheese making", "MAT.FOOD.WHEY", (3000, 60000), ewc=("020501",), price=(-5, 15),
          disposal="sewer", disposal_cost=(15, 40), form="liquid",
          description="Sweet whey, 5-6 % dry matter, collected daily in a 50 m³ tank."),
        T(OFFER, "Sludge from the dairy's effluent treatment", "MAT.SLUDGE.INDBIO", (300, 3000), ewc=("020502",), p=0.5,
          price=(-30, 0), disposal="energy_recovery", disposal_cost=(30, 60), form="sludge"),
        T(OFFER, "Warm water from pasteurisers and chillers", "ENE.HEAT.MT", (1000, 10000), "MWh", p=0.8,
          temperature=(55, 75), carrier="hot_water", price=(5, 20), disposal="vented"),
        T(OFFER, "Dairy process wastewater", "WAT.WASTE.EFFLUENT", (50000, 400000), "m3", p=0.3, water_quality=1,
          disposal="sewer", disposal_cost=(0.8, 2.5)),
        T(NEED, "Low-pressure steam for pasteurisation", "ENE.STEAM.LP", (2000, 15000), "MWh", p=0.4,
          temperature=(120, 150), carrier="steam", price=(25, 45)),
    ), {"SE": "Mejeri", "FI": "Meijeri", "DE": "Molkerei", "DK": "Mejeri", "NO": "Meieri", "PL": "Mleczarnia",
        "EE": "Piimatööstus", "LV": "Piena kombināts", "LT": "Pieninė"}),
    Sector("meat", "10.11", "Meat", (30, 600), 1.2, (
        T(OFFER, "Slaughterhouse by-products (category 3)", "MAT.FOOD.ABP", (1000, 15000), ewc=("020202",),
          price=(-40, -10), disposal="incineration", disposal_cost=(40, 90), form="solid"),
        T(OFFER, "Animal fat trimmings", "MAT.FOOD.FAT", (200, 2000), p=0.5, price=(100, 400), form="solid"),
        T(OFFER, "Condenser heat from refrigeration", "ENE.HEAT.LT", (1000, 6000), "MWh", p=0.6,
          temperature=(30, 45), carrier="hot_water", price=(2, 10), disposal="vented"),
        T(OFFER, "Slaughterhouse wastewater", "WAT.WASTE.EFFLUENT", (30000, 200000), "m3", p=0.4, water_quality=1,
          disposal="sewer", disposal_cost=(1.5, 3.5)),
    ), {"SE": "Slakteri", "FI": "Teurastamo", "DE": "Fleischwerk", "DK": "Slagteri", "PL": "Zakłady Mięsne"}),
    Sector("fish", "10.20", "Seafood", (15, 300), 1.2, (
        T(OFFER, "Fish heads, frames and viscera", "MAT.FOOD.FISH", (500, 10000), ewc=("020202",), price=(20, 120),
          disposal="other", disposal_cost=(20, 60), form="solid"),
        T(OFFER, "Saline process water from fish processing", "WAT.WASTE.EFFLUENT", (20000, 150000), "m3", p=0.4,
          water_quality=1, disposal="sewer", disposal_cost=(1, 3)),
        T(NEED, "Chilled water for cold stores", "ENE.COLD.CHILLED", (500, 4000), "MWh", p=0.3, temperature=(2, 6),
          carrier="cold", price=(20, 50)),
    ), {"SE": "Fiskindustri", "FI": "Kalanjalostus", "DE": "Fischwerk", "DK": "Fiskeindustri", "PL": "Przetwórnia Ryb"}),
    Sector("potato", "10.31", "Potato Products", (40, 400), 0.8, (
        T(OFFER, "Potato peels and off-grade potatoes", "MAT.FOOD.FRUITVEG", (3000, 30000), ewc=("020304",),
          price=(0, 20), disposal="other", disposal_cost=(15, 35), form="solid"),
        T(OFFER, "Starch-rich process water", "WAT.WASTE.EFFLUENT", (50000, 300000), "m3", p=0.6, water_quality=1,
          disposal="sewer", disposal_cost=(1, 2.5)),
        T(NEED, "Process steam for blanching and frying", "ENE.STEAM.LP", (5000, 30000), "MWh", p=0.4,
          temperature=(130, 160), carrier="steam", price=(25, 45)),
    )),
    Sector("food", "10.39", "Foods", (10, 250), 2.0, (
        T(OFFER, "Vegetable trimmings and rejected produce", "MAT.FOOD.FRUITVEG", (200, 5000), ewc=("020304",),
          price=(-10, 10), disposal="energy_recovery", disposal_cost=(20, 50), form="solid"),
        T(OFFER, "Corrugated cardboard packaging waste", "MAT.PAPER.CARDBOARD", (50, 600), ewc=("150101",), p=0.5,
          price=(40, 110), disposal="recycling", disposal_cost=(0, 20)),
        T(OFFER, "Heat from refrigeration plant", "ENE.HEAT.LT", (300, 3000), "MWh", p=0.4, temperature=(30, 45),
          carrier="hot_water", price=(2, 10), disposal="vented"),
        T(NEED, "Cooling for cold storage", "ENE.COLD.CHILLED", (200, 2000), "MWh", p=0.2, temperature=(2, 8),
          carrier="cold", price=(20, 50)),
    ), {"SE": "Livsmedel", "FI": "Elintarvike", "DE": "Feinkost", "DK": "Fødevarer", "PL": "Żywność"}),
    Sector("sugar", "10.81", "Sugar", (100, 500), 0.3, (
        T(OFFER, "Pressed sugar-beet pulp", "MAT.FOOD.SUGAR", (20000, 150000), price=(10, 40), form="solid",
          months=MONTHS_CAMPAIGN),
        T(OFFER, "Lime sludge from juice purification", "MAT.SLUDGE.LIME", (10000, 50000), ewc=("020402",), p=0.8,
          price=(-5, 5), disposal="landfill", disposal_cost=(20, 40), form="sludge", months=MONTHS_CAMPAIGN),
        T(OFFER, "Soil from beet washing", "MAT.CD.SOIL", (20000, 80000), ewc=("020401",), p=0.6, price=(-5, 0),
          disposal="landfill", disposal_cost=(10, 25), months=MONTHS_CAMPAIGN),
    )),
    Sector("mill", "10.61", "Mills", (10, 150), 0.7, (
        T(OFFER, "Wheat bran and screenings", "MAT.FOOD.CEREAL", (1000, 15000), price=(80, 160), form="granular"),
        T(OFFER, "Oat hulls", "MAT.FOOD.CEREAL", (500, 8000), p=0.4, price=(20, 60), form="granular"),
    ), {"SE": "Kvarn", "FI": "Mylly", "DE": "Mühle", "PL": "Młyn", "DK": "Mølle"}),
    Sector("bakery", "10.71", "Bakery", (10, 300), 2.0, (
        T(OFFER, "Unsold and off-spec bread", "MAT.FOOD.BAKERY", (100, 2000), ewc=("020601",), price=(0, 40),
          disposal="energy_recovery", disposal_cost=(20, 50), form="solid"),
        T(OFFER, "Flue-gas heat from tunnel ovens", "ENE.HEAT.FLUE", (500, 3000), "MWh", p=0.5, temperature=(150, 250),
          carrier="hot_air", price=(0, 10), disposal="vented"),
        T(OFFER, "Cardboard and paper sacks", "MAT.PAPER.CARDBOARD", (20, 300), ewc=("150101",), p=0.3,
          price=(30, 90), disposal="recycling"),
    ), {"SE": "Bageri", "FI": "Leipomo", "DE": "Bäckerei", "DK": "Bageri", "NO": "Bakeri", "PL": "Piekarnia",
        "EE": "Pagariäri", "LV": "Maiznīca", "LT": "Kepykla"}),
    Sector("oils", "10.41", "Vegetable Oils", (50, 600), 0.4, (
        T(OFFER, "Rapeseed press cake", "MAT.FOOD.CEREAL", (5000, 60000), price=(150, 300), form="granular"),
        T(OFFER, "Spent bleaching earth", "MAT.CHEM.ADSORB", (200, 2000), p=0.5, price=(-40, -10),
          disposal="landfill", disposal_cost=(40, 80)),
        T(OFFER, "Surplus process heat", "ENE.HEAT.MT", (5000, 40000), "MWh", p=0.6, temperature=(60, 85),
          carrier="hot_water", price=(5, 20), disposal="vented"),
    )),
    Sector("feed", "10.91", "Feeds", (20, 200), 0.9, (
        T(NEED, "Food residues for liquid and dry feed", "MAT.AGIN.FEED", (5000, 50000),
          ewc=("020501", "020601", "020704", "020304"), price=(5, 60)),
        T(NEED, "Fish residues for feed", "MAT.AGIN.FEED", (1000, 10000), ewc=("020202",), p=0.3, price=(20, 90)),
        T(OFFER, "Spare pelleting capacity", "AST.EQUIP.CAPACITY", (1, 3), "unit", p=0.2),
    ), {"SE": "Foder", "FI": "Rehu", "DE": "Futtermittel", "DK": "Foder", "PL": "Pasze"}),
    Sector("brewery", "11.05", "Brewery", (10, 400), 1.2, (
        T(OFFER, "Brewers' spent grain", "MAT.FOOD.SPENTGRAIN", (2000, 20000), ewc=("020704",), price=(10, 40),
          disposal="other", form="sludge"),
        T(OFFER, "CO2 from fermentation", "MAT.GAS.CO2", (200, 3000), p=0.6, price=(20, 60), form="gas"),
        T(OFFER, "Surplus brewer's yeast", "MAT.FOOD.SPENTGRAIN", (100, 800), ewc=("020704",), p=0.5, price=(0, 30),
          form="liquid"),
        T(OFFER, "Brewery wastewater", "WAT.WASTE.EFFLUENT", (20000, 150000), "m3", p=0.4, water_quality=1,
          disposal="sewer", disposal_cost=(1, 3)),
    ), {"SE": "Bryggeri", "FI": "Panimo", "DE": "Brauerei", "DK": "Bryggeri", "NO": "Bryggeri", "PL": "Browar",
        "EE": "Õlletehas", "LV": "Alus darītava", "LT": "Alaus darykla"}),
    Sector("greenhouse", "01.13", "Greens", (5, 120), 1.2, (
        T(NEED, "Heat for greenhouse heating", "ENE.HEAT.MT", (2000, 20000), "MWh", temperature=(40, 55),
          carrier="hot_water", price=(15, 35), months=MONTHS_HEATING),
        T(NEED, "CO2 for crop enrichment", "MAT.GAS.CO2", (200, 2000), price=(30, 80), form="gas"),
        T(OFFER, "Spent tomato and cucumber plants", "MAT.AGRI.PLANT", (100, 1500), ewc=("020103",), p=0.7,
          price=(-10, 0), disposal="other", disposal_cost=(10, 30), months=MONTHS_HARVEST),
        T(NEED, "Irrigation water", "WAT.PROC.PROCESS", (5000, 50000), "m3", p=0.3, water_quality=3, price=(0.2, 1)),
    ), {"SE": "Växthus", "FI": "Kasvihuone", "DE": "Gärtnerei", "DK": "Gartneri", "NO": "Gartneri",
        "PL": "Szklarnie", "EE": "Kasvuhoone", "LV": "Siltumnīcas", "LT": "Šiltnamiai"}),
    Sector("crops", "01.11", "Farms", (2, 40), 1.0, (
        T(OFFER, "Cereal straw", "MAT.AGRI.STRAW", (500, 5000), price=(30, 70), form="solid", months=MONTHS_HARVEST),
        T(NEED, "Nutrients for arable land", "MAT.AGIN.FERT", (500, 5000), p=0.7, price=(0, 30)),
        T(NEED, "Liming agent", "MAT.AGIN.LIMING", (200, 2000), p=0.4, price=(0, 15)),
    ), {"SE": "Lantbruk", "FI": "Maatila", "DE": "Agrar", "DK": "Landbrug", "PL": "Gospodarstwo"}),
    Sector("cattle", "01.41", "Dairy Farm", (2, 40), 0.8, (
        T(OFFER, "Cattle slurry", "MAT.MANURE.SLURRY", (2000, 20000), ewc=("020106",), price=(-2, 2), form="liquid"),
        T(NEED, "Bedding for cubicles", "MAT.AGIN.BEDDING", (50, 500), p=0.7, price=(10, 40)),
        T(NEED, "Wet feed for dairy cows", "MAT.AGIN.FEED", (500, 5000), ewc=("020501", "020704"), p=0.4,
          price=(5, 30)),
    )),
    Sector("biogas", "35.21", "Biogas", (5, 60), 1.0, (
        T(NEED, "Organic feedstock for digestion", "MAT.AGIN.ADFEED", (10000, 80000),
          ewc=("020501", "020502", "020202", "020304", "020601", "020704"), price=(-30, 5)),
        T(OFFER, "Digestate as fertiliser", "MAT.SLUDGE.DIGESTATE", (10000, 70000), ewc=("190606",), price=(-5, 5),
          form="sludge"),
        T(OFFER, "CO2 from biogas upgrading", "MAT.GAS.CO2", (1000, 8000), p=0.6, price=(10, 40), form="gas"),
        T(OFFER, "Surplus heat from gas engines", "ENE.HEAT.MT", (2000, 10000), "MWh", p=0.5, temperature=(70, 90),
          carrier="hot_water", price=(10, 25), disposal="vented"),
        T(NEED, "Manure and slurry", "MAT.AGIN.ADFEED", (5000, 40000), ewc=("020106",), p=0.4, price=(-5, 0)),
    ), {"SE": "Biogas", "FI": "Biokaasu", "DE": "Biogas", "DK": "Biogas", "PL": "Biogazownia"}),
    Sector("sawmill", "16.11", "Sawmill", (20, 300), 1.6, (
        T(OFFER, "Bark from debarking", "MAT.WOOD.BARK", (5000, 40000), ewc=("030101",), price=(5, 25),
          form="solid"),
        T(OFFER, "Sawdust", "MAT.WOOD.SAWDUST", (5000, 50000), ewc=("030105",), price=(10, 35), form="granular"),
        T(OFFER, "Wood chips from edgings", "MAT.WOOD.CHIPS", (10000, 80000), p=0.6, price=(20, 45), form="solid"),
        T(OFFER, "Wood ash from the boiler", "MAT.ASH.BIO", (200, 1500), ewc=("100103",), p=0.4, price=(-40, 0),
          disposal="landfill", disposal_cost=(40, 90), form="powder"),
        T(NEED, "Heat for drying kilns", "ENE.HEAT.MT", (5000, 30000), "MWh", p=0.5, temperature=(60, 90),
          carrier="hot_water", price=(15, 30)),
    ), {"SE": "Sågverk", "FI": "Saha", "DE": "Sägewerk", "DK": "Savværk", "NO": "Sagbruk", "PL": "Tartak",
        "EE": "Saeveski", "LV": "Kokzāģētava", "LT": "Lentpjūvė"}),
    Sector("joinery", "16.23", "Joinery", (5, 150), 1.3, (
        T(OFFER, "Sawdust and planer shavings", "MAT.WOOD.SAWDUST", (100, 2000), ewc=("030105",), price=(0, 30),
          form="granular"),
        T(OFFER, "Clean solid-wood off-cuts", "MAT.WOOD.CLEAN", (50, 800), p=0.5, price=(0, 20), form="solid"),
        T(NEED, "Warehouse space for finished windows", "AST.SPACE.WAREHOUSE", (1, 2), "unit", p=0.1),
    ), {"SE": "Snickeri", "FI": "Puusepänteollisuus", "DE": "Tischlerei", "DK": "Snedkeri", "PL": "Stolarnia"}),
    Sector("panels", "16.21", "Board", (80, 600), 0.4, (
        T(NEED, "Sawdust and shavings for particleboard", "MAT.WOOD.SAWDUST", (20000, 150000), ewc=("030105",),
          price=(15, 35)),
        T(NEED, "Wood chips", "MAT.WOOD.CHIPS", (20000, 100000), p=0.6, price=(20, 45)),
        T(OFFER, "Sanding dust", "MAT.WOOD.SAWDUST", (1000, 8000), ewc=("030105",), p=0.5, price=(0, 20),
          form="powder"),
    )),
    Sector("pulp", "17.11", "Pulp", (200, 1500), 0.5, (
        T(OFFER, "Excess heat from the recovery boiler", "ENE.HEAT.HT", (50000, 300000), "MWh", temperature=(90, 110),
          carrier="hot_water", price=(5, 20), disposal="vented"),
        T(OFFER, "Green liquor dregs and lime mud", "MAT.SLUDGE.LIME", (5000, 30000), ewc=("030309",), p=0.8,
          price=(-20, 0), disposal="landfill", disposal_cost=(30, 60), form="sludge"),
        T(OFFER, "Fibre sludge", "MAT.SLUDGE.PAPER", (10000, 60000), ewc=("030311",), p=0.8, price=(-15, 0),
          disposal="energy_recovery", disposal_cost=(20, 45), form="sludge"),
        T(OFFER, "Bark and wood ash", "MAT.ASH.BIO", (5000, 30000), ewc=("100103",), p=0.7, price=(-30, 0),
          disposal="landfill", disposal_cost=(40, 90), form="powder"),
        T(NEED, "Pulpwood chips", "MAT.WOOD.CHIPS", (100000, 800000), p=0.6, price=(25, 50)),
    ), {"SE": "Massabruk", "FI": "Sellu", "DE": "Zellstoff", "NO": "Cellulose", "PL": "Celuloza"}),
    Sector("paper", "17.12", "Paper", (100, 900), 0.7, (
        T(OFFER, "Paper-mill sludge", "MAT.SLUDGE.PAPER", (5000, 40000), ewc=("030305",), price=(-25, 0),
          disposal="energy_recovery", disposal_cost=(25, 50), form="sludge"),
        T(OFFER, "Pulper rejects", "MAT.PAPER.REJECTS", (2000, 15000), ewc=("030307",), p=0.7, price=(-60, -20),
          disposal="incineration", disposal_cost=(60, 110)),
        T(OFFER, "Warm process water", "ENE.HEAT.MT", (10000, 80000), "MWh", p=0.7, temperature=(50, 70),
          carrier="hot_water", price=(3, 15), disposal="vented"),
        T(NEED, "Recovered paper", "MAT.PAPER.MIXED", (20000, 150000), ewc=("150101", "191201"), p=0.6,
          price=(60, 140)),
    ), {"SE": "Pappersbruk", "FI": "Paperi", "DE": "Papierfabrik", "DK": "Papirfabrik", "PL": "Papiernia"}),
    Sector("packaging", "17.21", "Packaging", (30, 400), 0.8, (
        T(OFFER, "Corrugated board off-cuts", "MAT.PAPER.CARDBOARD", (1000, 8000), ewc=("150101",), price=(60, 120),
          form="solid"),
        T(OFFER, "Starch glue residues", "MAT.CHEM.ORGRES", (20, 200), p=0.3, price=(-50, -10),
          disposal="incineration", disposal_cost=(80, 150)),
    )),
    Sector("printing", "18.12", "Print", (5, 120), 0.6, (
        T(OFFER, "Paper trimmings and misprints", "MAT.PAPER.MIXED", (50, 1500), ewc=("150101",), price=(40, 100)),
        T(OFFER, "Waste printing solvents", "MAT.SOLV.NONHAL", (2, 40), ewc=("070104",), p=0.3, price=(-300, -80),
          disposal="incineration", disposal_cost=(300, 700), form="liquid"),
    )),
    Sector("refinery", "19.20", "Refining", (300, 1500), 0.3, (
        T(OFFER, "Excess heat from crude distillation", "ENE.HEAT.HT", (100000, 600000), "MWh", temperature=(95, 130),
          carrier="hot_water", price=(5, 15), disposal="vented"),
        T(OFFER, "Elemental sulphur", "MAT.CHEM.SULPHUR", (20000, 150000), ewc=("050116",), p=0.8, price=(20, 90),
          form="solid"),
        T(OFFER, "Surplus hydrogen", "ENE.GAS.H2", (20000, 200000), "MWh", p=0.4, price=(40, 90), carrier="gas"),
        T(OFFER, "Spent hydrotreating catalysts", "MAT.CHEM.CATALYST", (50, 600), ewc=("160803",), p=0.5,
          price=(100, 900), form="granular"),
        T(OFFER, "CO2 from hydrogen production", "MAT.GAS.CO2", (50000, 300000), p=0.4, price=(5, 30), form="gas"),
    )),
    Sector("gases", "20.11", "Gases", (20, 300), 0.3, (
        T(NEED, "Raw CO2 for liquefaction", "MAT.GAS.CO2", (20000, 100000), price=(10, 40)),
        T(OFFER, "Cold from air separation", "ENE.COLD.CHILLED", (2000, 20000), "MWh", p=0.3, temperature=(-10, 5),
          carrier="cold", price=(10, 30)),
    )),
    Sector("chemicals", "20.14", "Chemicals", (50, 900), 1.0, (
        T(OFFER, "Medium-pressure steam", "ENE.STEAM.MP", (20000, 150000), "MWh", p=0.6, temperature=(180, 220),
          carrier="steam", price=(20, 35)),
        T(OFFER, "Spent sulphuric acid", "MAT.CHEM.ACID", (500, 8000), ewc=("060106",), p=0.4, price=(-60, 0),
          disposal="other", disposal_cost=(60, 150), form="liquid"),
        T(OFFER, "Process heat at 60-80 °C", "ENE.HEAT.MT", (10000, 80000), "MWh", p=0.6, temperature=(60, 80),
          carrier="hot_water", price=(5, 20), disposal="vented"),
        T(OFFER, "Salt solutions", "MAT.CHEM.SALT", (500, 5000), ewc=("060314",), p=0.3, price=(-30, 0),
          form="liquid"),
        T(NEED, "Demineralised water", "WAT.PROC.DEMIN", (50000, 500000), "m3", p=0.4, water_quality=5,
          price=(1, 3)),
    ), {"SE": "Kemi", "FI": "Kemia", "DE": "Chemie", "DK": "Kemi", "NO": "Kjemi", "PL": "Chemia"}),
    Sector("fertiliser", "20.15", "Fertilisers", (200, 1500), 0.4, (
        T(OFFER, "Phosphogypsum", "MAT.GYP.CHEM", (50000, 400000), p=0.6, price=(-5, 5), form="granular"),
        T(NEED, "Sulphur for sulphuric acid", "MAT.CHEM.SULPHUR", (20000, 150000), p=0.6, price=(40, 120)),
        T(OFFER, "High-temperature process heat", "ENE.HEAT.HT", (20000, 150000), "MWh", p=0.6,
          temperature=(100, 140), carrier="hot_water", price=(5, 20), disposal="vented"),
        T(OFFER, "Ammonium sulphate solution", "MAT.CHEM.AMMONIA", (1000, 10000), p=0.3, price=(20, 80),
          form="liquid"),
    )),
    Sector("pharma", "21.20", "Pharma", (100, 2000), 0.3, (
        T(OFFER, "Spent fermentation biomass", "MAT.SLUDGE.INDBIO", (10000, 100000), p=0.7, price=(-20, 10),
          form="sludge"),
        T(OFFER, "Waste solvents from synthesis", "MAT.SOLV.NONHAL", (50, 800), ewc=("070104",), p=0.5,
          price=(-300, -50), disposal="incineration", disposal_cost=(250, 600), form="liquid"),
        T(NEED, "Process steam", "ENE.STEAM.LP", (20000, 100000), "MWh", p=0.5, temperature=(130, 160),
          carrier="steam", price=(25, 40)),
    )),
    Sector("plastics", "22.22", "Plastics", (15, 400), 1.2, (
        T(OFFER, "PE film and production scrap", "MAT.PLAS.PE", (200, 3000), ewc=("070213",), price=(150, 450),
          form="solid"),
        T(OFFER, "PP regrind", "MAT.PLAS.PP", (100, 1500), ewc=("070213",), p=0.5, price=(150, 400), form="granular"),
        T(NEED, "Recycled PE granulate", "MAT.PLAS.PE", (500, 5000), p=0.5, price=(600, 1100)),
        T(OFFER, "Cooling-water heat from extruders", "ENE.HEAT.LT", (500, 5000), "MWh", p=0.5,
          temperature=(25, 40), carrier="hot_water", price=(0, 8), disposal="vented"),
    ), {"SE": "Plast", "FI": "Muovi", "DE": "Kunststoff", "DK": "Plast", "NO": "Plast", "PL": "Tworzywa"}),
    Sector("glass", "23.13", "Glass", (100, 800), 0.4, (
        T(NEED, "Glass cullet", "MAT.GLASS.CULLET", (10000, 100000), ewc=("150107", "191205"), price=(30, 80)),
        T(OFFER, "Furnace flue-gas heat", "ENE.HEAT.FLUE", (20000, 100000), "MWh", p=0.7, temperature=(300, 500),
          carrier="hot_air", price=(0, 10), disposal="vented"),
        T(OFFER, "Spent furnace refractories", "MAT.MIN.REFRACT", (200, 2000), ewc=("161106",), p=0.3,
          price=(-30, 0), disposal="landfill", disposal_cost=(40, 80)),
    ), {"SE": "Glasbruk", "FI": "Lasi", "DE": "Glaswerk", "PL": "Huta Szkła", "LT": "Stiklo fabrikas"}),
    Sector("bricks", "23.32", "Brickworks", (30, 250), 0.5, (
        T(NEED, "Sawdust as pore-forming agent", "MAT.WOOD.SAWDUST", (2000, 15000), ewc=("030105",), p=0.6,
          price=(5, 25)),
        T(NEED, "Paper sludge for clay bodies", "MAT.SLUDGE.PAPER", (2000, 20000), ewc=("030305", "030311"), p=0.4,
          price=(-10, 5)),
        T(OFFER, "Broken and off-spec bricks", "MAT.CD.BRICK", (1000, 10000), ewc=("101208",), p=0.8, price=(-5, 5),
          disposal="landfill", disposal_cost=(10, 25)),
        T(OFFER, "Kiln cooling-zone heat", "ENE.HEAT.FLUE", (5000, 40000), "MWh", p=0.5, temperature=(150, 300),
          carrier="hot_air", price=(0, 10), disposal="vented"),
    ), {"SE": "Tegelbruk", "DE": "Ziegelei", "DK": "Teglværk", "PL": "Cegielnia"}),
    Sector("cement", "23.51", "Cement", (100, 600), 0.35, (
        T(NEED, "Fly ash as clinker substitute", "MAT.ASH.FLY", (20000, 150000), ewc=("100102",), price=(5, 20)),
        T(NEED, "Gypsum as set regulator", "MAT.GYP.FGD", (10000, 50000), ewc=("100105",), price=(5, 15)),
        T(NEED, "Granulated blast-furnace slag", "MAT.SLAG.FE.BF", (20000, 200000), ewc=("100202",), p=0.5,
          price=(10, 40)),
        T(NEED, "Solid recovered fuel for the kiln", "MAT.FUEL.SRF", (20000, 100000), ewc=("191210",), p=0.7,
          price=(-30, -5)),
        T(NEED, "Iron and silica correctives", "MAT.MIN.CEMRAW", (5000, 40000), ewc=("100210", "100908"), p=0.4,
          price=(0, 15)),
        T(OFFER, "Bypass and kiln dust", "MAT.LIME.KILNDUST", (1000, 10000), ewc=("101306",), p=0.5, price=(-10, 5),
          disposal="landfill", disposal_cost=(25, 60), form="powder"),
        T(OFFER, "Kiln exhaust heat", "ENE.HEAT.FLUE", (20000, 100000), "MWh", p=0.6, temperature=(200, 350),
          carrier="hot_air", price=(0, 10), disposal="vented"),
    ), {"SE": "Cement", "FI": "Sementti", "DE": "Zementwerk", "DK": "Cement", "NO": "Sement", "PL": "Cementownia",
        "EE": "Tsement", "LV": "Cements", "LT": "Cementas"}),
    Sector("concrete", "23.61", "Concrete", (10, 200), 1.0, (
        T(OFFER, "Returned and waste concrete", "MAT.CD.CONCRETE", (500, 8000), ewc=("101314",), price=(-10, 0),
          disposal="recycling", disposal_cost=(5, 20)),
        T(NEED, "Supplementary cementitious materials", "MAT.MIN.SCM", (2000, 20000), p=0.7, price=(20, 60)),
        T(NEED, "Recycled aggregate", "MAT.MIN.AGGR", (5000, 50000), p=0.4, price=(3, 12)),
        T(NEED, "Treated water for concrete mixing", "WAT.WASTE.TREATED", (5000, 40000), "m3", p=0.2,
          water_quality=2, price=(0, 1)),
    ), {"SE": "Betong", "FI": "Betoni", "DE": "Betonwerk", "DK": "Beton", "NO": "Betong", "PL": "Beton"}),
    Sector("steel", "24.10", "Steel", (400, 3000), 0.35, (
        T(OFFER, "Granulated blast-furnace slag", "MAT.SLAG.FE.BF", (200000, 1000000), ewc=("100202",), p=0.7,
          price=(5, 30), form="granular"),
        T(OFFER, "Steelmaking slag", "MAT.SLAG.FE.STEEL", (50000, 300000), ewc=("100202",), p=0.7, price=(-5, 10),
          disposal="landfill", disposal_cost=(10, 30)),
        T(OFFER, "Mill scale", "MAT.MET.SCALE", (5000, 30000), ewc=("100210",), p=0.8, price=(10, 60),
          form="granular"),
        T(OFFER, "Blast-furnace and coke-oven gas", "ENE.GAS.WASTEGAS", (200000, 1000000), "MWh", p=0.4,
          carrier="gas", price=(5, 20)),
        T(OFFER, "Excess heat from cooling circuits", "ENE.HEAT.HT", (100000, 500000), "MWh", p=0.8,
          temperature=(90, 120), carrier="hot_water", price=(3, 12), disposal="vented"),
        T(NEED, "Steel scrap", "MAT.MET.FESCRAP", (50000, 400000), ewc=("120101", "170405", "191202"), p=0.6,
          price=(200, 350)),
    ), {"SE": "Stål", "FI": "Teräs", "DE": "Stahl", "PL": "Huta", "DK": "Stål"}),
    Sector("aluminium", "24.42", "Aluminium", (200, 1500), 0.3, (
        T(OFFER, "Aluminium dross", "MAT.MET.DROSS", (1000, 8000), p=0.8, price=(50, 300), form="granular"),
        T(OFFER, "Spent pot lining", "MAT.MIN.REFRACT", (2000, 10000), ewc=("161104",), p=0.5, price=(-100, -20),
          disposal="landfill", disposal_cost=(80, 200)),
        T(OFFER, "Waste heat from pot-line off-gas", "ENE.HEAT.MT", (50000, 200000), "MWh", p=0.7,
          temperature=(60, 90), carrier="hot_water", price=(3, 12), disposal="vented"),
        T(NEED, "Aluminium scrap for remelting", "MAT.MET.AL", (5000, 50000), ewc=("120103",), p=0.5,
          price=(900, 1600)),
    )),
    Sector("foundry", "24.51", "Foundry", (20, 500), 1.0, (
        T(OFFER, "Furnace slag", "MAT.SLAG.OTHER", (300, 3000), ewc=("100903",), price=(-30, 0),
          disposal="landfill", disposal_cost=(50, 100), form="granular"),
        T(OFFER, "Waste heat from furnace cooling", "ENE.HEAT.MT", (2000, 15000), "MWh", temperature=(60, 85),
          carrier="hot_water", price=(5, 20), disposal="vented"),
        T(OFFER, "Used foundry sand", "MAT.MIN.FOUNDRY", (1000, 10000), ewc=("100908",), p=0.8, price=(-25, 0),
          disposal="landfill", disposal_cost=(30, 70)),
        T(OFFER, "Filter dust from the cupola", "MAT.MET.DUST", (50, 500), ewc=("100910",), p=0.4, price=(-60, 0),
          disposal="landfill", disposal_cost=(60, 120), form="powder"),
        T(NEED, "Steel and cast-iron scrap", "MAT.MET.FESCRAP", (2000, 20000), ewc=("120101", "170405"), p=0.7,
          price=(200, 350)),
    ), {"SE": "Gjuteri", "FI": "Valimo", "DE": "Gießerei", "DK": "Støberi", "NO": "Støperi", "PL": "Odlewnia",
        "EE": "Valukoda", "LV": "Lietuve", "LT": "Liejykla"}),
    Sector("metalwork", "25.11", "Steel Structures", (10, 300), 1.6, (
        T(OFFER, "Steel off-cuts and turnings", "MAT.MET.FESCRAP", (100, 3000), ewc=("120101",), price=(150, 300),
          form="solid"),
        T(OFFER, "Spare laser-cutting capacity", "AST.EQUIP.CAPACITY", (1, 3), "unit", p=0.3),
        T(OFFER, "Used machining emulsions", "MAT.OIL.EMULSION", (10, 150), ewc=("120109",), p=0.3, price=(-200, -50),
          disposal="other", disposal_cost=(120, 300), form="liquid"),
    ), {"SE": "Mekaniska", "FI": "Konepaja", "DE": "Stahlbau", "DK": "Stålbyg", "PL": "Konstrukcje Stalowe"}),
    Sector("machinery", "28.29", "Machinery", (30, 1500), 1.4, (
        T(OFFER, "Steel turnings and chips", "MAT.MET.FESCRAP", (100, 2000), ewc=("120101",), price=(120, 280),
          form="solid"),
        T(OFFER, "Used hydraulic and lubricating oil", "MAT.OIL.LUBE", (5, 50), ewc=("130205",), p=0.5,
          price=(-100, 50), disposal="recycling", disposal_cost=(50, 150), form="liquid"),
        T(OFFER, "Machining emulsions", "MAT.OIL.EMULSION", (20, 200), ewc=("120109",), p=0.4, price=(-200, -50),
          disposal="other", disposal_cost=(120, 300), form="liquid"),
        T(OFFER, "Engineering know-how for process automation", "EXP.TECH.ENGINEERING", (100, 800), "h", p=0.2),
        T(OFFER, "Wooden transport crates", "MAT.PACK.REUSE", (20, 300), p=0.3, price=(0, 20)),
    ), {"SE": "Maskin", "FI": "Kone", "DE": "Maschinenbau", "DK": "Maskinfabrik", "NO": "Maskin",
        "PL": "Maszyny"}),
    Sector("autoparts", "29.32", "Automotive", (100, 2000), 0.6, (
        T(OFFER, "Steel stamping scrap", "MAT.MET.FESCRAP", (1000, 10000), ewc=("120101",), price=(180, 320)),
        T(OFFER, "Aluminium chips", "MAT.MET.AL", (100, 1500), ewc=("120103",), p=0.5, price=(700, 1300)),
        T(OFFER, "Plastic packaging from suppliers", "MAT.PACK.PLASTIC", (50, 500), ewc=("150102",), p=0.5,
          price=(-20, 80), disposal="recycling"),
        T(OFFER, "Reusable pallets and crates", "MAT.PACK.REUSE", (100, 2000), p=0.4, price=(0, 30)),
    )),
    Sector("textile", "13.20", "Textiles", (10, 300), 0.5, (
        T(OFFER, "Yarn and fibre waste", "MAT.TEXT.FIBRE", (20, 500), ewc=("040222",), price=(0, 150)),
        T(OFFER, "Fabric off-cuts", "MAT.TEXT.INDUSTRIAL", (20, 400), ewc=("040209",), p=0.6, price=(0, 100)),
        T(NEED, "Hot water for dyeing", "ENE.HEAT.MT", (1000, 8000), "MWh", p=0.3, temperature=(60, 90),
          carrier="hot_water", price=(15, 35)),
    )),
    Sector("chp", "35.11", "Energi", (30, 400), 0.9, (
        T(OFFER, "Coal fly ash", "MAT.ASH.FLY", (10000, 120000), ewc=("100102",), p=0.6, price=(-10, 10),
          disposal="landfill", disposal_cost=(20, 50), form="powder"),
        T(OFFER, "FGD gypsum", "MAT.GYP.FGD", (5000, 60000), ewc=("100105",), p=0.5, price=(0, 15), form="powder"),
        T(OFFER, "Bottom ash", "MAT.ASH.BOTTOM", (5000, 40000), ewc=("100101",), p=0.6, price=(-15, 0),
          disposal="landfill", disposal_cost=(20, 50)),
        T(OFFER, "Summer surplus of district heat", "ENE.HEAT.HT", (20000, 150000), "MWh", p=0.5,
          temperature=(90, 110), carrier="hot_water", price=(5, 15), months=(5, 6, 7, 8, 9)),
        T(NEED, "Forest chips and bark as fuel", "MAT.FUEL.BIOMASS", (50000, 400000), ewc=("030101", "030105"),
          p=0.8, price=(15, 30)),
        T(NEED, "Solid recovered fuel", "MAT.FUEL.SRF", (20000, 100000), ewc=("191210",), p=0.3, price=(-40, -5)),
    )),
    Sector("districtheat", "35.30", "District Heating", (10, 300), 1.0, (
        T(NEED, "Industrial waste heat for the district-heating network", "ENE.HEAT.MT", (10000, 200000), "MWh",
          temperature=(55, 75), carrier="hot_water", price=(8, 25)),
        T(NEED, "Biomass fuel", "MAT.FUEL.BIOMASS", (20000, 200000), ewc=("030101", "030105"), p=0.7,
          price=(15, 30)),
        T(OFFER, "Wood ash", "MAT.ASH.BIO", (1000, 10000), ewc=("100103",), p=0.8, price=(-40, 0),
          disposal="landfill", disposal_cost=(40, 90), form="powder"),
        T(OFFER, "Bottom ash from grate boilers", "MAT.ASH.BOTTOM", (1000, 10000), ewc=("100101",), p=0.5,
          price=(-20, 0), disposal="landfill", disposal_cost=(20, 50)),
    ), {"SE": "Fjärrvärme", "FI": "Kaukolämpö", "DE": "Fernwärme", "DK": "Fjernvarme", "NO": "Fjernvarme",
        "PL": "Ciepłownia"}),
    Sector("waterworks", "36.00", "Water", (20, 300), 0.5, (
        T(OFFER, "Waterworks sludge", "MAT.SLUDGE.WATERWORKS", (500, 5000), ewc=("190902",), price=(-20, 0),
          disposal="landfill", disposal_cost=(20, 50), form="sludge"),
        T(OFFER, "Surplus process water", "WAT.PROC.PROCESS", (50000, 500000), "m3", p=0.4, water_quality=4,
          price=(0.3, 1.2)),
    ), {"SE": "Vatten", "FI": "Vesi", "DE": "Wasserwerk", "DK": "Vand", "NO": "Vann", "PL": "Wodociągi"}),
    Sector("wwtp", "37.00", "Wastewater", (20, 300), 0.6, (
        T(OFFER, "Dewatered sewage sludge", "MAT.SLUDGE.SEWAGE", (5000, 60000), ewc=("190805",), price=(-40, 0),
          disposal="other", disposal_cost=(30, 70), form="sludge"),
        T(OFFER, "Treated effluent for reuse", "WAT.WASTE.TREATED", (1000000, 20000000), "m3", p=0.8, water_quality=2,
          price=(0, 0.3), disposal="sewer"),
        T(OFFER, "Heat in treated effluent (heat-pump source)", "ENE.HEAT.LT", (20000, 150000), "MWh", p=0.5,
          temperature=(10, 20), carrier="hot_water", price=(0, 5)),
        T(OFFER, "Raw biogas from sludge digestion", "ENE.GAS.BIOGAS", (5000, 40000), "MWh", p=0.3, carrier="gas",
          price=(20, 45)),
    )),
    Sector("materials", "38.21", "Recycling", (10, 300), 1.0, (
        T(OFFER, "Solid recovered fuel (SRF)", "MAT.FUEL.SRF", (5000, 60000), ewc=("191210",), p=0.8,
          price=(-60, -10)),
        T(OFFER, "Sorted mixed plastics", "MAT.PLAS.MIXED", (1000, 15000), ewc=("191204",), p=0.6, price=(-20, 80)),
        T(NEED, "Plastic packaging waste", "MAT.PACK.PLASTIC", (2000, 20000), ewc=("150102",), p=0.7,
          price=(-40, 20)),
        T(NEED, "Cardboard from retail and industry", "MAT.PAPER.CARDBOARD", (2000, 20000), ewc=("150101",), p=0.5,
          price=(20, 70)),
        T(OFFER, "Sorting capacity for commercial waste", "AST.EQUIP.TREATMENT", (1, 2), "unit", p=0.3),
    ), {"SE": "Återvinning", "FI": "Kierrätys", "DE": "Recycling", "DK": "Genbrug", "NO": "Gjenvinning",
        "PL": "Recykling"}),
    Sector("wte", "38.22", "Energy from Waste", (40, 300), 0.5, (
        T(NEED, "Residual waste and SRF", "MAT.FUEL.SRF", (50000, 400000), ewc=("191210", "191212", "200301"),
          price=(-90, -40)),
        T(OFFER, "Incinerator bottom ash", "MAT.ASH.IBA", (20000, 100000), ewc=("190112",), price=(-20, 0),
          disposal="landfill", disposal_cost=(20, 50)),
        T(OFFER, "Flue-gas cleaning residues", "MAT.ASH.APC", (2000, 15000), ewc=("190107",), p=0.7,
          price=(-150, -60), disposal="landfill", disposal_cost=(100, 200), form="powder"),
        T(OFFER, "Summer surplus heat", "ENE.HEAT.HT", (20000, 200000), "MWh", p=0.6, temperature=(90, 110),
          carrier="hot_water", price=(2, 10), months=(5, 6, 7, 8, 9), disposal="vented"),
        T(OFFER, "Medium-pressure steam", "ENE.STEAM.MP", (20000, 150000), "MWh", p=0.3, temperature=(200, 250),
          carrier="steam", price=(15, 30)),
    )),
    Sector("demolition", "43.11", "Demolition", (5, 200), 0.8, (
        T(OFFER, "Crushed concrete", "MAT.CD.CONCRETE", (2000, 30000), ewc=("170101",), price=(-5, 8)),
        T(OFFER, "Bricks and tiles from demolition", "MAT.CD.BRICK", (500, 8000), ewc=("170102",), p=0.6,
          price=(-8, 5)),
        T(OFFER, "Demolition wood", "MAT.WOOD.MIXED", (300, 5000), ewc=("170201",), p=0.6, price=(-30, 5),
          disposal="energy_recovery", disposal_cost=(30, 60)),
    ), {"SE": "Rivning", "FI": "Purku", "DE": "Abbruch", "DK": "Nedrivning", "PL": "Rozbiórki"}),
    Sector("haulage", "49.41", "Logistics", (5, 400), 0.9, (
        T(OFFER, "Empty return trips (curtain-sider)", "AST.LOGI.TRANSPORT", (1, 10), "unit", price=(100, 600)),
        T(OFFER, "Tipper trucks for bulk material", "AST.LOGI.TRANSPORT", (1, 5), "unit", p=0.4, price=(300, 900)),
    ), {"SE": "Åkeri", "FI": "Kuljetus", "DE": "Spedition", "DK": "Vognmand", "NO": "Transport",
        "PL": "Transport"}, common=False),
    Sector("warehouse", "52.10", "Logistics Centre", (10, 500), 0.9, (
        T(OFFER, "Free warehouse space (pallet places)", "AST.SPACE.WAREHOUSE", (1, 6), "unit", price=(50, 200)),
        T(OFFER, "Surplus cold-store capacity", "AST.SPACE.WAREHOUSE", (1, 3), "unit", p=0.3, price=(100, 300)),
        T(OFFER, "Used stretch film", "MAT.PLAS.PE", (20, 300), ewc=("150102",), p=0.5, price=(0, 150)),
    ), {"SE": "Lager", "FI": "Logistiikka", "DE": "Logistik", "DK": "Logistik", "PL": "Magazyny"}, common=False),
    Sector("datacentre", "63.10", "Data Centre", (10, 150), 0.6, (
        T(OFFER, "Low-temperature heat from server cooling", "ENE.HEAT.LT", (5000, 80000), "MWh",
          temperature=(25, 40), carrier="hot_water", price=(0, 8), disposal="vented"),
        T(NEED, "Cooling water", "WAT.NAT.SURFACE", (100000, 800000), "m3", p=0.3, water_quality=3, price=(0, 0.5)),
    ), common=False),
    Sector("engineering", "71.12", "Engineering", (5, 400), 1.0, (
        T(OFFER, "Energy and resource efficiency audits", "EXP.TECH.ENERGY", (100, 600), "h", price=(80, 140)),
        T(OFFER, "Help with environmental permits", "EXP.REG.PERMIT", (40, 300), "h", p=0.5, price=(90, 150)),
    ), {"SE": "Konsult", "FI": "Insinööritoimisto", "DE": "Ingenieure", "DK": "Rådgivning", "PL": "Inżynieria"},
        common=False),
    Sector("lab", "72.10", "Research", (5, 300), 0.7, (
        T(OFFER, "Laboratory analysis of side streams", "EXP.SERV.LAB", (100, 1000), "h", price=(60, 120)),
        T(OFFER, "R&D cooperation on residue valorisation", "EXP.TECH.RND", (100, 800), "h", p=0.6, price=(70, 130)),
        T(OFFER, "Pilot-scale reactor for rent", "AST.EQUIP.LAB", (1, 2), "unit", p=0.3, price=(500, 3000)),
    ), common=False),
)
SECTORS_BY_KEY = {s.key: s for s in SECTORS}



# --- Demo users -----------------------------------------------------------------------------------------

# Known password for development only (settings.DEBUG); elsewhere a random one is set and printed.
DEMO_PASSWORD = "baltic-demo-2026"  # noqa: S105
DEMO_REGION = "SE22"
DEMO_USERS = (
    # username, description
    ("demo-sme-a", "admin of Lunds Mejeri AB (offers whey and warm water)"),
    ("demo-sme-b", "admin of Lund Greens AB (needs heat and CO2), 2 km away"),
    ("demo-facilitator", f"facilitator of {DEMO_REGION}"),
    ("demo-authority", f"regional authority of {DEMO_REGION}"),
    ("demo-staff", "staff (and Django admin)"),
)

COMPANY_PREFIX = "demo-c-"
DEFAULT_COMPANIES = 300
BATCH = 2000  # rows per INSERT
COMPANY_CHUNK = 500  # companies planned, written and reported per step

ProgressFn = Callable[[str, int, int], None]
DECIMAL_FIELDS = ("quantity", "quantity_min", "quantity_max", "price_eur_per_unit", "disposal_cost_eur_per_unit")


class DemoDataError(Exception):
    """The database lacks what the demo builds on (regions, NACE, resource taxonomy)."""


# --- Planning (pure: no database) --------------------------------------------------------------------


@dataclass
class PlannedStream:
    ref: str
    template: StreamTemplate
    site_index: int
    values: dict


@dataclass
class PlannedCompany:
    number: int
    ref: str
    name: str
    sector: Sector
    country: str
    employees: int
    sites: list[tuple[str, float, float, str]]  # name, latitude, longitude, region code
    streams: list[PlannedStream]
    entered_by_facilitator: bool = False


def _round_sig(x: float, digits: int = 2) -> float:
    if x <= 0:
        return x
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def _jitter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    """A point about `km` (one standard deviation) from (lat, lon), never more than 3 sigma away."""
    dx, dy = (max(-3.0, min(3.0, rng.gauss(0, 1))) * km for _ in range(2))
    return (round(lat + dy / 111.0, 5), round(lon + dx / (111.0 * math.cos(math.radians(lat))), 5))


@functools.lru_cache(maxsize=1024)
def industrial_zones(town: Town, seed: int) -> tuple[tuple[float, float], ...]:
    """One to three industrial areas within a few km of the town centre: sites cluster around them."""
    rng = random.Random(f"{seed}:zones:{town.name}")
    return tuple(_jitter(rng, town.latitude, town.longitude, 1.5) for _ in range(rng.randint(1, 3)))


def _company_name(rng: random.Random, sector: Sector, town: Town) -> str:
    noun = sector.local.get(town.country, sector.noun)
    style = rng.random()
    if style < 0.4:
        prefix = town.name
    elif style < 0.75:
        prefix = rng.choice(FAMILY_NAMES[town.country])
    else:
        prefix = rng.choice(BRANDS)
    core = f"{noun} {prefix}" if town.country in NOUN_FIRST else f"{prefix} {noun}"
    return f"{core} {LEGAL_FORM[town.country]}"


def _stream_values(rng: random.Random, t: StreamTemplate) -> dict:
    """Field values of one stream drawn from its template (category and EWC codes resolved later)."""
    yearly = _log_uniform(rng, *t.quantity)
    if t.unit == "unit" or t.quantity[1] <= 20:
        yearly = max(1, round(yearly))
    period = "year"
    quantity = _round_sig(yearly)
    if t.unit not in ("unit", "h") and rng.random() < 0.2:
        period = "month"
        quantity = _round_sig(yearly / 12)
    values = {
        "direction": t.direction,
        "title": t.title,
        "description": t.description,
        "quantity": quantity,
        "unit": t.unit,
        "period": period,
        "energy_carrier": t.carrier,
        "physical_form": t.form,
        "water_quality": t.water_quality,
        "provenance": rng.choices(("estimate", "measured", "lab"), (70, 25, 5))[0],
        "status": rng.choices(("active", "draft", "paused"), (90, 5, 5))[0],
        "visibility": rng.choices(("anonymous", "public", "private"), (55, 35, 10))[0],
    }
    if t.temperature:
        values["temperature_c"] = round(rng.uniform(*t.temperature))
    if t.months:
        values["availability"] = "seasonal"
        values["months"] = sum(1 << (m - 1) for m in t.months)
    if t.price:
        values["price_eur_per_unit"] = round(rng.uniform(*t.price), 1 if abs(t.price[1]) < 10 else 0)
    if t.direction == "offer":
        if t.disposal:
            values["disposal_route"] = t.disposal
        if t.disposal_cost:
            values["disposal_cost_eur_per_unit"] = round(rng.uniform(*t.disposal_cost), 1)
        if t.ewc:
            values["regulatory_status"] = rng.choices(("waste", "by_product", "unknown"), (60, 30, 10))[0]
        else:
            values["regulatory_status"] = rng.choices(("by_product", "product", "unknown"), (50, 20, 30))[0]
        if rng.random() < 0.3 and t.unit not in ("unit", "h"):
            values["quantity_min"] = _round_sig(quantity * 0.8)
            values["quantity_max"] = _round_sig(quantity * 1.2)
    if rng.random() < 0.15:
        values["max_transport_km"] = float(rng.choice((5, 10, 15)) if t.category.startswith("ENE.")
                                           else rng.choice((50, 100, 150, 300)))
    return values


def plan_company(number: int, *, seed: int = 42) -> PlannedCompany:
    """Company `number` (1-based) of the demo: the same for a given seed whatever the total size."""
    if number in SHOWCASE:
        return SHOWCASE[number](seed)
    rng = random.Random(f"{seed}:company:{number}")
    # Regions take turns, so even a small demo spans every region and country; within a region the
    # larger industrial towns get more companies.
    regions = _region_order(seed)
    region = regions[(number - 1) % len(regions)]
    towns = [t for t in TOWNS if t.region == region]
    town = rng.choices(towns, [t.weight for t in towns])[0]
    weights = [s.weight * (6 if s.key in town.specialties else 1) for s in SECTORS]
    sector = rng.choices(SECTORS, weights)[0]
    employees = round(_log_uniform(rng, *sector.employees))
    zones = industrial_zones(town, seed)
    sites = []
    lat, lon = _jitter(rng, *rng.choice(zones), 0.7)
    noun = sector.local.get(town.country, sector.noun)
    sites.append((f"{noun} {town.name}", lat, lon, town.region))
    if rng.random() < 0.08:
        other = rng.choice(towns)
        lat2, lon2 = _jitter(rng, *rng.choice(industrial_zones(other, seed)), 0.7)
        name2 = f"{noun} {other.name}" if other is not town else f"{noun} {town.name} 2"
        sites.append((name2, lat2, lon2, other.region))
    streams: list[PlannedStream] = []
    if rng.random() >= 0.04:  # a few companies have registered but listed nothing yet
        for t in sector.templates():
            if rng.random() < t.p:
                k = len(streams) + 1
                streams.append(PlannedStream(
                    ref=f"demo-s-{number:05d}-{k}", template=t, site_index=rng.randrange(len(sites)),
                    values=_stream_values(rng, t),
                ))
    return PlannedCompany(
        number=number, ref=f"{COMPANY_PREFIX}{number:05d}", name=_company_name(rng, sector, town), sector=sector,
        country=town.country, employees=employees, sites=sites, streams=streams,
        entered_by_facilitator=rng.random() < 0.2,
    )


def _region_order(seed: int) -> list[str]:
    regions = sorted({t.region for t in TOWNS})
    random.Random(f"{seed}:regions").shuffle(regions)
    return regions


def _showcase_dairy(seed: int) -> PlannedCompany:
    """demo-sme-a's company: a dairy in Lund whose warm water fits the greenhouse next door."""
    sector = SECTORS_BY_KEY["dairy"]
    whey, _sludge, heat, *_ = sector.streams
    return PlannedCompany(
        number=1, ref=f"{COMPANY_PREFIX}00001", name="Lunds Mejeri AB", sector=sector, country="SE", employees=85,
        sites=[("Mejeri Lund", 55.7217, 13.2162, "SE22")],
        streams=[
            PlannedStream("demo-s-00001-1", whey, 0, {
                "direction": "offer", "title": whey.title, "description": whey.description, "quantity": 18000,
                "unit": "t", "period": "year", "physical_form": "liquid", "price_eur_per_unit": 5,
                "disposal_route": "sewer", "disposal_cost_eur_per_unit": 28, "regulatory_status": "by_product",
                "provenance": "measured", "visibility": "public", "status": "active",
            }),
            PlannedStream("demo-s-00001-2", heat, 0, {
                "direction": "offer", "title": heat.title, "quantity": 4200, "unit": "MWh", "period": "year",
                "temperature_c": 65, "energy_carrier": "hot_water", "price_eur_per_unit": 12,
                "disposal_route": "vented", "provenance": "measured", "visibility": "public", "status": "active",
            }),
        ],
    )


def _showcase_greenhouse(seed: int) -> PlannedCompany:
    """demo-sme-b's company: a greenhouse 2 km from the dairy, needing heat and CO2."""
    sector = SECTORS_BY_KEY["greenhouse"]
    heat, co2, *_ = sector.streams
    return PlannedCompany(
        number=2, ref=f"{COMPANY_PREFIX}00002", name="Lund Greens AB", sector=sector, country="SE", employees=24,
        sites=[("Växthus Lund", 55.7302, 13.2437, "SE22")],
        streams=[
            PlannedStream("demo-s-00002-1", heat, 0, {
                "direction": "need", "title": heat.title, "quantity": 3500, "unit": "MWh", "period": "year",
                "temperature_c": 45, "energy_carrier": "hot_water", "price_eur_per_unit": 25,
                "availability": "seasonal", "months": sum(1 << (m - 1) for m in MONTHS_HEATING),
                "provenance": "estimate", "visibility": "public", "status": "active",
            }),
            PlannedStream("demo-s-00002-2", co2, 0, {
                "direction": "need", "title": co2.title, "quantity": 600, "unit": "t", "period": "year",
                "price_eur_per_unit": 55, "physical_form": "gas", "provenance": "estimate",
                "visibility": "anonymous", "status": "active",
            }),
        ],
    )


SHOWCASE = {1: _showcase_dairy, 2: _showcase_greenhouse}


def plan(*, streams: int | None, seed: int = 42) -> list[PlannedCompany]:
    """The companies of a demo: DEFAULT_COMPANIES of them, or as many as it takes to list exactly
    `streams` streams (the last company's list is cut short; the two showcase companies always come)."""
    companies: list[PlannedCompany] = []
    if streams is None:
        return [plan_company(n, seed=seed) for n in range(1, DEFAULT_COMPANIES + 1)]
    total, number = 0, 0
    # The showcase pair always exists: the demo users belong to it.
    while total < streams or number < len(SHOWCASE):
        number += 1
        company = plan_company(number, seed=seed)
        company.streams = company.streams[: streams - total]
        total += len(company.streams)
        companies.append(company)
    return companies


# --- Writing -------------------------------------------------------------------------------------------


def _reference_data():
    from companies.models import NaceCode, Region
    from streams.models import EwcCode, ResourceCategory

    regions = {r.code: r for r in Region.objects.all()}
    nace = {n.code: n for n in NaceCode.objects.filter(revision="2.1", level=4)}
    categories = {c.code: c for c in ResourceCategory.objects.all()}
    ewc = {e.code: e for e in EwcCode.objects.all()}
    missing = []
    if not categories or not ewc:
        raise DemoDataError("The resource taxonomy (categories, EWC codes) is not loaded: run `manage.py migrate`.")
    for town in TOWNS:
        if town.region not in regions:
            missing.append(f"region {town.region}")
    for sector in SECTORS:
        if sector.nace not in nace:
            missing.append(f"NACE {sector.nace}")
        for t in sector.templates():
            if t.category not in categories:
                missing.append(f"category {t.category}")
            missing.extend(f"EWC {c}" for c in t.ewc if c not in ewc)
    if missing:
        raise DemoDataError("Reference data missing for the demo: " + ", ".join(sorted(set(missing))))
    return regions, nace, categories, ewc


def _batches(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i: i + size]


def reset() -> dict[str, int]:
    """Delete every demo company (with its sites, streams, memberships, their history) and demo user."""
    from django.contrib.auth import get_user_model
    from django.test.utils import override_settings

    from companies.models import Company
    from streams.models import Stream

    with transaction.atomic():
        company_ids = list(Company.objects.filter(import_scope=PLATFORM_SCOPE, external_ref__startswith=COMPANY_PREFIX)
                           .values_list("pk", flat=True))
        streams = Stream.objects.filter(company_id__in=company_ids)
        Stream.ewc_codes.through.objects.filter(stream__company_id__in=company_ids).delete()
        # Deleting demo rows needs no history of the deletion; the seeded history goes with them.
        with override_settings(SIMPLE_HISTORY_ENABLED=False):
            n_streams = streams.delete()[0]
        Stream.history.model.objects.filter(company_id__in=company_ids).delete()
        n_companies = Company.objects.filter(pk__in=company_ids).delete()[0]
        get_user_model().objects.filter(username__in=[u for u, _ in DEMO_USERS]).delete()
    return {"companies": len(company_ids), "deleted_rows": n_streams + n_companies}


def seed(*, streams: int | None, seed: int = 42, progress: ProgressFn | None = None) -> dict[str, int]:
    """Build the demo region (idempotent: rows that exist by external_ref are left alone).

    Returns counts of what was created. Raises DemoDataError when reference data is missing.
    """
    from simple_history.utils import bulk_create_with_history

    from companies.models import Company, Site, company_name_key
    from streams.models import Stream

    regions, nace, categories, ewc = _reference_data()
    planned = plan(streams=streams, seed=seed)
    total_streams = sum(len(c.streams) for c in planned)
    created = {"companies": 0, "sites": 0, "streams": 0}
    done = 0

    with transaction.atomic():
        for chunk in _batches(planned, COMPANY_CHUNK):
            refs = [c.ref for c in chunk]
            existing = dict(Company.objects.filter(import_scope=PLATFORM_SCOPE, external_ref__in=refs)
                            .values_list("external_ref", "pk"))
            new_companies = [
                Company(
                    name=c.name, name_key=company_name_key(c.name), nace=nace[c.sector.nace], nace_as_entered=c.sector.nace, country=c.country,
                    employees=c.employees, is_sme=c.employees <= SME_MAX_EMPLOYEES, external_ref=c.ref,
                    import_scope=PLATFORM_SCOPE,
                    entered_by_facilitator=c.entered_by_facilitator,
                    description=f"Demo company ({c.sector.noun.lower()}, NACE {c.sector.nace}).",
                )
                for c in chunk if c.ref not in existing
            ]
            Company.objects.bulk_create(new_companies)
            # The demo's companies were entered by the platform a year ago: verified and old enough
            # for the dashboards to count them (docs/dashboards.md, "Who counts toward k").
            joined = timezone.now() - timedelta(days=365)
            Company.objects.filter(pk__in=[c.pk for c in new_companies]).update(created_at=joined, verified_at=joined)
            created["companies"] += len(new_companies)
            company_pk = {**existing, **{c.external_ref: c.pk for c in new_companies}}

            site_keys = {
                (company_pk[c.ref], name): None for c in chunk for (name, *_rest) in c.sites
            }
            for pk, company_id, name in Site.objects.filter(company_id__in=company_pk.values()).values_list(
                "pk", "company_id", "name"
            ):
                if (company_id, name) in site_keys:
                    site_keys[(company_id, name)] = pk
            new_sites = [
                Site(company_id=company_pk[c.ref], name=name, latitude=lat, longitude=lon, region=regions[region],
                     address="")
                for c in chunk for (name, lat, lon, region) in c.sites
                if site_keys[(company_pk[c.ref], name)] is None
            ]
            Site.objects.bulk_create(new_sites)
            created["sites"] += len(new_sites)
            for s in new_sites:
                site_keys[(s.company_id, s.name)] = s.pk

            existing_streams = set(
                Stream.objects.filter(company_id__in=company_pk.values(), external_ref__isnull=False)
                .values_list("company_id", "external_ref")
            )
            new_streams, codes = [], []
            for c in chunk:
                cid = company_pk[c.ref]
                for ps in c.streams:
                    if (cid, ps.ref) in existing_streams:
                        continue
                    t = ps.template
                    category = categories[t.category]
                    values = {k: Decimal(str(v)) if k in DECIMAL_FIELDS and v is not None else v
                              for k, v in ps.values.items()}
                    stream = Stream(
                        company_id=cid, site_id=site_keys[(cid, c.sites[ps.site_index][0])], external_ref=ps.ref,
                        kind=category.kind, category=category,
                        entered_by_facilitator=c.entered_by_facilitator, **values,
                    )
                    stream_ewc = [ewc[code] for code in t.ewc]
                    if t.direction == "offer":
                        stream.hazardous = any(e.is_hazardous for e in stream_ewc)
                    stream.normalise()
                    new_streams.append(stream)
                    codes.append(stream_ewc)
            for part, part_codes in zip(_batches(new_streams, BATCH), _batches(codes, BATCH), strict=True):
                bulk_create_with_history(part, Stream, batch_size=BATCH, default_change_reason="Demo data")
                Stream.ewc_codes.through.objects.bulk_create([
                    Stream.ewc_codes.through(stream_id=s.pk, ewccode_id=e.pk)
                    for s, stream_ewc in zip(part, part_codes, strict=True) for e in stream_ewc
                ])
                created["streams"] += len(part)
            done += sum(len(c.streams) for c in chunk)
            if progress is not None:
                progress("streams", done, total_streams)
        _demo_users(regions)
    created["regions"] = len({s[3] for c in planned for s in c.sites})
    created["countries"] = len({c.country for c in planned})
    return created


def _demo_users(regions) -> None:
    """The demo users and their roles (idempotent). Passwords are set by `set_demo_passwords`."""
    from django.contrib.auth import get_user_model

    from companies.choices import MembershipRole, RegionRoleKind
    from companies.models import Company, RegionRole
    from companies.services import membership_add

    User = get_user_model()  # noqa: N806
    users = {}
    for username, _ in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.test"})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users[username] = user
    staff = users["demo-staff"]
    if not (staff.is_staff and staff.is_superuser):
        staff.is_staff = staff.is_superuser = True
        staff.save(update_fields=["is_staff", "is_superuser"])
    for username, number in (("demo-sme-a", 1), ("demo-sme-b", 2)):
        company = Company.objects.get(import_scope=PLATFORM_SCOPE, external_ref=f"{COMPANY_PREFIX}{number:05d}")
        membership_add(company=company, user=users[username], role=MembershipRole.ADMIN)
    region = regions[DEMO_REGION]
    RegionRole.objects.get_or_create(user=users["demo-facilitator"], region=region, role=RegionRoleKind.FACILITATOR)
    RegionRole.objects.get_or_create(user=users["demo-authority"], region=region, role=RegionRoleKind.AUTHORITY)


def set_demo_passwords(password: str | None = None) -> str:
    """Give every demo user the same password (a random one unless given) and return it."""
    from django.contrib.auth import get_user_model

    password = password or secrets.token_urlsafe(12)
    for user in get_user_model().objects.filter(username__in=[u for u, _ in DEMO_USERS]):
        user.set_password(password)
        user.save(update_fields=["password"])
    return password
