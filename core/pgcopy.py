"""PostgreSQL binary COPY from NumPy columns: one buffer built by NumPy, no per-row Python.

Every column must be fixed-width and non-null (bigint, integer, smallint, boolean, double precision);
the row layout is then the same for every row, so the whole payload is one structured array.
Binary COPY does no type coercion: the dtypes below must match the table's column types exactly,
which ``copy_columns`` checks against the model fields before sending anything.
"""

from __future__ import annotations

import io

import numpy as np
from django.db import connection

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_TRAILER = (-1).to_bytes(2, "big", signed=True)
_DTYPES = {
    "BigIntegerField": ">i8", "BigAutoField": ">i8", "ForeignKey": ">i8",
    "IntegerField": ">i4", "PositiveIntegerField": ">i4", "SmallIntegerField": ">i2",
    "PositiveSmallIntegerField": ">i2", "BooleanField": "?", "FloatField": ">f8",
}


def _dtype(model, name: str) -> str:
    field = model._meta.get_field(name)
    kind = field.get_internal_type()
    if kind == "ForeignKey":
        kind = field.target_field.get_internal_type()
    try:
        return _DTYPES[kind]
    except KeyError:
        raise TypeError(f"{model.__name__}.{name}: {kind} is not a fixed-width type for binary COPY") from None


def binary_payload(model, columns: dict[str, np.ndarray]) -> bytes:
    """The COPY ... (FORMAT binary) payload of ``columns`` (name -> array, all of one length)."""
    names = list(columns)
    n = len(next(iter(columns.values()))) if names else 0
    fields = [("count", ">i2")]
    for name in names:
        dt = np.dtype(_dtype(model, name))
        fields += [(f"{name}__len", ">i4"), (name, dt)]
    rec = np.empty(n, dtype=fields)
    rec["count"] = len(names)
    for name in names:
        rec[f"{name}__len"] = rec.dtype[name].itemsize
        rec[name] = columns[name]
    return _SIGNATURE + rec.tobytes() + _TRAILER


def copy_columns(model, columns: dict[str, np.ndarray]) -> int:
    """Insert the rows given as columns into ``model``'s table with binary COPY; returns the count."""
    db_columns = [model._meta.get_field(name).column for name in columns]
    payload = binary_payload(model, columns)
    with connection.cursor() as cur:
        cur.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(model._meta.db_table)} "
            f"({', '.join(connection.ops.quote_name(c) for c in db_columns)}) FROM STDIN WITH (FORMAT binary)",
            io.BytesIO(payload),
        )
    return len(next(iter(columns.values()))) if columns else 0
