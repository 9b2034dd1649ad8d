"""Chart of accounts: the firm's plan_cuentas.csv when given, and standard PGC names for every other account."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from etl.journal import (
    count_lines,
    csv_reader_sql,
    insertion_order,
    line_breaks,
    line_sql,
    prepare_csv,
    read_rejects,
    reader_params,
)
from etl.problems import Problem
from etl.sources import CompanyInfo
from portal.fmt import integer

PGC_FILE = Path(__file__).with_name("pgc_accounts.csv")
MAX_PER_RULE = 200
CHART_ALIASES: dict[str, tuple[str, ...]] = {
    "account": ("cuenta", "account", "code", "codigo", "subcuenta", "codigo_cuenta", "cod_cuenta", "account_code"),
    "name": ("descripcion", "nombre", "name", "description", "titulo", "denominacion", "concepto"),
}
CHART_REQUIRED = ("account", "name")
VALID_CODE = "regexp_full_match(account, '[1-9][0-9]*')"


def read_chart(con: duckdb.DuckDBPyConnection, path: Path | None, company: CompanyInfo) -> list[Problem]:
    """(Re)create table ``accounts`` from the chart file (empty without one); problems name file and line.

    Codes must be digits not starting with 0 (group and subgroup rows such as «43» are fine); a code
    listed twice keeps its first name (warning). ``company`` is accepted for symmetry with the other
    readers: the chart does not depend on it.
    """
    del company
    con.execute("CREATE OR REPLACE TABLE accounts (account VARCHAR, name VARCHAR, source VARCHAR)")
    if path is None:
        return []
    with tempfile.TemporaryDirectory(prefix="chart-") as tmp, insertion_order(con):
        source, problems = prepare_csv(path, CHART_ALIASES, CHART_REQUIRED, Path(tmp))
        if source is None:
            return problems
        count_lines(source)
        account, name = (f"c{source.columns[f]}" for f in CHART_REQUIRED)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _chart AS SELECT trim({account}) AS account, trim({name}) AS name"
            f" FROM {csv_reader_sql(source, '_crej')}",
            reader_params(source),
        )
        rejects = read_rejects(con, source, "_crej")
        problems += rejects.problems
        kept = con.execute("SELECT count(*) FROM _chart").fetchone()[0]
        line = line_sql("rowid", line_breaks(con, source, kept, rejects.records))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _chart_rows AS
        SELECT {line} AS line, account, nullif(name, '') AS name FROM _chart
        WHERE coalesce(account, '') <> '' OR coalesce(name, '') <> ''
        """
    )
    problems += _bad_codes(con, source.file)
    problems += _duplicates(con, source.file)
    con.execute(
        f"""
        INSERT INTO accounts
        SELECT account, first(name ORDER BY line), 'plan' FROM _chart_rows
        WHERE {VALID_CODE} GROUP BY account ORDER BY account
        """
    )
    con.execute("DROP TABLE _chart")
    con.execute("DROP TABLE _chart_rows")
    return problems


def _bad_codes(con: duckdb.DuckDBPyConnection, file: str) -> list[Problem]:
    """bad_account for chart rows whose code is missing, not all digits or starting with 0."""
    rows = con.execute(
        f"SELECT line, account FROM _chart_rows WHERE NOT {VALID_CODE} OR account IS NULL ORDER BY line"
        f" LIMIT {MAX_PER_RULE + 1}"
    ).fetchall()
    problems = [
        Problem(
            "bad_account",
            f"código de cuenta «{code}» no válido en el plan de cuentas: solo dígitos y sin empezar por 0"
            if code
            else "falta el código de cuenta",
            file=file,
            line=line,
        )
        for line, code in rows[:MAX_PER_RULE]
    ]
    return problems + _summary(con, "bad_account", f"NOT {VALID_CODE} OR account IS NULL", len(rows), file)


def _duplicates(con: duckdb.DuckDBPyConnection, file: str) -> list[Problem]:
    """A code listed twice: the first name is kept (warning naming the later line)."""
    rows = con.execute(
        f"""
        SELECT line, account, first_line FROM (
            SELECT line, account, min(line) OVER (PARTITION BY account) AS first_line FROM _chart_rows
            WHERE {VALID_CODE}
        ) WHERE line <> first_line ORDER BY line LIMIT {MAX_PER_RULE + 1}
        """
    ).fetchall()
    return [
        Problem(
            "duplicate_account",
            f"la cuenta {code} ya estaba en la línea {first}; se usa el nombre de la primera",
            file=file,
            line=line,
            severity="warning",
        )
        for line, code, first in rows[:MAX_PER_RULE]
    ]


def _summary(con: duckdb.DuckDBPyConnection, rule: str, condition: str, found: int, file: str) -> list[Problem]:
    if found <= MAX_PER_RULE:
        return []
    total = con.execute(f"SELECT count(*) FROM _chart_rows WHERE {condition}").fetchone()[0]
    return [Problem(rule, f"… y {integer(total - MAX_PER_RULE)} casos más de este tipo", file=file)]


def name_accounts(con: duckdb.DuckDBPyConnection) -> None:
    """Give every journal account a row in ``accounts``: its chart name, else the standard PGC name.

    The PGC name is that of the longest code in ``pgc_accounts.csv`` that prefixes the account
    (5720001 → 572 «Bancos e instituciones de crédito c/c vista, euros», source 'pgc'); an account
    with no such code gets «Cuenta <code>» with source 'desconocida'.
    """
    con.execute(
        """
        INSERT INTO accounts
        SELECT account, NULL, NULL FROM (
            SELECT DISTINCT account FROM journal WHERE account IS NOT NULL AND account <> ''
            EXCEPT SELECT account FROM accounts
        ) ORDER BY account
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _pgc AS
        SELECT code, name FROM read_csv($path, header=true, delim=',', quote='"', escape='"', auto_detect=false,
                                        columns={'code': 'VARCHAR', 'name': 'VARCHAR'})
        """,
        {"path": str(PGC_FILE)},
    )
    con.execute(
        """
        UPDATE accounts SET name = best.name, source = 'pgc'
        FROM (
            SELECT a.account, arg_max(p.name, length(p.code)) AS name
            FROM (SELECT account, unnest(range(1, length(account) + 1)) AS n FROM accounts
                  WHERE name IS NULL OR name = '') a
            JOIN _pgc p ON p.code = left(a.account, a.n)
            GROUP BY a.account
        ) best
        WHERE accounts.account = best.account
        """
    )
    con.execute(
        "UPDATE accounts SET name = 'Cuenta ' || account, source = 'desconocida' WHERE name IS NULL OR name = ''"
    )
    con.execute("DROP TABLE _pgc")
