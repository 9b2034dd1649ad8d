"""Spanish (es-ES) formatting of money, numbers, dates, percentages and file sizes (exact, from Decimal, no
Streamlit), and the Spanish sort order of names."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from portal.clock import to_madrid

EMPTY = "—"  # shown for a missing value
SIZE_UNITS = ("KB", "MB", "GB", "TB")  # of 1024 bytes each, as the operating systems show them

Number = Decimal | int | float | str


def _decimal(value: Number | None) -> Decimal | None:
    """The exact Decimal of a value; floats go through their shortest repr, never their binary expansion."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _grouped(digits: str) -> str:
    """'1234567' -> '1.234.567' (thousands separated by dots, also for four-digit numbers)."""
    groups = []
    while len(digits) > 3:
        digits, tail = digits[:-3], digits[-3:]
        groups.insert(0, tail)
    groups.insert(0, digits)
    return ".".join(groups)


def number(value: Number | None, decimals: int = 2) -> str:
    """1234.5 -> '1.234,50'; rounded half up to ``decimals``; None -> '—'."""
    exact = _decimal(value)
    if exact is None:
        return EMPTY
    quantum = Decimal(1).scaleb(-decimals)
    rounded = exact.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""  # a value that rounds to zero is never shown as '-0,00'
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    text = _grouped(whole)
    return f"{sign}{text},{fraction}" if decimals > 0 else f"{sign}{text}"


def integer(value: Number | None) -> str:
    """5000000 -> '5.000.000'; None -> '—'."""
    return number(value, decimals=0)


def money(value: Number | None) -> str:
    """Decimal('-1234.56') -> '-1.234,56 €'; None -> '—'."""
    text = number(value, decimals=2)
    return text if text == EMPTY else f"{text} €"


def percent(ratio: Number | None, decimals: int = 1) -> str:
    """A ratio as a Spanish percentage: Decimal('0.125') -> '12,5 %'; None -> '—'."""
    exact = _decimal(ratio)
    if exact is None:
        return EMPTY
    return f"{number(exact * 100, decimals)} %"


def date_es(value: date | str | None) -> str:
    """date(2025, 12, 31) -> '31/12/2025'; a datetime is shown by its Madrid date; None -> '—'."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = to_madrid(value).date()
    return value.strftime("%d/%m/%Y")


def datetime_es(value: datetime | str | None) -> str:
    """A moment in Madrid time: '31/12/2025 14:05'; naive values are taken as UTC (how the portal stores them)."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return to_madrid(value).strftime("%d/%m/%Y %H:%M")


def file_size(size: int | None) -> str:
    """A file size as people read it: 512 -> '512 bytes', 3789 -> '3,7 KB', 1_258_291 -> '1,2 MB' (units of 1024,
    one decimal rounded half up, never '1.024,0 KB'); None -> '—'."""
    exact = _decimal(size)
    if exact is None:
        return EMPTY
    if abs(exact) < 1024:
        return f"{integer(exact)} {'byte' if exact == 1 else 'bytes'}"
    for unit in SIZE_UNITS:
        exact /= 1024
        shown = exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if abs(shown) < 1024 or unit == SIZE_UNITS[-1]:
            return f"{number(shown, 1)} {unit}"
    raise AssertionError("unreachable")


def fold(text: str | None) -> str:
    """Lower case without accents: how names are searched and compared ('Depósitos' matches 'depositos')."""
    return "".join(c for c in unicodedata.normalize("NFKD", (text or "").casefold()) if not unicodedata.combining(c))


def sort_key(text: str | None) -> str:
    """The key that sorts names as a Spanish reader expects: case and accents ignored («Álvarez» with the A,
    «Ábaco» before «abeto»), and ñ a letter after n («Muñoz» after «Munoz», «Ñoño» after «Nuzzo», before «Oliva»)."""
    return fold(unicodedata.normalize("NFC", (text or "").casefold()).replace("ñ", "n\U0010ffff"))
