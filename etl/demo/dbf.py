"""A tiny dBase III writer for the demo firm and the tests: ContaPlus's DIARIO.DBF (the ETL reads it with dbfread)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WINDOWS_1252 = 0x03  # language driver byte (dbfread.codepages)


@dataclass(frozen=True)
class DbfField:
    """One field of the table: name, dBase type (C, N, D), width and decimals."""

    name: str
    type: str
    length: int
    decimals: int = 0


# The journal of ContaPlus (field order and widths as ContaPlus writes them; the ones the ETL ignores are left out).
DIARIO_FIELDS = (
    DbfField("ASIEN", "N", 6),
    DbfField("FECHA", "D", 8),
    DbfField("SUBCTA", "C", 12),
    DbfField("CONTRA", "C", 12),
    DbfField("PTADEBE", "N", 12),
    DbfField("CONCEPTO", "C", 25),
    DbfField("PTAHABER", "N", 12),
    DbfField("DOCUMENTO", "C", 6),
    DbfField("MONEDAUSO", "C", 1),
    DbfField("EURODEBE", "N", 16, 2),
    DbfField("EUROHABER", "N", 16, 2),
)


def dbf_bytes(
    fields: tuple[DbfField, ...],
    records: list[dict[str, object]],
    *,
    updated: date,
    language_driver: int = WINDOWS_1252,
    encoding: str = "cp1252",
    deleted: frozenset[int] = frozenset(),
) -> bytes:
    """A dBase III table; ``deleted`` holds the indexes (from 0) of the records marked deleted."""
    record_length = 1 + sum(f.length for f in fields)
    header_length = 32 + 32 * len(fields) + 1
    header = struct.pack(
        "<BBBBIHH17xB2x",
        0x03,
        updated.year - 1900,
        updated.month,
        updated.day,
        len(records),
        header_length,
        record_length,
        language_driver,
    )
    descriptors = b"".join(
        struct.pack("<11sc4xBB14x", f.name.encode("ascii"), f.type.encode("ascii"), f.length, f.decimals)
        for f in fields
    )
    body = b"".join(
        (b"*" if i in deleted else b" ") + b"".join(_value(f, record.get(f.name), encoding) for f in fields)
        for i, record in enumerate(records)
    )
    return header + descriptors + b"\r" + body + b"\x1a"


def _value(field: DbfField, value: object, encoding: str) -> bytes:
    """One field as dBase writes it: text left-aligned, numbers right-aligned, dates YYYYMMDD."""
    if field.type == "D":
        text = value.strftime("%Y%m%d") if isinstance(value, date) else str(value or "")
        return text.encode("ascii").ljust(field.length)[: field.length]
    if field.type == "N":
        if value is None:
            return b" " * field.length
        number = Decimal(str(value))
        text = f"{number:.{field.decimals}f}" if field.decimals else f"{number:.0f}"
        return text.encode("ascii").rjust(field.length)[: field.length]
    return str(value or "").encode(encoding, errors="replace").ljust(field.length)[: field.length]
