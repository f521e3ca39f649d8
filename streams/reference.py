"""Loading the shipped resource taxonomy, EWC codes and substitution rules (see DATA.md).

Loaders take model classes so that data migrations can pass historical models, and are idempotent:
rows are matched by natural key and updated in place; nothing is duplicated on a re-run.
"""

from __future__ import annotations

import csv
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_taxonomy(ResourceCategory, EwcCode, SubstitutionRule) -> dict[str, int]:  # noqa: N803
    """Load categories (parents before children), EWC codes with their category, and substitution rules."""
    rows = _rows("resource_categories.csv")
    parent_codes = {r["parent_code"] for r in rows if r["parent_code"]}
    existing = {c.code: c for c in ResourceCategory.objects.all()}
    # Parents first: sort by depth of the dotted code, then code.
    rows.sort(key=lambda r: (r["code"].count("."), r["code"]))
    for r in rows:
        code = r["code"].strip()
        fields = {
            "parent": existing.get(r["parent_code"].strip()) if r["parent_code"].strip() else None,
            "kind": r["kind"].strip(),
            "name": r["name"].strip(),
            "description": r.get("description", "").strip(),
            "value_class": r.get("value_class", "").strip(),
            "level": code.count("."),
            "is_leaf": code not in parent_codes,
        }
        obj = existing.get(code)
        if obj is None:
            obj = ResourceCategory.objects.create(code=code, **fields)
            existing[code] = obj
        elif any(getattr(obj, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(obj, k, v)
            obj.save()

    category_of = {r["ewc_code"].strip(): r["category_code"].strip() for r in _rows("ewc_category_map.csv")}
    ewc_existing = {e.code: e for e in EwcCode.objects.all()}
    new, changed = [], []
    for r in _rows("ewc_codes.csv"):
        code = r["code"].strip().zfill(6)
        entry = r["entry_type"].strip()
        fields = {
            "description": r["description"].strip(),
            "chapter_title": r["chapter"].strip(),
            "sub_chapter_title": r["sub_chapter"].strip(),
            "is_hazardous": r["is_hazardous"].strip().lower() == "true",
            "is_mirror": entry.lower().startswith("mirror"),
            "entry_type": entry,
            "category": existing[category_of[code]],
        }
        obj = ewc_existing.get(code)
        if obj is None:
            new.append(EwcCode(code=code, **fields))
        elif any(getattr(obj, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(obj, k, v)
            changed.append(obj)
    EwcCode.objects.bulk_create(new)
    for obj in changed:
        obj.save()

    rules = 0
    for r in _rows("substitution_rules.csv"):
        SubstitutionRule.objects.update_or_create(
            offer_category=existing[r["offer_category"].strip()],
            need_category=existing[r["need_category"].strip()],
            defaults={"factor": float(r["factor"]), "source": r["source"].strip()[:300]},
        )
        rules += 1
    return {"categories": len(existing), "ewc_new": len(new), "ewc_changed": len(changed), "rules": rules}
