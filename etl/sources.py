"""The firm's source folder: one sub-folder per company, its ``empresa.json`` and its module files."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from stdnum.es import nif as es_nif

from etl.problems import Problem

PGC_MODELS = ("pymes", "abreviado")
COMPANY_FILE = "empresa.json"
CHART_FILE = "plan_cuentas.csv"
JOURNAL_SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class CompanyInfo:
    """What ``empresa.json`` declares about a company (defaults when the file is absent)."""

    code: str
    name: str
    nif: str = ""
    model: str = "pymes"
    fiscal_year_start_month: int = 1
    fiscal_year_start_day: int = 1
    fiscal_years: tuple[int, ...] | None = None  # declared years; None = not declared

    def fiscal_year_of(self, day: date) -> int:
        """The fiscal year a date belongs to, named by the calendar year in which it starts."""
        start = (self.fiscal_year_start_month, self.fiscal_year_start_day)
        return day.year if (day.month, day.day) >= start else day.year - 1

    def fiscal_year_bounds(self, year: int) -> tuple[date, date]:
        """First and last day of fiscal year ``year``."""
        first = date(year, self.fiscal_year_start_month, self.fiscal_year_start_day)
        next_first = date(year + 1, self.fiscal_year_start_month, self.fiscal_year_start_day)
        return first, date.fromordinal(next_first.toordinal() - 1)


def read_company_info(folder: Path) -> tuple[CompanyInfo, list[Problem]]:
    """Read ``empresa.json`` of a company folder; problems name the file and the field."""
    code = folder.name
    path = source_file(folder, COMPANY_FILE)
    if path is None:
        return CompanyInfo(code=code, name=code), []
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return CompanyInfo(code=code, name=code), [
            Problem("company_file", f"{COMPANY_FILE} no es un JSON válido: {exc}", file=display_name(path))
        ]
    if not isinstance(raw, dict):
        return CompanyInfo(code=code, name=code), [
            Problem("company_file", f"{COMPANY_FILE} debe contener un objeto JSON", file=display_name(path))
        ]
    problems: list[Problem] = []
    model = str(raw.get("modelo_pgc", "pymes")).lower()
    if model not in PGC_MODELS:
        problems.append(
            Problem("company_file", f"modelo_pgc «{model}» no válido (pymes o abreviado)", file=display_name(path))
        )
        model = "pymes"
    month, day = 1, 1
    start = str(raw.get("inicio_ejercicio", "01-01"))
    match = re.fullmatch(r"(\d{2})-(\d{2})", start)
    try:
        if not match:
            raise ValueError(start)
        day, month = int(match.group(1)), int(match.group(2))
        date(2001, month, day)  # not 29-02: a fiscal year must start every year
    except ValueError:
        problems.append(
            Problem("company_file", f"inicio_ejercicio «{start}» no válido (formato dd-mm)", file=display_name(path))
        )
        month, day = 1, 1
    years = raw.get("ejercicios")
    fiscal_years: tuple[int, ...] | None = None
    if years is not None:
        if isinstance(years, list) and all(isinstance(y, int) and 1900 < y < 2200 for y in years) and years:
            fiscal_years = tuple(sorted(set(years)))
        else:
            problems.append(
                Problem(
                    "company_file",
                    "ejercicios debe ser una lista de años, p. ej. [2024, 2025]",
                    file=display_name(path),
                )
            )
    nif = str(raw.get("nif", "")).strip().upper()
    if nif and not es_nif.is_valid(nif):
        problems.append(Problem("company_file", f"NIF «{nif}» no válido", file=display_name(path), severity="warning"))
    info = CompanyInfo(
        code=code,
        name=str(raw.get("nombre", code)),
        nif=nif,
        model=model,
        fiscal_year_start_month=month,
        fiscal_year_start_day=day,
        fiscal_years=fiscal_years,
    )
    return info, problems


def company_folders(source_dir: Path) -> list[Path]:
    """Company sub-folders of the source folder, sorted by code (hidden folders ignored)."""
    if not source_dir.is_dir():
        return []
    return sorted(p for p in source_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def journal_files(folder: Path) -> list[Path]:
    """The journal exports of a company, sorted by name: ``diario*.csv``, ``diario*.xlsx``, ContaPlus's
    ``DIARIO.DBF`` (any case) and ContaPlus backups (``*.zip``, read for the DIARIO.DBF inside)."""
    files = source_files(folder, suffixes=(*JOURNAL_SUFFIXES, ".dbf", ".zip"), recursive=False)
    return [
        p
        for p in files
        if (p.suffix.lower() in JOURNAL_SUFFIXES and p.name.lower().startswith("diario"))
        or p.name.lower() == "diario.dbf"
        or p.suffix.lower() == ".zip"
    ]


def chart_file(folder: Path) -> Path | None:
    """The company's chart of accounts export, when present."""
    return source_file(folder, CHART_FILE)


# --- symlinks: the one rule for every file the load reads -----------------------------------------------------------
# A symlinked company folder, module folder, sub-folder or file could make a load publish another company's files, so
# the load follows none: it is rejected naming each one (symlink_problems), and the readers find and open files only
# through source_file / source_files, which never go through a symlink.


def symlink_on_the_way(folder: Path, *parts: str) -> Path | None:
    """The first symlink from the company ``folder`` (itself included) down to ``folder/parts``; None when none."""
    path = folder
    if path.is_symlink():
        return path
    for part in Path(*parts).parts:
        path = path / part
        if path.is_symlink():
            return path
    return None


def source_file(folder: Path, *parts: str) -> Path | None:
    """``folder/parts`` when it is a regular file reached through no symlink; None otherwise (absent or refused)."""
    path = folder.joinpath(*parts)
    return path if symlink_on_the_way(folder, *parts) is None and path.is_file() else None


def source_files(
    folder: Path, *parts: str, suffixes: tuple[str, ...] | None = None, recursive: bool = True
) -> list[Path]:
    """Every regular file in (``recursive``: below) ``folder/parts``, sorted; hidden entries and symlinks left out."""
    base = folder.joinpath(*parts)
    if symlink_on_the_way(folder, *parts) is not None or not base.is_dir():
        return []
    found = []
    for root, dirs, files in os.walk(base):  # followlinks=False: a symlinked sub-folder is never entered
        dirs[:] = [d for d in dirs if recursive and not d.startswith(".")]
        for name in files:
            path = Path(root) / name
            if name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            if suffixes is None or path.suffix.lower() in suffixes:
                found.append(path)
    return sorted(found)


def symlink_problems(folder: Path) -> list[Problem]:
    """One error per symlink in a company's export (the company folder, a module folder, a sub-folder or a file)."""
    if folder.is_symlink():
        return [_symlink_problem(folder.name, f"La carpeta de la empresa {folder.name}")]
    problems = []
    for root, dirs, files in os.walk(folder):  # followlinks=False
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in [*dirs, *sorted(f for f in files if not f.startswith("."))]:
            path = Path(root) / name
            if path.is_symlink():
                relative = path.relative_to(folder).as_posix()
                what = f"La carpeta {relative}" if path.is_dir() else f"El archivo {relative}"
                problems.append(_symlink_problem(f"{folder.name}/{relative}", what))
    return problems


def _symlink_problem(file: str, what: str) -> Problem:
    message = (
        f"{what} es un enlace simbólico: la carga no sigue enlaces porque podría publicar archivos de otra empresa "
        "o de fuera de su carpeta. Sustitúyalo por la carpeta o el archivo real"
    )
    return Problem("source_symlink", message, file=file)


def source_hash(files: list[Path], extra: str = "", root: Path | None = None) -> str:
    """SHA-256 over the names (relative to ``root`` when given) and bytes of the files, order-independent."""
    digest = hashlib.sha256(extra.encode())
    named = sorted((path.relative_to(root).as_posix() if root else path.name, path) for path in files)
    for name, path in named:
        digest.update(name.encode() + b"\0")
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 22):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def display_name(path: Path) -> str:
    """A file name as shown in messages: company folder and file name."""
    return f"{path.parent.name}/{path.name}"
