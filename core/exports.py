"""Helpers shared by every CSV/XLSX export."""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Neutralise spreadsheet formulas: text starting with = + - @ (or a tab/CR) gets a leading quote
    so that Excel and LibreOffice show it as text instead of evaluating it (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
