"""AEAT return files (diseños de registro): fixed-position records of models 303, 111, 115 and 130, read by layout.

A tax program writes each return as one ISO-8859-1 line (docs/sources.md §4, «Ficheros de la AEAT»):

    <T3030AAAAPP0000><AUX>…300…</AUX><T30301000>…page 01…</T30301000><T30303000>…</T30303000></T3030AAAAPP0000>

The envelope (model, exercise, period and the <AUX> block) is the same for every model; each page's fields come from
the layout files ``etl/aeat/<model>_<valid from>.csv`` (one per model and design version), picked by model and
exercise. Only the listed fields are read and each is checked by its type: ``Const`` (exact text), ``An`` (text),
``A`` (letters or blank), ``Num`` (digits, zero-padded, ``decimals`` implied decimals) and ``N`` (a number whose first
position is ``N`` when negative). Pages the layout does not list are skipped. A problem raises ``AeatError`` with the
Spanish reason naming page, position and field; the caller adds the file name.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

LAYOUTS = Path(__file__).resolve().parent.parent / "aeat"
FOLDER = "aeat"  # impuestos/aeat/*.txt
SUFFIX = ".txt"
ENCODING = "iso-8859-1"  # prescribed by the AEAT designs
ENVELOPE = re.compile(r"<T(\d{3})0(\d{4})(\d[T\d])0000>")
AUX_LENGTH = 311  # <AUX> + 300 positions + </AUX>
HEAD_LENGTH = 17 + AUX_LENGTH
PAGE = re.compile(r"<T(\d{3})([0-9A-Z]{5})>")
TYPES = ("Const", "An", "A", "Num", "N")
# Tipo de declaración (position 13 of page 01) -> the portal's tipo_resultado (docs/sources.md §4). Codes from the
# designs' notes: 303 (I, U, G, N, C, D, V, X), 111/115 (I, U, G, N), 130 (I, U, G, N, B).
RESULT_CODES: dict[str, dict[str, str]] = {
    "303": {
        "I": "ingreso",
        "U": "domiciliacion",
        "G": "ingreso",
        "N": "sin_actividad",
        "C": "compensar",
        "D": "devolucion",
        "V": "devolucion",
        "X": "devolucion",
    },
    "111": {"I": "ingreso", "U": "domiciliacion", "G": "ingreso", "N": "sin_actividad"},
    "115": {"I": "ingreso", "U": "domiciliacion", "G": "ingreso", "N": "sin_actividad"},
    "130": {"I": "ingreso", "U": "domiciliacion", "G": "ingreso", "N": "sin_actividad", "B": "compensar"},
}


class AeatError(ValueError):
    """A bad AEAT file: the Spanish reason (page, position, field)."""


@dataclass(frozen=True)
class Field:
    """One field of a page: 1-based position, length, type, implied decimals, box number and semantic name."""

    page: str
    position: int
    length: int
    type: str
    decimals: int
    box: str
    name: str
    value: str
    description: str

    @property
    def label(self) -> str:
        """'casilla 27', 'tipo_declaracion' or the description, for messages."""
        return f"casilla {self.box}" if self.box else self.name or self.description


@dataclass(frozen=True)
class Layout:
    """One design version of a model: its pages' fields, from which exercise it applies and whether it was verified."""

    model: str
    valid_from: int
    file_name: str
    verified: bool
    pages: dict[str, tuple[Field, ...]]

    def page_length(self, page: str) -> int:
        """A page's record length: the end of its last field (the end-of-record constant)."""
        return max(f.position + f.length - 1 for f in self.pages[page])


@dataclass(frozen=True)
class Box:
    """A box read from a file: number, description, amount, whether it is a count, its order in the layout."""

    box: str
    description: str
    amount: Decimal
    is_count: bool
    order: int


@dataclass(frozen=True)
class AeatReturn:
    """One return read from a file: identity, declaration type, result, boxes and the layout used."""

    model: str
    year: int
    period: str
    type_code: str
    result_type: str | None  # None: a code the model does not have
    result_box: str
    amount: Decimal
    nif: str
    boxes: tuple[Box, ...]
    layout: str


def _layout(path: Path) -> Layout:
    """One layout file (';', UTF-8, header ``model;valid_from;page;position;length;type;decimals;box;field;…``)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    pages: dict[str, list[Field]] = {}
    for r in rows:
        if r["type"] not in TYPES:
            raise ValueError(f"{path.name}: tipo «{r['type']}» desconocido")
        field = Field(
            r["page"],
            int(r["position"]),
            int(r["length"]),
            r["type"],
            int(r["decimals"] or 0),
            r["box"],
            r["field"],
            r["value"],
            r["description"],
        )
        pages.setdefault(field.page, []).append(field)
    first = rows[0]
    return Layout(
        first["model"],
        int(first["valid_from"]),
        path.name,
        all(r["verified"] == "s" for r in rows),
        {p: tuple(sorted(fields, key=lambda f: f.position)) for p, fields in pages.items()},
    )


@functools.cache
def layouts(folder: Path = LAYOUTS) -> tuple[Layout, ...]:
    """Every layout file of ``folder``, by model and exercise."""
    return tuple(sorted((_layout(p) for p in folder.glob("*.csv")), key=lambda lay: (lay.model, lay.valid_from)))


def layout_for(model: str, year: int, folder: Path = LAYOUTS) -> Layout | None:
    """The newest layout of ``model`` valid for exercise ``year`` (None when there is none)."""
    found = [lay for lay in layouts(folder) if lay.model == model and lay.valid_from <= year]
    return found[-1] if found else None


# --- reading --------------------------------------------------------------------------------------------------------


def _value(field: Field, text: str, where: str) -> str | Decimal:
    """The field's value checked by its type (raises AeatError naming page, position and field)."""
    bad = f"{where}: «{text}» "
    if field.type == "Const":
        if text != field.value:
            raise AeatError(f"{bad}debería ser «{field.value}»")
        return text
    if field.type in ("An", "A"):
        if any(not ch.isprintable() for ch in text):
            raise AeatError(f"{bad}tiene caracteres de control")
        if field.type == "A" and not all(ch.isalpha() or ch == " " for ch in text):
            raise AeatError(f"{bad}solo admite letras")
        return text.rstrip()
    negative = field.type == "N" and text.startswith("N")
    digits = text[1:] if negative else text
    if not (digits.isascii() and digits.isdigit()):
        kind = "un número (cifras; «N» delante si es negativo)" if field.type == "N" else "un número (solo cifras)"
        raise AeatError(f"{bad}no es {kind}")
    amount = Decimal(int(digits)).scaleb(-field.decimals)
    return -amount if negative else amount


def _page(text: str, fields: tuple[Field, ...], page: str) -> dict[Field, str | Decimal]:
    """Every listed field of one page record."""
    return {
        f: _value(
            f,
            text[f.position - 1 : f.position - 1 + f.length],
            f"página {page[:2]}, posición {f.position} ({f.label}, longitud {f.length})",
        )
        for f in fields
    }


def _pages(body: str, model: str) -> dict[str, str]:
    """The page records between the envelope's <AUX> block and its closing tag, by page id."""
    found: dict[str, str] = {}
    at = 0
    while at < len(body):
        opening = PAGE.match(body, at)
        if opening is None or opening.group(1) != model:
            raise AeatError(
                f"posición {HEAD_LENGTH + at + 1}: se esperaba el comienzo de una página «<T{model}…>» "
                f"y hay «{body[at : at + 11]}»"
            )
        page = opening.group(2)
        closing = f"</T{model}{page}>"
        end = body.find(closing, at)
        if end < 0:
            raise AeatError(f"página {page[:2]}: falta el indicador de fin de registro «{closing}»")
        if page in found:
            raise AeatError(f"la página {page[:2]} está repetida")
        found[page] = body[at : end + len(closing)]
        at = end + len(closing)
    return found


def _utf8_hint(content: bytes) -> str:
    """A note when the file looks UTF-8 (its accents take two bytes, so every length is off)."""
    try:
        content.decode("ascii")
    except UnicodeDecodeError:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return ""
        return " (el archivo parece estar en UTF-8; la AEAT exige ISO-8859-1)"
    return ""


def parse(content: bytes, folder: Path = LAYOUTS) -> AeatReturn:
    """One AEAT return file (ISO-8859-1, one line, optionally ending in CRLF/LF) read with its model's layout."""
    try:
        return _parse(content.decode(ENCODING), folder)
    except AeatError as exc:
        raise AeatError(f"{exc}{_utf8_hint(content)}") from None


def _parse(text: str, folder: Path) -> AeatReturn:
    """The return in ``text`` (the file decoded as ISO-8859-1)."""
    text = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
    if "\n" in text or "\r" in text:
        raise AeatError("el archivo tiene más de una línea (debe ser una sola declaración en una línea)")
    head = ENVELOPE.match(text)
    if head is None:
        raise AeatError(
            f"posición 1: «{text[:17]}» no es el comienzo de una declaración de la AEAT (por ejemplo «<T3030"
            "20241T0000>»)"
        )
    model, year_text, period = head.groups()
    year = int(year_text)
    layout = layout_for(model, year, folder)
    if layout is None:
        known = sorted({lay.model for lay in layouts(folder)})
        raise AeatError(
            f"no hay diseño de registro del modelo {model} para el ejercicio {year} "
            f"(modelos que se leen: {', '.join(known)})"
        )
    if text[17:22] != "<AUX>" or text[HEAD_LENGTH - 6 : HEAD_LENGTH] != "</AUX>":
        raise AeatError("posiciones 18–328: falta el bloque «<AUX>…</AUX>» de 311 posiciones")
    closing = f"</T{model}0{year_text}{period}0000>"
    if not text.endswith(closing):
        raise AeatError(f"falta el cierre «{closing}» al final del archivo")
    pages = _pages(text[HEAD_LENGTH : -len(closing)], model)
    values: dict[Field, str | Decimal] = {}
    for page, fields in layout.pages.items():
        if page not in pages:
            raise AeatError(f"falta la página {page[:2]} («<T{model}{page}>»)")
        expected = layout.page_length(page)
        if len(pages[page]) != expected:
            raise AeatError(
                f"página {page[:2]}: mide {len(pages[page])} posiciones y el diseño {layout.file_name} dice {expected}"
            )
        values |= _page(pages[page], fields, page)
    named = {f.name: v for f, v in values.items() if f.name}
    if named.get("ejercicio") != year or named.get("periodo") != period:
        raise AeatError(
            f"página 01: ejercicio y periodo «{named.get('ejercicio')} {named.get('periodo')}» no coinciden con "
            f"los de la cabecera «{year} {period}»"
        )
    result = next(f for f in values if f.name == "resultado")
    code = str(named["tipo_declaracion"])
    boxes = tuple(
        Box(f.box, f.description, Decimal(v), f.decimals == 0, order)
        for order, (f, v) in enumerate(values.items(), start=1)
        if f.box
    )
    return AeatReturn(
        model,
        year,
        period,
        code,
        RESULT_CODES.get(model, {}).get(code),
        result.box,
        Decimal(values[result]),
        str(named["nif"]),
        boxes,
        layout.file_name,
    )
