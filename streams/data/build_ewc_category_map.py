"""Build ewc_category_map.csv: every List-of-Waste (EWC) code mapped to one resource category.

Run from the repository root after editing the rules below or resource_categories.csv:

    python streams/data/build_ewc_category_map.py

Standard library only. Reads ewc_codes.csv and resource_categories.csv next to this file and writes
ewc_category_map.csv (columns ewc_code, category_code, rule). Each code is decided by the first rule
that applies, in this order:

1. ``CODE_RULES``: a category picked by hand for that code (rule ``code``). Chapter 07 repeats the
   same entries in each of its sub-chapters (aqueous liquors, solvents, still bottoms, filter cakes,
   sludges ...), so ``CHAPTER_07_BY_ENTRY`` gives them by their last two digits and they are expanded
   into per-code rules (also rule ``code``); an explicit ``CODE_RULES`` entry wins over it.
2. ``SUB_CHAPTER_RULES``: the category for the rest of a sub-chapter (rule ``sub_chapter NN NN``).
3. ``CHAPTER_RULES``: the category for the rest of a chapter (rule ``chapter NN``).

EWC codes apply to material streams only, so every target is a category of kind ``material``.
Whether a code is hazardous comes from the EWC list itself, not from the category: a hazardous and
a non-hazardous mirror entry usually share a category.
The script fails (AssertionError) if a code stays unmapped, a rule names an unknown category or a
non-material one, or a rule names a code, sub-chapter or chapter that is not in the list.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent

CHAPTER_RULES: dict[str, str] = {
    "01": "MAT.MIN.TAILINGS",  # mining and quarrying
    "02": "MAT.FOOD",  # agriculture and food
    "03": "MAT.WOOD",  # wood, pulp and paper
    "04": "MAT.TEXT",  # leather and textiles
    "05": "MAT.OIL",  # petroleum refining, gas, coal pyrolysis
    "06": "MAT.CHEM",  # inorganic chemistry
    "07": "MAT.CHEM.ORGRES",  # organic chemistry
    "08": "MAT.CHEM.PAINT",  # paints, inks, adhesives
    "09": "MAT.CHEM.LAB",  # photographic industry
    "10": "MAT.SLAG",  # thermal processes
    "11": "MAT.CHEM",  # surface treatment of metals
    "12": "MAT.MET",  # shaping of metals and plastics
    "13": "MAT.OIL",  # oil wastes
    "14": "MAT.SOLV",  # solvents, refrigerants
    "15": "MAT.PACK",  # packaging, absorbents
    "16": "MAT.RESID",  # not otherwise specified
    "17": "MAT.CD",  # construction and demolition
    "18": "MAT.RESID.HEALTH",  # healthcare
    "19": "MAT.RESID",  # waste and water treatment facilities
    "20": "MAT.RESID.MIXED",  # municipal
}

SUB_CHAPTER_RULES: dict[str, str] = {
    "0104": "MAT.MIN.AGGR",
    "0201": "MAT.AGRI",
    "0202": "MAT.FOOD.ABP",
    "0203": "MAT.FOOD.FRUITVEG",
    "0204": "MAT.FOOD.SUGAR",
    "0205": "MAT.FOOD.WHEY",
    "0206": "MAT.FOOD.BAKERY",
    "0207": "MAT.FOOD.SPENTGRAIN",
    "0301": "MAT.WOOD",
    "0302": "MAT.CHEM.LAB",
    "0303": "MAT.PAPER",
    "0401": "MAT.TEXT.LEATHER",
    "0402": "MAT.TEXT",
    "0501": "MAT.OIL.SLUDGE",
    "0506": "MAT.OIL.TAR",
    "0507": "MAT.CHEM",
    "0601": "MAT.CHEM.ACID",
    "0602": "MAT.CHEM.ALKALI",
    "0603": "MAT.CHEM.SALT",
    "0604": "MAT.MET.SLUDGE",
    "0605": "MAT.SLUDGE.CHEM",
    "0606": "MAT.CHEM.SULPHUR",  # sulphur chemistry (the source file repeats the 06 05 title here)
    "0608": "MAT.MIN.SILICA",
    "0609": "MAT.GYP.CHEM",
    "0610": "MAT.AGIN.FERT",
    "0611": "MAT.CHEM.PAINT",
    "0805": "MAT.CHEM.LAB",
    "0901": "MAT.CHEM.LAB",
    "1001": "MAT.ASH",
    "1002": "MAT.SLAG.FE",
    "1003": "MAT.SLAG.NF",
    "1004": "MAT.SLAG.NF",
    "1005": "MAT.SLAG.NF",
    "1006": "MAT.SLAG.NF",
    "1007": "MAT.MET.PRECIOUS",
    "1008": "MAT.SLAG.NF",
    "1009": "MAT.MIN.FOUNDRY",
    "1010": "MAT.MIN.FOUNDRY",
    "1011": "MAT.GLASS",
    "1012": "MAT.CD.BRICK",
    "1013": "MAT.LIME",
    "1014": "MAT.RESID.HAZ",
    "1102": "MAT.MET.SLUDGE",
    "1103": "MAT.RESID.HAZ",
    "1105": "MAT.MET.DROSS",
    "1203": "MAT.CHEM.AQUEOUS",
    "1301": "MAT.OIL.LUBE",
    "1302": "MAT.OIL.LUBE",
    "1303": "MAT.OIL.LUBE",
    "1304": "MAT.OIL.EMULSION",
    "1305": "MAT.OIL.SLUDGE",
    "1307": "MAT.FUEL.LIQUID",
    "1308": "MAT.OIL.SLUDGE",
    "1406": "MAT.SOLV",
    "1501": "MAT.PACK.MIXED",
    "1502": "MAT.TEXT.INDUSTRIAL",
    "1601": "MAT.EOL.VEHICLE",
    "1602": "MAT.EOL.WEEE",
    "1603": "MAT.CHEM.LAB",
    "1604": "MAT.RESID.HAZ",
    "1605": "MAT.CHEM.LAB",
    "1606": "MAT.EOL.BATTERY",
    "1607": "MAT.SLUDGE.CHEM",
    "1608": "MAT.CHEM.CATALYST",
    "1609": "MAT.CHEM.LAB",
    "1610": "MAT.CHEM.AQUEOUS",
    "1611": "MAT.MIN.REFRACT",
    "1701": "MAT.CD.RUBBLE",
    "1702": "MAT.CD.MIXED",
    "1703": "MAT.CD.ASPHALT",
    "1704": "MAT.MET.MIXED",
    "1705": "MAT.CD.SOIL",
    "1706": "MAT.CD.INSUL",
    "1708": "MAT.GYP.BOARD",
    "1709": "MAT.CD.MIXED",
    "1901": "MAT.ASH",
    "1904": "MAT.SLAG.OTHER",
    "1905": "MAT.AGIN.COMPOST",
    "1906": "MAT.SLUDGE.DIGESTATE",
    "1907": "MAT.CHEM.AQUEOUS",
    "1908": "MAT.SLUDGE",
    "1909": "MAT.SLUDGE.WATERWORKS",
    "1910": "MAT.RESID.MIXED",
    "1911": "MAT.OIL.SLUDGE",
    "1912": "MAT.RESID.MIXED",
    "1913": "MAT.CD.SOIL",
    "2002": "MAT.AGRI.GREEN",
}

# Chapter 07 (organic chemical processes): the same entry in each sub-chapter 07 01 .. 07 07.
CHAPTER_07_BY_ENTRY: dict[str, str] = {
    "01": "MAT.CHEM.ORGRES",  # aqueous washing liquids and mother liquors
    "03": "MAT.SOLV.HAL",  # organic halogenated solvents, washing liquids and mother liquors
    "04": "MAT.SOLV.NONHAL",  # other organic solvents, washing liquids and mother liquors
    "07": "MAT.CHEM.ORGRES",  # halogenated still bottoms and reaction residues
    "08": "MAT.CHEM.ORGRES",  # other still bottoms and reaction residues
    "09": "MAT.CHEM.ORGRES",  # halogenated filter cakes and spent absorbents
    "10": "MAT.CHEM.ORGRES",  # other filter cakes and spent absorbents
    "11": "MAT.SLUDGE.CHEM",  # effluent-treatment sludges containing hazardous substances
    "12": "MAT.SLUDGE.INDBIO",  # other effluent-treatment sludges
    "99": "MAT.CHEM.ORGRES",  # not otherwise specified
}

CODE_RULES: dict[str, str] = {
    # 01 mining and quarrying
    "010407": "MAT.MIN.TAILINGS",
    "010409": "MAT.MIN.SAND",  # waste sand and clays
    "010411": "MAT.CHEM.SALT",  # potash and rock salt processing
    "010412": "MAT.MIN.TAILINGS",
    "010505": "MAT.OIL.SLUDGE",  # oil-containing drilling muds
    # 02 01 agriculture, horticulture, forestry
    "020101": "MAT.SLUDGE.INDBIO",
    "020102": "MAT.FOOD.ABP",
    "020103": "MAT.AGRI.PLANT",
    "020104": "MAT.PLAS.PE",  # farm plastics other than packaging: mostly PE film
    "020106": "MAT.MANURE",  # solid and liquid manure together
    "020107": "MAT.WOOD.CHIPS",  # forestry residues
    "020108": "MAT.RESID.HAZ",
    "020109": "MAT.CHEM.LAB",
    "020110": "MAT.MET.FESCRAP",
    # 02 02 .. 02 07 food and drink: effluent and washing sludges go to sludge
    "020201": "MAT.SLUDGE.INDBIO",
    "020204": "MAT.SLUDGE.INDBIO",
    "020302": "MAT.CHEM.LAB",  # preserving agents
    "020303": "MAT.FOOD.CEREAL",  # solvent-extraction meal
    "020305": "MAT.SLUDGE.INDBIO",
    "020401": "MAT.CD.SOIL",  # soil from beet washing
    "020402": "MAT.SLUDGE.LIME",  # carbonation lime
    "020403": "MAT.SLUDGE.INDBIO",
    "020502": "MAT.SLUDGE.INDBIO",
    "020602": "MAT.CHEM.LAB",
    "020603": "MAT.SLUDGE.INDBIO",
    "020702": "MAT.FOOD.DISTILL",
    "020703": "MAT.FOOD",  # chemical treatment (e.g. spent kieselguhr): type unknown
    "020705": "MAT.SLUDGE.INDBIO",
    # 03 wood, pulp and paper
    "030101": "MAT.WOOD.BARK",
    "030104": "MAT.WOOD.TREATED",
    "030105": "MAT.WOOD.SAWDUST",
    "030301": "MAT.WOOD.BARK",
    "030302": "MAT.SLUDGE.LIME",  # green liquor dregs
    "030305": "MAT.SLUDGE.PAPER",
    "030307": "MAT.PAPER.REJECTS",
    "030308": "MAT.PAPER.REJECTS",
    "030309": "MAT.SLUDGE.LIME",  # lime mud
    "030310": "MAT.SLUDGE.PAPER",
    "030311": "MAT.SLUDGE.PAPER",
    # 04 leather and textiles
    "040101": "MAT.FOOD.ABP",  # fleshings are animal by-products
    "040103": "MAT.SOLV.SLUDGE",
    "040106": "MAT.SLUDGE.CHEM",  # chromium-bearing
    "040107": "MAT.SLUDGE.INDBIO",
    "040209": "MAT.TEXT.INDUSTRIAL",
    "040210": "MAT.CHEM.ORGRES",  # wool grease, wax
    "040214": "MAT.SOLV.SLUDGE",
    "040216": "MAT.CHEM.PAINT",
    "040217": "MAT.CHEM.PAINT",
    "040219": "MAT.SLUDGE.CHEM",
    "040220": "MAT.SLUDGE.INDBIO",
    "040221": "MAT.TEXT.FIBRE",
    "040222": "MAT.TEXT.FIBRE",
    # 05 petroleum, natural gas, coal
    "050107": "MAT.OIL.TAR",
    "050108": "MAT.OIL.TAR",
    "050110": "MAT.SLUDGE.INDBIO",
    "050111": "MAT.CHEM.ALKALI",  # spent caustic
    "050113": "MAT.SLUDGE.WATERWORKS",  # boiler feedwater
    "050114": "MAT.SLUDGE.WATERWORKS",  # cooling columns
    "050115": "MAT.CHEM.ADSORB",  # spent filter clays
    "050116": "MAT.CHEM.SULPHUR",
    "050117": "MAT.OIL.TAR",  # bitumen
    "050199": "MAT.OIL",
    "050604": "MAT.SLUDGE.WATERWORKS",
    "050701": "MAT.RESID.HAZ",  # mercury
    "050702": "MAT.CHEM.SULPHUR",
    # 06 inorganic chemistry
    "060201": "MAT.LIME.KILNDUST",  # calcium hydroxide
    "060203": "MAT.CHEM.AMMONIA",
    "060311": "MAT.RESID.HAZ",  # cyanides
    "060315": "MAT.MET.DUST",
    "060316": "MAT.MET.DUST",
    "060403": "MAT.RESID.HAZ",  # arsenic
    "060404": "MAT.RESID.HAZ",  # mercury
    "060701": "MAT.RESID.HAZ",  # asbestos
    "060702": "MAT.CHEM.ADSORB",
    "060703": "MAT.RESID.HAZ",  # mercury-bearing sludge
    "060704": "MAT.CHEM.ACID",
    "060802": "MAT.CHEM",  # chlorosilanes
    "060902": "MAT.SLAG.OTHER",  # phosphorus slag
    "060999": "MAT.CHEM",
    "061002": "MAT.CHEM",
    "061101": "MAT.GYP.CHEM",  # titanium dioxide gypsum
    "061301": "MAT.RESID.HAZ",  # biocides
    "061302": "MAT.CHEM.ADSORB",
    "061303": "MAT.FUEL.FOSSIL",  # carbon black
    "061304": "MAT.RESID.HAZ",  # asbestos
    "061305": "MAT.RESID.HAZ",  # soot
    # 07 exceptions to CHAPTER_07_BY_ENTRY
    "070213": "MAT.PLAS",  # production scrap, polymer unknown
    "070214": "MAT.CHEM.ORGRES",
    "070215": "MAT.CHEM.ORGRES",
    "070216": "MAT.CHEM.ORGRES",
    "070217": "MAT.CHEM.ORGRES",
    "070413": "MAT.RESID.HAZ",  # pesticide solids
    "070513": "MAT.RESID.HAZ",  # hazardous pharmaceutical solids
    "070514": "MAT.CHEM.ORGRES",
    # 08 paints, inks, adhesives
    "080121": "MAT.SOLV.SLUDGE",  # paint remover
    "080202": "MAT.SLUDGE.CHEM",  # ceramic sludges
    "080203": "MAT.SLUDGE.CHEM",
    "080316": "MAT.CHEM.ACID",  # etching solutions
    "080319": "MAT.OIL",  # disperse oil
    "080417": "MAT.CHEM.ORGRES",  # rosin oil
    # 09 photographic
    "090106": "MAT.MET.PRECIOUS",  # silver
    "090107": "MAT.MET.PRECIOUS",
    "090108": "MAT.RESID.MIXED",
    "090110": "MAT.EOL.WEEE",
    "090111": "MAT.EOL.WEEE",
    "090112": "MAT.EOL.WEEE",
    # 10 01 power stations and combustion plants
    "100101": "MAT.ASH.BOTTOM",
    "100102": "MAT.ASH.FLY",
    "100103": "MAT.ASH.BIO",  # peat and untreated wood
    "100104": "MAT.ASH.APC",  # oil fly ash
    "100105": "MAT.GYP.FGD",
    "100107": "MAT.GYP.FGD",
    "100109": "MAT.CHEM.ACID",
    "100113": "MAT.ASH.APC",
    "100114": "MAT.ASH.BOTTOM",
    "100115": "MAT.ASH.BOTTOM",
    "100116": "MAT.ASH.APC",
    "100117": "MAT.ASH.FLY",
    "100118": "MAT.ASH.APC",
    "100119": "MAT.ASH.APC",
    "100120": "MAT.SLUDGE.CHEM",
    "100121": "MAT.SLUDGE.CHEM",
    "100122": "MAT.SLUDGE.CHEM",
    "100123": "MAT.SLUDGE.CHEM",
    "100124": "MAT.ASH.BOTTOM",  # fluidised-bed sand
    "100125": "MAT.FUEL.FOSSIL",
    "100126": "MAT.SLUDGE.WATERWORKS",
    # 10 02 iron and steel: BF and steel slag share these codes, so the slag goes to the group
    "100201": "MAT.SLAG.FE",  # wastes from processing of slag
    "100202": "MAT.SLAG.FE",  # unprocessed slag
    "100207": "MAT.MET.DUST",
    "100208": "MAT.MET.DUST",
    "100210": "MAT.MET.SCALE",
    "100211": "MAT.OIL.SLUDGE",
    "100212": "MAT.SLUDGE.WATERWORKS",
    "100213": "MAT.MET.SLUDGE",
    "100214": "MAT.MET.SLUDGE",
    "100215": "MAT.MET.SLUDGE",
    # 10 03 aluminium
    "100302": "MAT.FUEL.FOSSIL",  # anode scraps
    "100305": "MAT.MET.DUST",  # waste alumina
    "100309": "MAT.MET.DROSS",
    "100315": "MAT.MET.DROSS",
    "100316": "MAT.MET.DROSS",
    "100317": "MAT.OIL.TAR",
    "100318": "MAT.FUEL.FOSSIL",
    "100319": "MAT.MET.DUST",
    "100320": "MAT.MET.DUST",
    "100321": "MAT.MET.DUST",
    "100322": "MAT.MET.DUST",
    "100323": "MAT.MET.DUST",
    "100324": "MAT.MET.DUST",
    "100325": "MAT.MET.SLUDGE",
    "100326": "MAT.MET.SLUDGE",
    "100327": "MAT.OIL.SLUDGE",
    "100328": "MAT.SLUDGE.WATERWORKS",
    # 10 04 lead
    "100402": "MAT.MET.DROSS",
    "100403": "MAT.RESID.HAZ",  # calcium arsenate
    "100404": "MAT.MET.DUST",
    "100405": "MAT.MET.DUST",
    "100406": "MAT.MET.DUST",
    "100407": "MAT.MET.SLUDGE",
    "100409": "MAT.OIL.SLUDGE",
    "100410": "MAT.SLUDGE.WATERWORKS",
    # 10 05 zinc
    "100503": "MAT.MET.DUST",
    "100504": "MAT.MET.DUST",
    "100505": "MAT.MET.DUST",
    "100506": "MAT.MET.SLUDGE",
    "100508": "MAT.OIL.SLUDGE",
    "100509": "MAT.SLUDGE.WATERWORKS",
    "100510": "MAT.MET.DROSS",
    "100511": "MAT.MET.DROSS",
    # 10 06 copper
    "100602": "MAT.MET.DROSS",
    "100603": "MAT.MET.DUST",
    "100604": "MAT.MET.DUST",
    "100606": "MAT.MET.DUST",
    "100607": "MAT.MET.SLUDGE",
    "100609": "MAT.OIL.SLUDGE",
    "100610": "MAT.SLUDGE.WATERWORKS",
    # 10 07 silver, gold, platinum (rest: precious-metal residues)
    "100701": "MAT.SLAG.NF",
    "100707": "MAT.OIL.SLUDGE",
    "100708": "MAT.SLUDGE.WATERWORKS",
    # 10 08 other non-ferrous
    "100804": "MAT.MET.DUST",
    "100810": "MAT.MET.DROSS",
    "100811": "MAT.MET.DROSS",
    "100812": "MAT.OIL.TAR",
    "100813": "MAT.FUEL.FOSSIL",
    "100814": "MAT.FUEL.FOSSIL",
    "100815": "MAT.MET.DUST",
    "100816": "MAT.MET.DUST",
    "100817": "MAT.MET.SLUDGE",
    "100818": "MAT.MET.SLUDGE",
    "100819": "MAT.OIL.SLUDGE",
    "100820": "MAT.SLUDGE.WATERWORKS",
    # 10 09 / 10 10 foundries (rest: foundry sand and residues)
    "100903": "MAT.SLAG.OTHER",
    "100909": "MAT.MET.DUST",
    "100910": "MAT.MET.DUST",
    "100911": "MAT.MET.DUST",
    "100912": "MAT.MET.DUST",
    "100915": "MAT.CHEM.LAB",
    "100916": "MAT.CHEM.LAB",
    "101003": "MAT.SLAG.NF",
    "101009": "MAT.MET.DUST",
    "101010": "MAT.MET.DUST",
    "101011": "MAT.MET.DUST",
    "101012": "MAT.MET.DUST",
    "101015": "MAT.CHEM.LAB",
    "101016": "MAT.CHEM.LAB",
    # 10 11 glass
    "101103": "MAT.CD.INSUL",  # glass-fibre waste
    "101105": "MAT.GLASS.POWDER",
    "101109": "MAT.GLASS.POWDER",
    "101110": "MAT.GLASS.POWDER",
    "101111": "MAT.GLASS.POWDER",
    "101112": "MAT.GLASS.CULLET",
    "101113": "MAT.GLASS.POWDER",
    "101114": "MAT.GLASS.POWDER",
    "101115": "MAT.ASH.APC",
    "101116": "MAT.ASH.APC",
    "101117": "MAT.ASH.APC",
    "101118": "MAT.ASH.APC",
    "101119": "MAT.SLUDGE.CHEM",
    "101120": "MAT.SLUDGE.CHEM",
    # 10 12 ceramics, bricks, tiles
    "101201": "MAT.MIN.CLAY",
    "101203": "MAT.MIN.CLAY",
    "101205": "MAT.ASH.APC",
    "101206": "MAT.GYP.BOARD",  # discarded plaster moulds
    "101209": "MAT.ASH.APC",
    "101210": "MAT.ASH.APC",
    "101211": "MAT.CHEM.PAINT",  # glazes
    "101212": "MAT.CHEM.PAINT",
    "101213": "MAT.SLUDGE.CHEM",
    # 10 13 cement, lime, plaster
    "101301": "MAT.MIN.CEMRAW",
    "101304": "MAT.LIME.KILNDUST",
    "101306": "MAT.LIME.KILNDUST",
    "101307": "MAT.LIME.KILNDUST",
    "101309": "MAT.RESID.HAZ",  # asbestos
    "101310": "MAT.CD.CONCRETE",
    "101311": "MAT.CD.CONCRETE",
    "101312": "MAT.ASH.APC",
    "101313": "MAT.LIME.KILNDUST",
    "101314": "MAT.CD.CONCRETE",
    # 11 surface treatment, hydrometallurgy, galvanising
    "110105": "MAT.CHEM.PICKLE",
    "110106": "MAT.CHEM.ACID",
    "110107": "MAT.CHEM.ALKALI",
    "110108": "MAT.SLUDGE.CHEM",
    "110109": "MAT.MET.SLUDGE",  # galvanic sludge
    "110110": "MAT.MET.SLUDGE",
    "110111": "MAT.CHEM.AQUEOUS",
    "110112": "MAT.CHEM.AQUEOUS",
    "110115": "MAT.CHEM.ADSORB",
    "110116": "MAT.CHEM.ADSORB",
    "110203": "MAT.MET.NF",  # anode production (lead)
    "110503": "MAT.MET.DUST",
    "110504": "MAT.CHEM.SALT",  # spent flux
    # 12 shaping of metals and plastics
    "120101": "MAT.MET.FESCRAP",
    "120102": "MAT.MET.DUST",
    "120103": "MAT.MET.NF",
    "120104": "MAT.MET.DUST",
    "120105": "MAT.PLAS",  # polymer unknown
    "120106": "MAT.OIL.LUBE",
    "120107": "MAT.OIL.LUBE",
    "120108": "MAT.OIL.EMULSION",
    "120109": "MAT.OIL.EMULSION",
    "120110": "MAT.OIL.LUBE",
    "120112": "MAT.OIL",
    "120114": "MAT.MET.SLUDGE",
    "120115": "MAT.MET.SLUDGE",
    "120116": "MAT.MIN",  # blasting grit
    "120117": "MAT.MIN",
    "120118": "MAT.MET.SLUDGE",
    "120119": "MAT.OIL.LUBE",
    "120120": "MAT.MIN",  # grinding bodies
    "120121": "MAT.MIN",
    "120302": "MAT.OIL.SLUDGE",
    # 13 oils
    "130101": "MAT.RESID.HAZ",  # PCB
    "130104": "MAT.OIL.EMULSION",
    "130105": "MAT.OIL.EMULSION",
    "130301": "MAT.RESID.HAZ",  # PCB
    "130506": "MAT.OIL",
    "130507": "MAT.OIL.EMULSION",
    "130802": "MAT.OIL.EMULSION",
    "130899": "MAT.OIL",
    # 14 solvents and refrigerants
    "140601": "MAT.GAS.OTHER",  # CFC, HCFC, HFC
    "140602": "MAT.SOLV.HAL",
    "140603": "MAT.SOLV.NONHAL",
    "140604": "MAT.SOLV.SLUDGE",
    "140605": "MAT.SOLV.SLUDGE",
    # 15 packaging and absorbents
    "150101": "MAT.PAPER.CARDBOARD",
    "150102": "MAT.PACK.PLASTIC",
    "150103": "MAT.WOOD.CLEAN",
    "150104": "MAT.MET.MIXED",
    "150105": "MAT.PACK.MIXED",
    "150106": "MAT.PACK.MIXED",
    "150107": "MAT.GLASS.CULLET",
    "150109": "MAT.TEXT.INDUSTRIAL",
    "150110": "MAT.PACK.CONTAM",
    "150111": "MAT.PACK.CONTAM",
    "150202": "MAT.RESID.HAZ",  # contaminated absorbents and rags
    # 16 01 vehicles
    "160103": "MAT.RUBBER.TYRES",
    "160108": "MAT.RESID.HAZ",  # mercury
    "160109": "MAT.RESID.HAZ",  # PCB
    "160110": "MAT.RESID.HAZ",  # explosive components
    "160111": "MAT.RESID.HAZ",  # asbestos brake pads
    "160113": "MAT.CHEM.ORGRES",  # brake fluid (glycol)
    "160114": "MAT.CHEM.ORGRES",  # antifreeze (glycol)
    "160115": "MAT.CHEM.ORGRES",
    "160116": "MAT.MET.FESCRAP",
    "160117": "MAT.MET.FESCRAP",
    "160118": "MAT.MET.NF",
    "160119": "MAT.PLAS.MIXED",
    "160120": "MAT.GLASS.FLAT",
    "160121": "MAT.RESID.HAZ",
    # 16 02 electrical equipment
    "160209": "MAT.RESID.HAZ",  # PCB
    "160210": "MAT.RESID.HAZ",  # PCB
    "160212": "MAT.RESID.HAZ",  # asbestos
    "160215": "MAT.RESID.HAZ",
    # 16 03 .. 16 11
    "160307": "MAT.RESID.HAZ",  # metallic mercury
    "160504": "MAT.GAS",  # gases in pressure containers: gas type unknown
    "160505": "MAT.GAS",
    "160606": "MAT.CHEM.ACID",  # battery electrolyte
    "160708": "MAT.OIL.SLUDGE",
    # 17 construction and demolition
    "170101": "MAT.CD.CONCRETE",
    "170102": "MAT.CD.BRICK",
    "170103": "MAT.CD.BRICK",
    "170201": "MAT.WOOD.MIXED",
    "170202": "MAT.GLASS.FLAT",
    "170203": "MAT.PLAS.MIXED",
    "170204": "MAT.WOOD.TREATED",  # e.g. railway sleepers
    "170303": "MAT.OIL.TAR",
    "170401": "MAT.MET.CU",
    "170402": "MAT.MET.AL",
    "170403": "MAT.MET.NF",
    "170404": "MAT.MET.NF",
    "170405": "MAT.MET.FESCRAP",
    "170406": "MAT.MET.NF",
    "170410": "MAT.MET.CABLE",
    "170411": "MAT.MET.CABLE",
    "170507": "MAT.MIN.AGGR",  # track ballast
    "170508": "MAT.MIN.AGGR",
    "170601": "MAT.RESID.HAZ",  # asbestos
    "170605": "MAT.RESID.HAZ",  # asbestos
    "170901": "MAT.RESID.HAZ",  # mercury
    "170902": "MAT.RESID.HAZ",  # PCB
    # 19 01 incineration and pyrolysis
    "190102": "MAT.MET.FESCRAP",
    "190105": "MAT.ASH.APC",
    "190106": "MAT.CHEM.AQUEOUS",
    "190107": "MAT.ASH.APC",
    "190110": "MAT.CHEM.ADSORB",
    "190111": "MAT.ASH.IBA",
    "190112": "MAT.ASH.IBA",
    "190113": "MAT.ASH.APC",
    "190114": "MAT.ASH.FLY",
    "190115": "MAT.ASH.APC",
    "190116": "MAT.ASH.FLY",
    "190117": "MAT.FUEL.FOSSIL",  # pyrolysis char
    "190118": "MAT.FUEL.FOSSIL",
    "190119": "MAT.ASH.BOTTOM",  # fluidised-bed sand
    # 19 02 .. 19 04 physico-chemical treatment, stabilisation, vitrification
    "190203": "MAT.RESID.MIXED",
    "190204": "MAT.RESID.HAZ",
    "190205": "MAT.SLUDGE.CHEM",
    "190206": "MAT.SLUDGE.CHEM",
    "190207": "MAT.OIL",
    "190208": "MAT.FUEL.LIQUID",
    "190209": "MAT.FUEL.SRF",
    "190210": "MAT.FUEL.SRF",
    "190211": "MAT.RESID.HAZ",
    "190308": "MAT.RESID.HAZ",  # partly stabilised mercury
    "190402": "MAT.ASH.APC",
    "190403": "MAT.RESID.HAZ",
    "190404": "MAT.CHEM.AQUEOUS",
    # 19 05 .. 19 09 composting, digestion, wastewater and water treatment
    "190501": "MAT.RESID.MIXED",
    "190502": "MAT.AGRI.GREEN",  # oversize from composting
    "190801": "MAT.RESID.MIXED",  # screenings
    "190802": "MAT.MIN.SAND",  # grit from desanding
    "190805": "MAT.SLUDGE.SEWAGE",
    "190806": "MAT.CHEM.ADSORB",
    "190807": "MAT.CHEM.ADSORB",
    "190808": "MAT.RESID.HAZ",
    "190809": "MAT.FOOD.FAT",  # grease from edible oils and fats
    "190810": "MAT.OIL.SLUDGE",
    "190811": "MAT.SLUDGE.CHEM",
    "190812": "MAT.SLUDGE.INDBIO",
    "190813": "MAT.SLUDGE.CHEM",
    "190814": "MAT.SLUDGE.CHEM",
    "190901": "MAT.RESID.MIXED",
    "190903": "MAT.SLUDGE.LIME",  # decarbonation sludge
    "190904": "MAT.CHEM.ADSORB",
    "190905": "MAT.CHEM.ADSORB",
    "190906": "MAT.CHEM.ADSORB",
    # 19 10 .. 19 13 shredding, oil regeneration, mechanical treatment, remediation
    "191001": "MAT.MET.FESCRAP",
    "191002": "MAT.MET.NF",
    "191101": "MAT.CHEM.ADSORB",
    "191102": "MAT.OIL.TAR",
    "191103": "MAT.CHEM.AQUEOUS",
    "191104": "MAT.CHEM.ALKALI",
    "191106": "MAT.SLUDGE.CHEM",
    "191107": "MAT.ASH.APC",
    "191199": "MAT.OIL",
    "191201": "MAT.PAPER.MIXED",
    "191202": "MAT.MET.FESCRAP",
    "191203": "MAT.MET.NF",
    "191204": "MAT.PLAS.MIXED",  # plastic and rubber
    "191205": "MAT.GLASS.CULLET",
    "191206": "MAT.WOOD.TREATED",
    "191207": "MAT.WOOD.MIXED",
    "191208": "MAT.TEXT",
    "191209": "MAT.MIN.SAND",
    "191210": "MAT.FUEL.SRF",
    "191211": "MAT.RESID.HAZ",
    "191303": "MAT.SLUDGE.CHEM",
    "191304": "MAT.SLUDGE.CHEM",
    "191305": "MAT.SLUDGE.CHEM",
    "191306": "MAT.SLUDGE.CHEM",
    "191307": "MAT.CHEM.AQUEOUS",
    "191308": "MAT.CHEM.AQUEOUS",
    # 20 municipal
    "200101": "MAT.PAPER.MIXED",
    "200102": "MAT.GLASS.CULLET",
    "200108": "MAT.FOOD.KITCHEN",
    "200110": "MAT.TEXT.CLOTHING",
    "200111": "MAT.TEXT.CLOTHING",
    "200113": "MAT.SOLV",
    "200114": "MAT.CHEM.ACID",
    "200115": "MAT.CHEM.ALKALI",
    "200117": "MAT.CHEM.LAB",
    "200119": "MAT.RESID.HAZ",  # pesticides
    "200121": "MAT.EOL.WEEE",  # fluorescent tubes
    "200123": "MAT.EOL.WEEE",
    "200125": "MAT.FOOD.FAT",
    "200126": "MAT.OIL",
    "200127": "MAT.CHEM.PAINT",
    "200128": "MAT.CHEM.PAINT",
    "200129": "MAT.CHEM.LAB",
    "200130": "MAT.CHEM.LAB",
    "200131": "MAT.RESID.HEALTH",
    "200132": "MAT.RESID.HEALTH",
    "200133": "MAT.EOL.BATTERY",
    "200134": "MAT.EOL.BATTERY",
    "200135": "MAT.EOL.WEEE",
    "200136": "MAT.EOL.WEEE",
    "200137": "MAT.WOOD.TREATED",
    "200138": "MAT.WOOD.MIXED",
    "200139": "MAT.PLAS.MIXED",
    "200140": "MAT.MET.MIXED",
    "200141": "MAT.ASH",  # chimney sweeping
    "200202": "MAT.CD.SOIL",
    "200203": "MAT.RESID.MIXED",
    "200302": "MAT.FOOD.KITCHEN",  # market waste
    "200304": "MAT.SLUDGE.SEWAGE",  # septic tank sludge
    "200306": "MAT.SLUDGE.SEWAGE",
}


def read_csv(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def code_rules(ewc_codes: list[str]) -> dict[str, str]:
    """CODE_RULES plus the chapter-07 entry table expanded to single codes (explicit entries win)."""
    rules = {
        c: CHAPTER_07_BY_ENTRY[c[4:]]
        for c in ewc_codes
        if c.startswith("07") and c[4:] in CHAPTER_07_BY_ENTRY
    }
    rules.update(CODE_RULES)
    return rules


def build(ewc_rows: list[dict[str, str]], categories: dict[str, str]) -> list[tuple[str, str, str]]:
    """(ewc_code, category_code, rule) for every EWC code, in code order."""
    codes = [r["code"] for r in ewc_rows]
    assert all(len(c) == 6 and c.isdigit() for c in codes), "EWC codes must be six digits as text"
    assert len(set(codes)) == len(codes), "duplicate EWC code in ewc_codes.csv"
    by_code = code_rules(codes)
    unknown_codes = sorted(set(CODE_RULES) - set(codes))
    assert not unknown_codes, f"CODE_RULES name codes not in the list: {unknown_codes}"
    unknown_subs = sorted(set(SUB_CHAPTER_RULES) - {c[:4] for c in codes})
    assert not unknown_subs, f"SUB_CHAPTER_RULES name unknown sub-chapters: {unknown_subs}"
    unknown_chapters = sorted(set(CHAPTER_RULES) - {c[:2] for c in codes})
    assert not unknown_chapters, f"CHAPTER_RULES name unknown chapters: {unknown_chapters}"
    for target in {*by_code.values(), *SUB_CHAPTER_RULES.values(), *CHAPTER_RULES.values()}:
        assert target in categories, f"unknown category {target}"
        assert categories[target] == "material", f"{target} is not a material category"

    out = []
    for code in sorted(codes):
        if code in by_code:
            out.append((code, by_code[code], "code"))
        elif code[:4] in SUB_CHAPTER_RULES:
            out.append((code, SUB_CHAPTER_RULES[code[:4]], f"sub_chapter {code[:2]} {code[2:4]}"))
        elif code[:2] in CHAPTER_RULES:
            out.append((code, CHAPTER_RULES[code[:2]], f"chapter {code[:2]}"))
        else:
            raise AssertionError(f"EWC code {code} is not mapped")
    assert len(out) == len(codes) == len({row[0] for row in out})
    return out


def main() -> None:
    ewc_rows = read_csv("ewc_codes.csv")
    categories = {r["code"]: r["kind"] for r in read_csv("resource_categories.csv")}
    rows = build(ewc_rows, categories)
    with open(DATA_DIR / "ewc_category_map.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["ewc_code", "category_code", "rule"])
        writer.writerows(rows)
    kinds = Counter(row[2].split(" ")[0] for row in rows)
    print(
        f"wrote {len(rows)} codes to ewc_category_map.csv: "
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    )


if __name__ == "__main__":
    main()
