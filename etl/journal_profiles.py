"""Journal exports of accounting packages: column profiles (data in etl/profiles/*.json) and the canonical CSV."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from etl.problems import Problem
from etl.sources import COMPANY_FILE, display_name, source_file

PROFILES_DIR = Path(__file__).with_name("profiles")
PORTAL = "portal"  # the native layout (docs/sources.md §3), always tried first
CONTAPLUS = "contaplus"
PROFILE_KEY = "perfil_diario"  # empresa.json: the one profile to try for the company's CSV/Excel journal
AMOUNT_MODES = ("debe_haber", "clave_dh", "importe_con_signo")
CANONICAL_HEADER = ("fecha", "asiento", "cuenta", "concepto", "debe", "haber")
DATE_LABELS = {"%d/%m/%Y": "dd/mm/aaaa", "%d/%m/%y": "dd/mm/aa", "%Y-%m-%d": "aaaa-mm-dd", "%d-%m-%Y": "dd-mm-aaaa"}


@dataclass(frozen=True)
class Profile:
    """How one package writes its journal export: header aliases, number and date formats, amount signing."""

    name: str
    label: str
    order: int
    columns: dict[str, tuple[str, ...]]  # field -> headers as the package writes them
    amounts: str  # 'debe_haber', 'clave_dh' (one amount and a D/H key) or 'importe_con_signo'
    decimal: str = ","
    thousands: str = ""
    date_formats: tuple[str, ...] = ("%d/%m/%Y",)
    debit_keys: tuple[str, ...] = ("D",)
    credit_keys: tuple[str, ...] = ("H",)
    entry_text: bool = False  # entries named by text (MISC/2025/0001): numbered 1, 2, … in order of appearance
    account_code_first: bool = False  # "5720001 Banco": the account is the first word

    @property
    def required(self) -> tuple[str, ...]:
        amounts = {"debe_haber": ("debit", "credit"), "clave_dh": ("amount", "dh_key")}.get(self.amounts, ("amount",))
        return ("date", "entry", "account", *amounts)

    @property
    def date_label(self) -> str:
        return " o ".join(DATE_LABELS.get(f, f) for f in self.date_formats)


@cache
def profiles() -> tuple[Profile, ...]:
    """The profiles of etl/profiles/*.json in the order they are tried (their ``order``, then name)."""
    found = []
    for path in sorted(PROFILES_DIR.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw["amounts"] not in AMOUNT_MODES:
            raise ValueError(f"{path.name}: amounts must be one of {AMOUNT_MODES}")
        found.append(
            Profile(
                name=raw["name"],
                label=raw["label"],
                order=int(raw["order"]),
                columns={k: tuple(v) for k, v in raw["columns"].items()},
                amounts=raw["amounts"],
                decimal=raw.get("decimal", ","),
                thousands=raw.get("thousands", ""),
                date_formats=tuple(raw.get("date_formats", ["%d/%m/%Y"])),
                debit_keys=tuple(k.upper() for k in raw.get("debit_keys", ["D"])),
                credit_keys=tuple(k.upper() for k in raw.get("credit_keys", ["H"])),
                entry_text=bool(raw.get("entry_text", False)),
                account_code_first=bool(raw.get("account_code_first", False)),
            )
        )
    return tuple(sorted(found, key=lambda p: (p.order, p.name)))


def format_label(name: str) -> str:
    """The Spanish name of a journal format recorded in the manifest ('portal', 'contaplus' or a profile)."""
    labels = {PORTAL: "Formato del portal", CONTAPLUS: "ContaPlus (DIARIO.DBF)"}
    labels |= {p.name: p.label for p in profiles()}
    return labels.get(name, name)


def profile_names() -> list[str]:
    return [PORTAL, *(p.name for p in profiles())]


def requested_profile(folder: Path) -> tuple[str | None, list[Problem]]:
    """The profile named by ``perfil_diario`` in the company's empresa.json (None when absent or unusable)."""
    path = source_file(folder, COMPANY_FILE)
    if path is None:
        return None, []
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, []  # reported by read_company_info
    name = raw.get(PROFILE_KEY) if isinstance(raw, dict) else None
    if name is None:
        return None, []
    name = str(name).strip().lower()
    if name not in profile_names():
        message = f"{PROFILE_KEY} «{name}» no es un formato conocido (formatos: {', '.join(profile_names())})"
        return None, [Problem("journal_profile", message, file=display_name(path))]
    return name, []


# ---------------------------------------------------------------------------------------------------------------------
# The canonical CSV: what a package's export becomes before the journal reader loads it like a native file.


@dataclass
class Canonical:
    """A canonical CSV written from another format, with the source line (or record) of each of its rows."""

    path: Path
    lines: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def write_canonical(target: Path, rows: Iterable[tuple[int, tuple[str, ...]]]) -> list[int]:
    """Write (source line, six fields) rows as the canonical CSV; returns the source line of each row."""
    lines = []
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", quotechar='"', lineterminator="\n")
        writer.writerow(CANONICAL_HEADER)
        for line, values in rows:
            writer.writerow([_one_line(v) for v in values])
            lines.append(line)
    return lines


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def line_breaks_of(lines: list[int]) -> list[tuple[int, int]]:
    """The reader's line corrections (row index, extra over index + 2) that turn canonical rows into source lines."""
    breaks: list[tuple[int, int]] = []
    previous = 0
    for index, line in enumerate(lines):
        extra = line - index - 2
        if extra != previous:
            breaks.append((index, extra))
            previous = extra
    return breaks


def amount_text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


# ---------------------------------------------------------------------------------------------------------------------
# A profile's file (CSV, or an Excel sheet already written as CSV) to the canonical CSV.


def convert_profile(
    path: Path, separator: str, header: list[str], columns: dict[str, int], profile: Profile, target: Path, name: str
) -> Canonical:
    """Rewrite a UTF-8 delimited file in ``profile`` as the canonical CSV (values that do not parse are kept as text,
    so the reader's rules report them as written)."""
    problems: list[Problem] = []
    entries: dict[str, int] = {}

    def rows() -> Iterator[tuple[int, tuple[str, ...]]]:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=separator, quotechar='"')
            next(reader, None)
            while True:
                line = reader.line_num + 1
                row = next(reader, None)
                if row is None:
                    return
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    message = (
                        f"la línea tiene {len(row)} columnas y la cabecera {len(header)}"
                        f" (¿un «{separator}» sin comillas dentro de un texto?)"
                    )
                    problems.append(Problem("bad_line", message, file=name, line=line))
                    continue
                values = _convert_row(row, columns, profile, entries)
                if isinstance(values, str):
                    problems.append(Problem("bad_amount", values, file=name, line=line))
                    continue
                yield line, values

    canonical = Canonical(target)
    canonical.lines = write_canonical(target, rows())
    canonical.problems = problems
    return canonical


def _convert_row(
    row: list[str], columns: dict[str, int], profile: Profile, entries: dict[str, int]
) -> tuple[str, ...] | str:
    """The six canonical fields of one row, or the message of a D/H key that is neither."""

    def cell(name: str) -> str:
        return row[columns[name]].strip() if name in columns else ""

    date = _date_text(cell("date"), profile.date_formats)
    entry = cell("entry")
    if profile.entry_text and entry:
        entry = str(entries.setdefault(entry, len(entries) + 1))
    account = cell("account")
    if profile.account_code_first and account:
        account = account.split()[0]
    if profile.amounts == "debe_haber":
        debit, credit = _amount_or_text(cell("debit"), profile), _amount_or_text(cell("credit"), profile)
    else:
        raw = cell("amount")
        value = parse_amount(raw, profile.decimal, profile.thousands)
        if value is None:
            debit, credit = raw, ""
        elif profile.amounts == "importe_con_signo":
            debit, credit = (amount_text(value), "0.00") if value >= 0 else ("0.00", amount_text(-value))
        else:
            key = cell("dh_key").upper()
            if key in profile.debit_keys:
                debit, credit = amount_text(value), "0.00"
            elif key in profile.credit_keys:
                debit, credit = "0.00", amount_text(value)
            else:
                allowed = " o ".join((*profile.debit_keys, *profile.credit_keys))
                return f"clave debe/haber «{key}» no válida (se espera {allowed})"
    return date, entry, account, cell("description"), debit, credit


def _date_text(raw: str, formats: tuple[str, ...]) -> str:
    """ISO date when one of the formats (or an Excel date cell, written ISO) reads it; the text otherwise."""
    text = raw.strip()
    for fmt in (*formats, "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return text


def _amount_or_text(raw: str, profile: Profile) -> str:
    value = parse_amount(raw, profile.decimal, profile.thousands)
    return raw if value is None else amount_text(value)


def parse_amount(raw: str, decimal: str, thousands: str) -> Decimal | None:
    """An amount in the profile's number format (empty = 0; an Excel number cell '=1234.56' is exact); None if not."""
    text = raw.strip().replace(" ", "").replace("\u00a0", "")
    if not text:
        return Decimal(0)
    if text.startswith("="):
        text, decimal, thousands = text[1:], ".", ""
    sep, group = re.escape(decimal), re.escape(thousands) if thousands else None
    whole = rf"\d{{1,3}}(?:{group}\d{{3}})+|\d+" if group else r"\d+"
    match = re.fullmatch(rf"([-+]?)({whole})(?:{sep}(\d{{1,2}}))?", text)
    if match is None:
        return None
    digits = match.group(2).replace(thousands, "") if thousands else match.group(2)
    try:
        value = Decimal(f"{digits}.{match.group(3) or '0'}")
    except InvalidOperation:
        return None
    return -value if match.group(1) == "-" else value
