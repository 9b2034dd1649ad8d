"""Reader of the expedientes module: the firm's case files and their milestones (docs/sources.md §8), validated."""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.modules import ModuleOutput, ModuleReader
from etl.modules._csv import RowError, Table, day, duplicates, flag, one_of, parse_rows, read_table, store_rows, text
from etl.problems import Problem
from etl.sources import CompanyInfo, display_name, source_file, source_files

FOLDER = "expedientes"
CASES, EVENTS = "expedientes.csv", "hitos.csv"
CASE_COLUMNS = ("codigo", "tipo", "titulo", "fecha_apertura", "fecha_cierre", "estado", "responsable", "compartido")
EVENT_COLUMNS = ("expediente", "fecha", "tipo", "estado", "descripcion", "compartido")
TYPES = ("Fiscal", "Contable / mercantil", "Laboral", "Subvenciones", "Notificaciones")
# domain.md §9, in their usual order; reports/cases.py says which of them count as open.
STATES = (
    "abierto",
    "pendiente_documentacion_cliente",
    "en_tramite",
    "presentado",
    "pendiente_resolucion",
    "resuelto_favorable",
    "resuelto_desfavorable",
    "recurrido",
    "cerrado",
    "archivado",
    "cancelado",
)
CLOSED_WITH_DATE = "cerrado"  # fecha_cierre is filled exactly in this state
EVENT_KINDS = ("hito", "nota", "plazo")
MAX_PROBLEMS = 200


def parse_case(values: dict[str, str]) -> dict:
    """One expedientes.csv row: lists, the closing date filled exactly when cerrado, the sharing flag."""
    state = one_of("estado", values["estado"], STATES)
    opened = day("fecha_apertura", values["fecha_apertura"])
    closed = day("fecha_cierre", values["fecha_cierre"], required=False)
    if state == CLOSED_WITH_DATE and closed is None:
        raise RowError("fecha_cierre está vacía pero estado es «cerrado»")
    if state != CLOSED_WITH_DATE and closed is not None:
        raise RowError(f"fecha_cierre «{values['fecha_cierre']}» solo se rellena con estado «cerrado» (es «{state}»)")
    if closed is not None and closed < opened:
        raise RowError(f"fecha_cierre «{values['fecha_cierre']}» es anterior a fecha_apertura")
    return {
        "code": text("codigo", values["codigo"]),
        "case_type": one_of("tipo", values["tipo"], TYPES),
        "title": text("titulo", values["titulo"]),
        "opened": opened,
        "closed": closed,
        "state": state,
        "responsible": values["responsable"],
        "shared": flag("compartido", values["compartido"]),
    }


def parse_event(values: dict[str, str]) -> dict:
    """One hitos.csv row: kind from the list, state from the list (empty for notes), the sharing flag."""
    kind = one_of("tipo", values["tipo"], EVENT_KINDS)
    state = values["estado"]
    if state:
        one_of("estado", state, STATES)
        if kind == "nota":
            raise RowError(f"estado «{state}» debe estar vacío en una nota")
    return {
        "case_code": text("expediente", values["expediente"]),
        "date": day("fecha", values["fecha"]),
        "kind": kind,
        "state": state or None,
        "description": text("descripcion", values["descripcion"]),
        "shared": flag("compartido", values["compartido"]),
    }


def event_rules(cases: list[dict], events: list[dict], known: set[str], file: str) -> list[Problem]:
    """Milestones of an unknown case file (error); milestones dated before their case file opened (warning)."""
    opened = {c["code"]: c["opened"] for c in cases}
    found = []
    for row in events:
        code = row["case_code"]
        if code not in known:
            message = f"expediente «{code}» no está en {CASES}"
            found.append(Problem("case_event_unknown", message, file=file, line=row["source_line"]))
        elif code in opened and row["date"] < opened[code]:
            message = f"fecha {row['date']:%d/%m/%Y} es anterior a la apertura del expediente {code}"
            found.append(Problem("case_event_date", message, file=file, line=row["source_line"], severity="warning"))
    return found


CASE_TABLE = """CREATE TABLE cases (code VARCHAR, case_type VARCHAR, title VARCHAR, opened DATE, closed DATE,
    state VARCHAR, responsible VARCHAR, shared BOOLEAN, source_line INTEGER)"""
EVENT_TABLE = """CREATE TABLE case_events (case_code VARCHAR, date DATE, kind VARCHAR, state VARCHAR,
    description VARCHAR, shared BOOLEAN, source_line INTEGER)"""
TABLES = {"cases": (CASE_TABLE, "opened, code"), "case_events": (EVENT_TABLE, "case_code, date, source_line")}


def inputs(folder: Path) -> list[Path]:
    """expedientes.csv and hitos.csv when present."""
    return [p for p in source_files(folder, FOLDER, recursive=False) if p.name in (CASES, EVENTS)]


def read(con: duckdb.DuckDBPyConnection, folder: Path, info: CompanyInfo) -> ModuleOutput:
    """Read and validate the company's case files; every shared and internal row is kept (flags filter on read)."""
    if not inputs(folder):
        return ModuleOutput()
    problems: list[Problem] = []
    tables = {}
    for name, columns in ((CASES, CASE_COLUMNS), (EVENTS, EVENT_COLUMNS)):
        path = source_file(folder, FOLDER, name)
        if path is None:
            if name == CASES:  # a company may have case files without milestones, never the reverse
                problems.append(Problem("case_missing_file", f"Falta el archivo {name}", file=f"{FOLDER}/{name}"))
            tables[name] = Table(f"{FOLDER}/{name}", [])
        else:
            tables[name] = read_table(path, columns, "case", problems) or Table(display_name(path), [])
    cases = parse_rows(tables[CASES], parse_case, "case_row", problems)
    events = parse_rows(tables[EVENTS], parse_event, "case_event", problems)
    problems += duplicates(cases, lambda r: (r["code"],), tables[CASES].name, "codigo", "case_duplicate")
    # Codes of every case row, parsed or not: a bad case row is reported once, not again per milestone.
    known = {values["codigo"] for _, values in tables[CASES].rows}
    problems += event_rules(cases, events, known, tables[EVENTS].name)
    if any(p.severity == "error" for p in problems):
        return ModuleOutput(problems=problems[:MAX_PROBLEMS])
    store_rows(con, "cases", CASE_TABLE, cases)
    store_rows(con, "case_events", EVENT_TABLE, events)
    return ModuleOutput(
        problems=problems[:MAX_PROBLEMS],
        tables={f"{name}.parquet": f"SELECT * FROM {name} ORDER BY {order}" for name, (_, order) in TABLES.items()},
        manifest={
            "cases": len(cases),
            "cases_shared": sum(c["shared"] for c in cases),
            "case_events": len(events),
            "case_events_shared": sum(e["shared"] for e in events),
        },
    )


READER = ModuleReader(FOLDER, inputs, read)
