"""ContaPlus (Sage) journals: DIARIO.DBF, alone or inside a backup .zip, read with dbfread into the canonical CSV."""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath

from dbfread import DBF, FieldParser
from dbfread.codepages import guess_encoding

from etl.journal_profiles import Canonical, amount_text, write_canonical
from etl.problems import Problem
from etl.sources import display_name

DIARIO = "diario.dbf"
MAX_DBF_BYTES = 1 << 30  # one DIARIO.DBF, as extracted from a backup
MAX_ZIP_MEMBERS = 20_000
CHUNK = 1 << 20
FALLBACK_ENCODING = "cp1252"  # no language driver byte: ContaPlus for Windows writes Windows-1252
REQUIRED = ("ASIEN", "FECHA", "SUBCTA")
EURO = ("EURODEBE", "EUROHABER")
PESETA = ("PTADEBE", "PTAHABER")


class _Parser(FieldParser):
    """dbfread's parser with exact amounts (Decimal) and bad dates kept as their text (the reader reports them)."""

    def parseN(self, field, data):
        text = data.strip().strip(b"*").decode("ascii", errors="replace")
        if not text:
            return None
        try:
            return Decimal(text)
        except InvalidOperation:
            return text

    parseF = parseN

    def parseD(self, field, data):
        try:
            return date(int(data[:4]), int(data[4:6]), int(data[6:8]))
        except ValueError:
            text = data.decode("ascii", errors="replace").strip()
            return None if not text.strip("0") else text


def is_contaplus(path: Path) -> bool:
    return path.suffix.lower() in (".dbf", ".zip")


def dbf_files(path: Path, workdir: Path, unique: Iterator[int]) -> tuple[list[tuple[Path, str]], list[Problem]]:
    """The DIARIO.DBF files of a company file: itself, or each one inside a backup zip (copied to ``workdir``)."""
    if path.suffix.lower() == ".dbf":
        return [(path, display_name(path))], []
    name = display_name(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                message = f"la copia tiene {len(members)} archivos; se admiten como mucho {MAX_ZIP_MEMBERS}"
                return [], [Problem("unreadable_file", message, file=name)]
            diarios = [m for m in members if not m.is_dir() and _basename(m.filename).lower() == DIARIO]
            if not diarios:
                message = "la copia de seguridad no contiene ningún DIARIO.DBF de ContaPlus"
                return [], [Problem("no_journal", message, file=name)]
            found, problems = [], []
            for member in diarios:
                shown = f"{name}:{_printable(member.filename)}"
                target = workdir / f"{next(unique)}.dbf"
                problem = _extract(archive, member, target, shown)
                if problem is None:
                    found.append((target, shown))
                else:
                    problems.append(problem)
            return found, problems
    except (zipfile.BadZipFile, OSError) as exc:
        return [], [Problem("unreadable_file", f"no se puede abrir la copia de seguridad (.zip): {exc}", file=name)]


def _basename(member: str) -> str:
    return PurePosixPath(member.replace("\\", "/")).name


def _printable(member: str) -> str:
    return re.sub(r"[^\w./\\ -]", "?", member)[:200]


def _extract(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, shown: str) -> Problem | None:
    """Copy one member to ``target`` (a name of ours: the member's path is never used), at most MAX_DBF_BYTES."""
    if member.flag_bits & 0x1:
        return Problem("unreadable_file", "el DIARIO.DBF de la copia está cifrado con contraseña", file=shown)
    too_big = Problem("unreadable_file", f"el DIARIO.DBF pasa de {MAX_DBF_BYTES >> 20} MB", file=shown)
    if member.file_size > MAX_DBF_BYTES:
        return too_big
    written = 0
    try:
        with archive.open(member) as src, target.open("wb") as dst:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > MAX_DBF_BYTES:
                    return too_big
                dst.write(chunk)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as exc:
        return Problem("unreadable_file", f"no se puede extraer el DIARIO.DBF de la copia: {exc}", file=shown)
    return None


def convert_dbf(path: Path, name: str, target: Path) -> tuple[Canonical | None, str, list[Problem]]:
    """DIARIO.DBF to the canonical CSV (a row per live record, its line the record number); also the encoding."""
    try:
        table = DBF(str(path), ignorecase=False, parserclass=_Parser, ignore_missing_memofile=True)
    except Exception as exc:  # a damaged or foreign file: dbfread raises many kinds
        return None, "", [Problem("unreadable_file", f"no se puede leer el archivo dBase: {exc}", file=name)]
    driver = table.header.language_driver
    try:
        encoding = guess_encoding(driver) if driver else FALLBACK_ENCODING
    except LookupError:
        encoding = FALLBACK_ENCODING
    table.encoding, table.char_decode_errors = encoding, "replace"
    fields = set(table.field_names)
    amounts = EURO if set(EURO) <= fields else PESETA
    missing = [f for f in (*REQUIRED, *amounts) if f not in fields]
    if missing:
        message = (
            f"no es un DIARIO.DBF de ContaPlus: faltan los campos {', '.join(missing)}"
            f" (campos encontrados: {', '.join(table.field_names)})"
        )
        return None, encoding, [Problem("missing_column", message, file=name)]
    problems = []
    if amounts == PESETA:
        message = (
            "el DIARIO.DBF no tiene los campos EURODEBE/EUROHABER: los importes se leen de PTADEBE/PTAHABER"
            " (versiones antiguas de ContaPlus); compruebe que están en euros"
        )
        problems.append(Problem("contaplus_pesetas", message, file=name, severity="warning"))
    rows = zip(_live_records(path, table), table, strict=False)
    canonical = Canonical(target, write_canonical(target, (_row(n, r, amounts) for n, r in rows)), problems)
    return canonical, encoding, []


def _live_records(path: Path, table: DBF) -> Iterator[int]:
    """Record numbers (from 1) of the records dbfread yields: the deletion flag is a blank; '*' marks a deleted one."""
    length = table.header.recordlen
    with path.open("rb") as fh:
        fh.seek(table.header.headerlen)
        number = 0
        while (flag := fh.read(1)) not in (b"\x1a", b""):
            number += 1
            if flag == b" ":
                yield number
            fh.seek(length - 1, 1)


def _row(number: int, record: dict, amounts: tuple[str, str]) -> tuple[int, tuple[str, ...]]:
    day = record["FECHA"]
    return number, (
        day.isoformat() if isinstance(day, date) else str(day or ""),
        _text(record["ASIEN"]),
        str(record["SUBCTA"] or "").strip(),
        str(record.get("CONCEPTO") or "").strip(),
        _amount(record[amounts[0]]),
        _amount(record[amounts[1]]),
    )


def _text(value: object) -> str:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _amount(value: object) -> str:
    if value is None:
        return "0.00"
    if isinstance(value, Decimal):
        return amount_text(value) if value == value.quantize(Decimal("0.01")) else f"{value:f}"
    return str(value)
