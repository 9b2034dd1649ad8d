"""Reader of the documentos module: the firm's shared documents, their index and PDF bytes (docs/sources.md §8)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath

import duckdb

from etl.modules import ModuleOutput, ModuleReader
from etl.modules._csv import RowError, Table, day, duplicates, one_of, read_table, store_rows, text
from etl.problems import Problem
from etl.sources import CompanyInfo, source_file, source_files

FOLDER = "documentos"
INDEX = "indice.csv"
COLUMNS = ("titulo", "categoria", "fecha", "archivo")
CATEGORIES = ("fiscal", "laboral", "contable", "societario", "otros")
PDF_MAGIC = b"%PDF-"
SAFE_PART = re.compile(r"[^\W_][\w.\- ]*")  # one folder or file name of 'archivo' (letters of any language)
MAX_PROBLEMS = 200

INDEX_TABLE = """CREATE TABLE documents (title VARCHAR, category VARCHAR, doc_date DATE, year INTEGER,
    path VARCHAR, file_name VARCHAR, size BIGINT, sha256 VARCHAR, source_line INTEGER)"""
FILE_TABLE = "CREATE TABLE document_files (sha256 VARCHAR, content BLOB)"
ORDERS = {"documents": "doc_date DESC, category, title", "document_files": "sha256"}


def inputs(folder: Path) -> list[Path]:
    """indice.csv and every file under documentos/ (a changed PDF reloads the company)."""
    return source_files(folder, FOLDER)


def relative_path(value: str, category: str, year: int) -> PurePosixPath:
    """'archivo' checked: relative, no '..', plain names, always <categoria>/<año de fecha>/<nombre>.pdf."""
    if not value:
        raise RowError("archivo está vacío")
    if "\\" in value or value.startswith("/") or re.match(r"[A-Za-z]:", value):
        raise RowError(f"archivo «{value}» debe ser una ruta relativa a {FOLDER}/ con barras /")
    path = PurePosixPath(value)
    if any(part in ("..", ".") for part in path.parts) or ".." in value:
        raise RowError(f"archivo «{value}» no puede contener «..» ni salir de la carpeta {FOLDER}/")
    if not all(SAFE_PART.fullmatch(part) for part in path.parts):
        raise RowError(f"archivo «{value}» tiene nombres no válidos (use letras, números, puntos y guiones)")
    if len(path.parts) != 3 or path.parts[0] != category or path.parts[1] != str(year) or path.suffix.lower() != ".pdf":
        raise RowError(f"archivo «{value}» debe ser {category}/{year}/<nombre>.pdf (categoría y año de fecha)")
    return path


def parse_document(folder: Path, values: dict[str, str]) -> dict:
    """One indice.csv row: fields checked, the file found under documentos/ and checked to be a real PDF."""
    title = text("titulo", values["titulo"])
    category = one_of("categoria", values["categoria"], CATEGORIES)
    issued = day("fecha", values["fecha"])
    relative = relative_path(values["archivo"], category, issued.year)
    path = source_file(folder, FOLDER, *relative.parts)  # no '..' (relative_path) and no symlink on the way
    if path is None:
        raise RowError(f"archivo «{values['archivo']}» no existe en {FOLDER}/")
    content = path.read_bytes()
    if not content.startswith(PDF_MAGIC):
        raise RowError(f"archivo «{values['archivo']}» no es un PDF (no empieza por %PDF-)")
    return {
        "title": title,
        "category": category,
        "doc_date": issued,
        "year": issued.year,
        "path": str(relative),
        "file_name": relative.name,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "content": content,
    }


def read(con: duckdb.DuckDBPyConnection, folder: Path, info: CompanyInfo) -> ModuleOutput:
    """Read and validate the document index; any bad row rejects the load with its file and line named."""
    if not inputs(folder):
        return ModuleOutput()
    problems: list[Problem] = []
    name = f"{FOLDER}/{INDEX}"
    path = source_file(folder, FOLDER, INDEX)
    if path is None:
        return ModuleOutput(problems=[Problem("document_missing_file", f"Falta el archivo {INDEX}", file=name)])
    table = read_table(path, COLUMNS, "document", problems) or Table(name, [])
    rows = []
    for line, values in table.rows:
        try:
            rows.append({**parse_document(folder, values), "source_line": line})
        except RowError as exc:
            problems.append(Problem("document_row", str(exc), file=table.name, line=line))
    problems += duplicates(rows, lambda r: (r["path"],), table.name, "archivo", "document_duplicate")
    if any(p.severity == "error" for p in problems):
        return ModuleOutput(problems=problems[:MAX_PROBLEMS])
    store_rows(con, "documents", INDEX_TABLE, rows)
    con.execute("DROP TABLE IF EXISTS document_files")
    con.execute(FILE_TABLE)
    contents = {r["sha256"]: r["content"] for r in rows}  # the same PDF listed twice is shipped once
    if contents:
        con.executemany("INSERT INTO document_files VALUES (?, ?)", list(contents.items()))
    return ModuleOutput(
        problems=problems[:MAX_PROBLEMS],
        tables={f"{t}.parquet": f"SELECT * FROM {t} ORDER BY {order}" for t, order in ORDERS.items()},
        manifest={"documents": len(rows), "document_files": len(contents)},
    )


READER = ModuleReader(FOLDER, inputs, read)
