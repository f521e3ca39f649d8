"""Loading and looking up shipped reference data: NACE Rev. 2 / 2.1 and Baltic Sea regions.

Loaders take the model classes as arguments so that data migrations can pass their historical
models; they are idempotent (update or create by natural key), so re-running changes nothing.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_nace(NaceCode, NaceCorrespondence) -> int:  # noqa: N803 (model classes)
    """Load both NACE revisions and their class-level correspondence; return rows touched."""
    touched = 0
    by_key = {}
    for revision, filename in (("2", "nace_rev2.csv"), ("2.1", "nace_rev21.csv")):
        existing = {n.code: n for n in NaceCode.objects.filter(revision=revision)}
        new = []
        for row in _rows(filename):
            code = row["code"].strip()
            obj = existing.get(code)
            fields = {
                "level": int(row["level"]),
                "parent_code": row["parent_code"].strip(),
                "title": row["title"].strip(),
                "compact": code.replace(".", ""),
            }
            if obj is None:
                obj = NaceCode(revision=revision, code=code, **fields)
                new.append(obj)
            elif any(getattr(obj, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(obj, k, v)
                obj.save()
                touched += 1
            by_key[(revision, code)] = obj
        if new:
            NaceCode.objects.bulk_create(new)
            touched += len(new)
    for (revision, code), obj in list(by_key.items()):
        if obj.pk is None:
            by_key[(revision, code)] = NaceCode.objects.get(revision=revision, code=code)
    existing_pairs = set(NaceCorrespondence.objects.values_list("rev2_id", "rev21_id"))
    new_links = []
    for row in _rows("nace_rev2_to_rev21.csv"):
        if not row["rev2_code"]:
            continue
        rev2 = by_key[("2", row["rev2_code"])]
        rev21 = by_key[("2.1", row["rev21_code"])]
        if (rev2.pk, rev21.pk) in existing_pairs:
            continue
        new_links.append(
            NaceCorrespondence(
                rev2=rev2,
                rev21=rev21,
                correspondence_type=row["correspondence_type"],
                rev2_partial=row["rev2_partial"] == "1",
                rev21_partial=row["rev21_partial"] == "1",
            )
        )
    NaceCorrespondence.objects.bulk_create(new_links)
    return touched + len(new_links)


def load_regions(Region) -> int:  # noqa: N803
    touched = 0
    for row in _rows("regions.csv"):
        _, created = Region.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "country": row["country"],
                "latitude": float(row["latitude"]),
                "longitude": float(row["longitude"]),
            },
        )
        touched += created
    return touched


def normalise_nace_input(raw: str) -> str:
    """'1051', '10.51', ' 10.51 ' and 'C10.51' all become '1051' (compact form)."""
    s = (raw or "").strip().upper().replace(" ", "")
    if len(s) > 1 and s[0].isalpha() and s[1:2].isdigit():
        s = s[1:]
    return s.replace(".", "")


def resolve_nace(raw: str):
    """Find the Rev. 2.1 code for user input in either revision; return (code, note) or (None, error).

    Rev. 2.1 is tried first. A Rev. 2 code is mapped through the correspondence table; when a Rev. 2
    class was split, the Rev. 2.1 class with the same code is preferred, else the first link.
    """
    from companies.models import NaceCode

    compact = normalise_nace_input(raw)
    if not compact:
        return None, "Enter a NACE code."
    if not compact.isdigit() or not 2 <= len(compact) <= 4:
        return None, f"“{raw}” is not a NACE code (expected e.g. 10.51 or 1051)."
    hit = NaceCode.objects.filter(revision="2.1", compact=compact).first()
    if hit:
        return hit, ""
    old = NaceCode.objects.filter(revision="2", compact=compact).first()
    if old is None:
        return None, f"Unknown NACE code “{raw}” (neither Rev. 2.1 nor Rev. 2)."
    if old.level < 4:
        # Divisions and groups: take the Rev. 2.1 entry with the same code if there is one.
        same = NaceCode.objects.filter(revision="2.1", code=old.code).first()
        if same:
            return same, f"NACE Rev. 2 {old.code} read as Rev. 2.1 {same.code}."
        return None, f"NACE Rev. 2 group “{raw}” has no Rev. 2.1 equivalent; enter a class code."
    links = list(old.to_rev21.select_related("rev21").order_by("rev21__code"))
    if not links:
        return None, f"NACE Rev. 2 code “{raw}” has no Rev. 2.1 equivalent."
    chosen = next((link.rev21 for link in links if link.rev21.code == old.code), links[0].rev21)
    return chosen, f"NACE Rev. 2 {old.code} mapped to Rev. 2.1 {chosen.code}."


def nearest_region(latitude: float, longitude: float, country: str | None = None):
    """The region whose centre is nearest (within `country` when given): a default for new sites."""
    from companies.models import Region

    qs = Region.objects.exclude(latitude__isnull=True)
    if country:
        in_country = qs.filter(country=country)
        if in_country.exists():
            qs = in_country
    best, best_d = None, math.inf
    for r in qs:
        d = (r.latitude - latitude) ** 2 + ((r.longitude - longitude) * math.cos(math.radians(latitude))) ** 2
        if d < best_d:
            best, best_d = r, d
    return best
