"""Reader of the laboral module: employees, monthly payroll and sick leave (docs/sources.md §5), validated."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
from stdnum.es import dni, nie
from stdnum.es import nif as es_nif

from etl.modules import ModuleOutput, ModuleReader, _csv
from etl.modules._csv import RowError, Table, day, integer, money, parse_rows, spanish, store_rows, text
from etl.problems import Problem
from etl.sources import CompanyInfo, display_name, source_file, source_files

FOLDER = "laboral"
EMPLOYEES, PAYROLL, LEAVE = "empleados.csv", "nominas.csv", "bajas.csv"
COLUMNS = {
    EMPLOYEES: (
        "nif",
        "naf",
        "nombre",
        "fecha_alta",
        "fecha_baja",
        "motivo_baja",
        "tipo_contrato",
        "descripcion_contrato",
        "categoria",
        "grupo_cotizacion",
        "jornada",
        "fecha_fin_contrato",
    ),
    PAYROLL: (
        "ejercicio",
        "mes",
        "nif",
        "nombre",
        "dias",
        "bruto",
        "base_cotizacion",
        "ss_trabajador",
        "irpf_porcentaje",
        "irpf",
        "otras_deducciones",
        "liquido",
        "ss_empresa",
        "coste_empresa",
    ),
    LEAVE: ("nif", "nombre", "contingencia", "fecha_baja", "fecha_alta", "dias"),
}
# TGSS contract key: first digit 1 full-time, 2 part-time and 3 fijo discontinuo are open-ended; 4 (full-time)
# and 5 (part-time) are fixed-term (domain.md §6.2). Any three-digit key starting 1–5 is accepted.
CONTRACT_KINDS = {"1": "indefinido", "2": "indefinido", "3": "indefinido", "4": "temporal", "5": "temporal"}
CONTINGENCIES = ("Enfermedad común", "Accidente no laboral", "Accidente de trabajo", "Enfermedad profesional")
PAYROLL_MONEY = (
    "bruto",
    "base_cotizacion",
    "ss_trabajador",
    "irpf",
    "otras_deducciones",
    "liquido",
    "ss_empresa",
    "coste_empresa",
)
# Journal accounts of the monthly payroll entry checked against the payroll totals: (prefix, side, payroll column).
# 476 and 460 are credited only by the payroll entry; 4751 is left out (it also holds professionals' withholdings).
JOURNAL_CHECKS = (
    ("640", "debit", ("gross",)),
    ("642", "debit", ("ss_employer",)),
    ("476", "credit", ("ss_worker", "ss_employer")),
    ("460", "credit", ("other_deductions",)),
    ("465", "credit", ("net",)),
)
JOURNAL_LABELS = {
    "640": "Σ bruto",
    "642": "Σ ss_empresa",
    "476": "Σ (ss_trabajador + ss_empresa)",
    "460": "Σ otras_deducciones",
    "465": "Σ líquido",
}
MAX_PROBLEMS = 200


# --- field parsers (each raises RowError with the Spanish reason) -------------------------------------------------


def person_nif(column: str, text: str) -> str:
    """A valid DNI or NIE (K/L/M personal NIFs too), compact; a company CIF is refused."""
    compact = es_nif.compact(text) if text else ""
    valid = dni.is_valid(compact) or nie.is_valid(compact) or (compact[:1] in "KLM" and es_nif.is_valid(compact))
    if not compact or not valid:
        raise RowError(f"{column} «{text}» no es un NIF/NIE válido de persona (revise la letra de control)")
    return compact


def naf(text: str) -> str:
    """A Social Security number: 12 digits whose last two are the first ten mod 97."""
    if not (len(text) == 12 and text.isdigit()) or int(text[:10]) % 97 != int(text[10:]):
        raise RowError(f"naf «{text}» no es válido (12 cifras; las dos últimas = las diez primeras mod 97)")
    return text


def contract_kind(code: str) -> str:
    """'indefinido' or 'temporal' from a TGSS contract key."""
    if not (len(code) == 3 and code.isdigit() and code[0] in CONTRACT_KINDS):
        raise RowError(f"tipo_contrato «{code}» no es una clave de contrato de la TGSS (100, 200, 402, 502…)")
    return CONTRACT_KINDS[code[0]]


# --- reading files ------------------------------------------------------------------------------------------------


def parse_employee(values: dict[str, str]) -> dict:
    """One empleados.csv row."""
    start = day("fecha_alta", values["fecha_alta"])
    end = day("fecha_baja", values["fecha_baja"], required=False)
    if end is not None and end < start:
        raise RowError(f"fecha_baja «{values['fecha_baja']}» es anterior a fecha_alta «{values['fecha_alta']}»")
    planned = day("fecha_fin_contrato", values["fecha_fin_contrato"], required=False)
    if planned is not None and planned < start:
        raise RowError(f"fecha_fin_contrato «{values['fecha_fin_contrato']}» es anterior a fecha_alta")
    return {
        "nif": person_nif("nif", values["nif"]),
        "naf": naf(values["naf"]),
        "name": text("nombre", values["nombre"]),
        "start_date": start,
        "end_date": end,
        "leave_reason": values["motivo_baja"],
        "contract_code": values["tipo_contrato"],
        "contract_kind": contract_kind(values["tipo_contrato"]),
        "contract_description": values["descripcion_contrato"],
        "category": values["categoria"],
        "contribution_group": integer("grupo_cotizacion", values["grupo_cotizacion"], 1, 11),
        "jornada": integer("jornada", values["jornada"], 1, 100),
        "contract_end": planned,
    }


def parse_payslip(values: dict[str, str]) -> dict:
    """One nominas.csv row, with its two identities checked."""
    amounts = {c: money(c, values[c]) for c in PAYROLL_MONEY}
    rate = money("irpf_porcentaje", values["irpf_porcentaje"])
    if not Decimal(0) <= rate <= Decimal(100):
        raise RowError(f"irpf_porcentaje «{values['irpf_porcentaje']}» debe estar entre 0,00 y 100,00")
    net = amounts["bruto"] - amounts["ss_trabajador"] - amounts["irpf"] - amounts["otras_deducciones"]
    if net != amounts["liquido"]:
        raise RowError(
            f"bruto − ss_trabajador − irpf − otras_deducciones = {spanish(net)} pero liquido es «{values['liquido']}»"
        )
    cost = amounts["bruto"] + amounts["ss_empresa"]
    if cost != amounts["coste_empresa"]:
        raise RowError(f"bruto + ss_empresa = {spanish(cost)} pero coste_empresa es «{values['coste_empresa']}»")
    return {
        "year": integer("ejercicio", values["ejercicio"], 1990, 2100),
        "month": integer("mes", values["mes"], 1, 12),
        "nif": person_nif("nif", values["nif"]),
        "name": values["nombre"],
        "days": integer("dias", values["dias"], 0, 31),
        "gross": amounts["bruto"],
        "contribution_base": amounts["base_cotizacion"],
        "ss_worker": amounts["ss_trabajador"],
        "irpf_rate": rate,
        "irpf": amounts["irpf"],
        "other_deductions": amounts["otras_deducciones"],
        "net": amounts["liquido"],
        "ss_employer": amounts["ss_empresa"],
        "employer_cost": amounts["coste_empresa"],
    }


def parse_leave(values: dict[str, str]) -> dict:
    """One bajas.csv row: closed leave has fecha_alta ≥ fecha_baja and dias = days between, both included."""
    start = day("fecha_baja", values["fecha_baja"])
    end = day("fecha_alta", values["fecha_alta"], required=False)
    if values["contingencia"] not in CONTINGENCIES:
        raise RowError(f"contingencia «{values['contingencia']}» no es una de: {', '.join(CONTINGENCIES)}")
    if end is None:
        if values["dias"]:
            raise RowError(f"dias «{values['dias']}» debe estar vacío mientras la baja sigue abierta (sin fecha_alta)")
        days = None
    else:
        if end < start:
            raise RowError(f"fecha_alta «{values['fecha_alta']}» es anterior a fecha_baja «{values['fecha_baja']}»")
        days = (end - start).days + 1
        if values["dias"] != str(days):
            raise RowError(f"dias «{values['dias']}» no coincide con los {days} días de fecha_baja a fecha_alta")
    return {
        "nif": person_nif("nif", values["nif"]),
        "name": values["nombre"],
        "contingency": values["contingencia"],
        "start_date": start,
        "end_date": end,
        "days": days,
    }


# --- cross-file rules ---------------------------------------------------------------------------------------------


def unknown_employees(rows: list[dict], known: set[str], table: str) -> list[Problem]:
    """An error for every row whose NIF is not in empleados.csv."""
    return [
        Problem(
            "labour_unknown_employee", f"nif «{r['nif']}» no está en empleados.csv", file=table, line=r["source_line"]
        )
        for r in rows
        if r["nif"] not in known
    ]


def journal_check(con: duckdb.DuckDBPyConnection, payroll: list[dict], table: str) -> list[Problem]:
    """Warnings where a month's payroll totals differ from the journal's 640 / 642 / 476 / 460 / 465 of that month."""
    if not payroll:
        return []
    totals: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in payroll:
        for prefix, _, columns in JOURNAL_CHECKS:
            totals[(row["year"], row["month"])][prefix] += sum((row[c] for c in columns), Decimal(0))
    first, last = min(totals), max(totals)
    booked: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for prefix, side, _ in JOURNAL_CHECKS:
        rows = con.execute(
            f"SELECT year(date), month(date), sum({side}) FROM journal"  # side is from JOURNAL_CHECKS
            " WHERE entry_type = 'normal' AND starts_with(account, ?) GROUP BY ALL",
            [prefix],
        ).fetchall()
        for year, month, amount in rows:
            if first <= (year, month) <= last:
                booked[(year, month)][prefix] += amount or Decimal(0)
    found = []
    for period in sorted(set(totals) | set(booked)):
        for prefix, _, _ in JOURNAL_CHECKS:
            ours, theirs = totals[period][prefix], booked[period][prefix]
            if ours != theirs:
                found.append(
                    Problem(
                        "labour_journal_mismatch",
                        f"{period[1]:02d}/{period[0]}: {JOURNAL_LABELS[prefix]} de las nóminas = {spanish(ours)} "
                        f"pero la cuenta {prefix} del diario suma {spanish(theirs)}",
                        file=table,
                        severity="warning",
                    )
                )
    return found


# --- the reader ---------------------------------------------------------------------------------------------------


def inputs(folder: Path) -> list[Path]:
    """The three labour files present under the company folder."""
    return [p for p in source_files(folder, FOLDER, recursive=False) if p.name in COLUMNS]


EMPLOYEE_TABLE = """CREATE TABLE labour_employees (nif VARCHAR, naf VARCHAR, name VARCHAR, start_date DATE,
    end_date DATE, leave_reason VARCHAR, contract_code VARCHAR, contract_kind VARCHAR, contract_description VARCHAR,
    category VARCHAR, contribution_group INTEGER, jornada INTEGER, contract_end DATE, source_line INTEGER)"""
PAYROLL_TABLE = """CREATE TABLE labour_payroll (year INTEGER, month INTEGER, nif VARCHAR, name VARCHAR,
    days INTEGER, gross DECIMAL(18,2), contribution_base DECIMAL(18,2), ss_worker DECIMAL(18,2),
    irpf_rate DECIMAL(5,2), irpf DECIMAL(18,2), other_deductions DECIMAL(18,2), net DECIMAL(18,2),
    ss_employer DECIMAL(18,2), employer_cost DECIMAL(18,2), source_line INTEGER)"""
LEAVE_TABLE = """CREATE TABLE labour_leave (nif VARCHAR, name VARCHAR, contingency VARCHAR, start_date DATE,
    end_date DATE, days INTEGER, source_line INTEGER)"""
TABLES = {
    "labour_employees": (EMPLOYEE_TABLE, "nif, source_line"),
    "labour_payroll": (PAYROLL_TABLE, "year, month, nif"),
    "labour_leave": (LEAVE_TABLE, "nif, start_date"),
}


def read(con: duckdb.DuckDBPyConnection, folder: Path, info: CompanyInfo) -> ModuleOutput:
    """Read and validate the company's labour files; errors name file and line, journal differences warn."""
    if not inputs(folder):
        return ModuleOutput()
    problems: list[Problem] = []
    tables = {}
    for name in COLUMNS:
        path = source_file(folder, FOLDER, name)
        if path is None:
            if name != LEAVE:
                problems.append(Problem("labour_missing_file", f"Falta el archivo {name}", file=f"{FOLDER}/{name}"))
            tables[name] = Table(f"{FOLDER}/{name}", [])
            continue
        table = _csv.read_table(path, COLUMNS[name], "labour", problems, missing_note=" (cabecera)")
        tables[name] = table or Table(display_name(path), [])
    employees = parse_rows(tables[EMPLOYEES], parse_employee, "labour_employee", problems)
    payroll = parse_rows(tables[PAYROLL], parse_payslip, "labour_payroll", problems)
    leave = parse_rows(tables[LEAVE], parse_leave, "labour_leave", problems)
    # NIFs of every employee row, parsed or not: a bad employee row is reported once, not again per payslip.
    known = {es_nif.compact(values["nif"]) for _, values in tables[EMPLOYEES].rows}
    problems += _csv.duplicates(
        employees, lambda r: (r["nif"],), tables[EMPLOYEES].name, "Empleado (nif)", "labour_duplicate", show_key=False
    )
    problems += _csv.duplicates(
        payroll,
        lambda r: (r["year"], r["month"], r["nif"]),
        tables[PAYROLL].name,
        "Nómina (ejercicio, mes, nif)",
        "labour_duplicate",
        show_key=False,
    )
    problems += unknown_employees(payroll, known, tables[PAYROLL].name)
    problems += unknown_employees(leave, known, tables[LEAVE].name)
    if any(p.severity == "error" for p in problems):
        return ModuleOutput(problems=problems[:MAX_PROBLEMS])
    problems += journal_check(con, payroll, tables[PAYROLL].name)
    store_rows(con, "labour_employees", TABLES["labour_employees"][0], employees)
    store_rows(con, "labour_payroll", TABLES["labour_payroll"][0], payroll)
    store_rows(con, "labour_leave", TABLES["labour_leave"][0], leave)
    return ModuleOutput(
        problems=problems,
        tables={f"{name}.parquet": f"SELECT * FROM {name} ORDER BY {order}" for name, (_, order) in TABLES.items()},
        manifest={"employees": len(employees), "payslips": len(payroll), "leaves": len(leave)},
    )


READER = ModuleReader(FOLDER, inputs, read)
