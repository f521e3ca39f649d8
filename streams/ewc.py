"""EWC codes as people type them: "10 01 02", "100102" and the hazardous "10 01 02*" are one code.

The apps read every typed code through these (the page form, the API, the import sheet, the search
filters); the stored form is six digits (`EwcCode.code`). The engine keeps its own pure copy
(matching/engine/compat.py) because it imports nothing of the project.
"""

from __future__ import annotations


def normalise_ewc(code) -> str:
    """The stored form of a typed code: spaces and the hazardous mark dropped ('10 01 02*' -> '100102')."""
    return str(code).replace(" ", "").replace("*", "").strip()


def is_ewc_code(code) -> bool:
    """Whether a typed code has the shape of an EWC entry: six digits once normalised."""
    code = normalise_ewc(code)
    return code.isdigit() and len(code) == 6


def split_ewc_codes(text: str) -> list[str]:
    """The codes of a typed list, separated by semicolons or commas ('10 01 02; 10 01 05')."""
    return [part.strip() for part in (text or "").replace(",", ";").split(";") if part.strip()]
