"""One company's load: read and validate its exports, write a snapshot, publish or stage it, log the run."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from etl.chart import name_accounts, read_chart
from etl.journal import JournalResult, read_journal
from etl.modules import ModuleOutput, readers
from etl.problems import Problem, has_errors
from etl.sources import (
    COMPANY_FILE,
    CompanyInfo,
    chart_file,
    journal_files,
    read_company_info,
    source_file,
    source_hash,
    symlink_problems,
)
from etl.store import Snapshot, Store, crash_point
from etl.trial_balance_input import ACCOUNTING_SOURCE, both_inputs_problem, read_trial_balances, trial_balance_files
from portal.codes import is_company_code
from portal.db import companies, etl_problems, etl_runs
from portal.settings import Settings

log = logging.getLogger(__name__)

# Bumped whenever the snapshot layout or the reading rules change, so identical sources are reloaded.
SCHEMA_VERSION = 3  # 3: daily_balances.parquet (reports fall back to the journal for older snapshots)
MAX_PROBLEMS_LOGGED = 2000

Progress = Callable[[str], None]


@dataclass
class RunResult:
    """What one company's load did; the CLI prints it and the staff page shows it."""

    company: str
    outcome: str  # 'published', 'staged', 'unchanged', 'rejected', 'failed'
    run_id: int | None = None
    snapshot_id: str | None = None
    rows_read: int = 0
    errors: int = 0
    warnings: int = 0
    message: str = ""
    problems: list[Problem] = field(default_factory=list)


# One pass over the journal per day, account, fiscal year and entry type; the monthly and daily balances read it.
DAY_TOTALS = """
    CREATE OR REPLACE TEMP TABLE day_totals AS
    SELECT date, account, fiscal_year, entry_type, sum(debit) AS debit, sum(credit) AS credit, count(*) AS lines
    FROM journal GROUP BY ALL"""

# The Parquet files of a snapshot and the SQL that produces each from the validated `journal` and `accounts` tables
# (and `day_totals`, and the enums of `_sort_enums`).
SNAPSHOT_TABLES: dict[str, str] = {
    # Sorted by account then date, then file order: account cards and date-range filters read few row groups.
    "journal.parquet": """
        SELECT fiscal_year, date, entry, account, description, debit, credit, entry_type::VARCHAR AS entry_type,
               source_file::VARCHAR AS source_file, source_line
        FROM (
            SELECT fiscal_year, date, entry, account, description, debit, credit,
                   entry_type::_journal_type AS entry_type, source_file::_journal_file AS source_file, source_line
            FROM journal ORDER BY account, date, rowid
        )""",
    "accounts.parquet": """
        SELECT account, name, source FROM accounts ORDER BY account""",
    # Per account, month and entry type: reports exclude regularización / cierre by filtering entry_type.
    "monthly_balances.parquet": """
        SELECT account, fiscal_year, year(date)::INTEGER AS year, month(date)::INTEGER AS month, entry_type,
               sum(debit)::DECIMAL(18,2) AS debit, sum(credit)::DECIMAL(18,2) AS credit, sum(lines)::BIGINT AS lines
        FROM day_totals GROUP BY ALL ORDER BY account, fiscal_year, year, month, entry_type""",
    # Per day, account and entry type, sorted by date: reports read the loose days of a range that is not whole
    # months from it (a range across all accounts cannot prune the journal, sorted by account).
    "daily_balances.parquet": """
        SELECT date, account, fiscal_year, entry_type, debit::DECIMAL(18,2) AS debit, credit::DECIMAL(18,2) AS credit,
               lines::BIGINT AS lines
        FROM day_totals ORDER BY date, account, fiscal_year, entry_type""",
}


def load_company(
    settings: Settings,
    engine: Engine,
    store: Store,
    code: str,
    *,
    trigger: str = "cli",
    progress: Progress | None = None,
) -> RunResult:
    """Load one company folder; never raises for bad data (the run records why), and never half-publishes."""
    if not is_company_code(code):
        return RunResult(code, "rejected", message=f"Código de empresa no válido: {code!r}")
    folder = settings.sources / code
    run_id = _start_run(engine, code, trigger)
    say = _recorded(engine, run_id, progress)
    try:
        result = _load(settings, engine, store, code, folder, run_id, say)
    except Exception as exc:  # an unexpected failure must be recorded, not lost
        log.exception("load of %s failed", code)
        result = RunResult(code, "failed", message=f"Error inesperado durante la carga: {exc}")
    result.run_id = run_id
    _finish_run(engine, run_id, result)
    return result


def _load(
    settings: Settings, engine: Engine, store: Store, code: str, folder: Path, run_id: int, say: Progress
) -> RunResult:
    links = symlink_problems(folder)  # before anything is read: a symlink could bring in another company's files
    if links:
        return _rejected(code, links, 0)
    if not folder.is_dir():
        return RunResult(code, "rejected", message=f"No existe la carpeta de la empresa {code}")
    info, problems = read_company_info(folder)
    files = journal_files(folder)
    balances = trial_balance_files(folder)  # sumas y saldos: the accounting of a firm with no journal export
    chart = chart_file(folder)
    company_file = source_file(folder, COMPANY_FILE)
    inputs = [
        *files,
        *balances,
        *([chart] if chart else []),
        *([company_file] if company_file else []),
        *(path for reader in readers() for path in reader.inputs(folder)),
    ]
    digest = source_hash(inputs, extra=f"schema={SCHEMA_VERSION}", root=folder)
    _upsert_company(engine, info)
    with store.lock(code, timeout=settings.lock_timeout):
        store.cleanup(code)
        same = store.find_source_hash(code, digest)
        if same is not None:
            say("sin cambios")
            return RunResult(
                code,
                "unchanged",
                snapshot_id=same.snapshot_id,
                message="Sin cambios desde la última carga",
            )
        if files and balances:
            problems.append(both_inputs_problem(files, balances))
        if not files and not balances:
            message = (
                "No hay ningún archivo de diario (diario*.csv, diario*.xlsx, DIARIO.DBF de ContaPlus o su copia"
                " de seguridad .zip) ni de sumas y saldos (sumas_y_saldos*.xlsx)"
            )
            problems.append(Problem("no_journal", message, file=code))
            return _rejected(code, problems, 0)
        if has_errors(problems):
            return _rejected(code, problems, 0)
        with _duckdb(settings) as con:
            say("leyendo")
            problems += read_chart(con, chart, info)
            if balances:
                journal = read_trial_balances(con, balances, info, chart_accounts=chart is not None)
            else:
                journal = read_journal(con, files, info, chart_accounts=chart is not None)
            problems += journal.problems
            crash_point("after_read")
            if has_errors(problems):
                return _rejected(code, problems, journal.rows_read)
            name_accounts(con)
            modules: dict[str, ModuleOutput] = {}
            for reader in readers():
                say(f"leyendo {reader.name}")
                modules[reader.name] = reader.read(con, folder, info)
                problems += modules[reader.name].problems
            if has_errors(problems):
                return _rejected(code, problems, journal.rows_read)
            say("escribiendo")
            source = ACCOUNTING_SOURCE if balances else "diario"
            snapshot = _write_snapshot(con, store, code, digest, run_id, info, journal, modules, source)
        publish_mode = _publish_mode(engine, code)
        if publish_mode == "manual":
            store.stage(code, snapshot.snapshot_id)
            outcome, message = "staged", "Carga preparada; pendiente de publicar"
        else:
            store.publish(code, snapshot.snapshot_id)
            outcome, message = "published", "Carga publicada"
        store.cleanup(code)
        say(message.lower())
        warnings = [p for p in problems if p.severity == "warning"]
        return RunResult(
            code,
            outcome,
            snapshot_id=snapshot.snapshot_id,
            rows_read=journal.rows_read,
            warnings=len(warnings),
            message=message,
            problems=warnings,
        )


def _rejected(code: str, problems: list[Problem], rows_read: int) -> RunResult:
    errors = [p for p in problems if p.severity == "error"]
    first = errors[0]
    where = f" ({first.where()})" if first.where() else ""
    return RunResult(
        code,
        "rejected",
        rows_read=rows_read,
        errors=len(errors),
        warnings=len(problems) - len(errors),
        message=f"Carga rechazada: {len(errors)} error(es). Primero: {first.message}{where}",
        problems=problems,
    )


class _duckdb:
    """An in-memory DuckDB for one load, bounded in memory, spilling to a private temporary folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        tmp_root = self.settings.data_dir / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="load-", dir=tmp_root))
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET memory_limit = ?", [self.settings.etl_memory_limit])
        self.con.execute("SET temp_directory = ?", [str(self.tmp)])
        self.con.execute("SET preserve_insertion_order = true")
        return self.con

    def __exit__(self, *_exc: object) -> None:
        self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _write_snapshot(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    code: str,
    digest: str,
    run_id: int,
    info: CompanyInfo,
    journal: JournalResult,
    modules: dict[str, ModuleOutput],
    accounting_source: str = "diario",
) -> Snapshot:
    writer = store.new_snapshot(code, digest)
    module_tables = {name: query for output in modules.values() for name, query in output.tables.items()}
    try:
        con.execute(DAY_TOTALS)
        _sort_enums(con, journal)
        for name, query in {**SNAPSHOT_TABLES, **module_tables}.items():
            target = writer.path / name
            con.execute(f"COPY ({query}) TO '{_sql_path(target)}' (FORMAT parquet, COMPRESSION snappy)")
            crash_point("mid_parquet_write")
        totals = con.execute(  # the day totals add up to the journal's totals, from far fewer rows
            "SELECT coalesce(sum(lines), 0)::BIGINT, sum(debit), sum(credit), min(date), max(date),"
            " list(DISTINCT fiscal_year ORDER BY fiscal_year) FROM day_totals"
        ).fetchone()
        assert totals is not None
        lines, debit, credit, first, last, years = totals
        if debit != credit:  # every entry balanced, so the whole journal must: a last guard before publishing
            raise RuntimeError(f"El diario no cuadra: debe {debit} ≠ haber {credit}")
        manifest = {
            "run_id": run_id,
            "company_name": info.name,
            "nif": info.nif,
            "pgc_model": info.model,
            "fiscal_year_start": f"{info.fiscal_year_start_day:02d}-{info.fiscal_year_start_month:02d}",
            "fiscal_years": years,
            "first_date": first.isoformat() if first else None,
            "last_date": last.isoformat() if last else None,
            "journal_lines": lines,
            "total_debit": str(debit),
            "total_credit": str(credit),
            "formats": [vars(f) for f in journal.formats],
            "accounting_source": accounting_source,  # 'sumas_y_saldos': no entries (the Mayor and Diario say so)
            "year_end_entries": [
                {
                    "fiscal_year": c.fiscal_year,
                    "entry": c.entry,
                    "date": c.date.isoformat(),
                    "entry_type": c.entry_type,
                    "method": c.method,
                    "lines": c.lines,
                }
                for c in journal.classifications
            ],
            "modules": {
                name: {"files": sorted(output.tables), **output.manifest}
                for name, output in modules.items()
                if output.tables
            },
        }
        return writer.commit(manifest)
    except BaseException:
        writer.abort()
        raise


def _sort_enums(con: duckdb.DuckDBPyConnection, journal: JournalResult) -> None:
    """The journal's file names and entry types as enums, for the sort of ``journal.parquet``.

    Sorting moves every column of every line. As strings, a file name («empresa/diario.csv», nearly always longer
    than the 12 bytes DuckDB keeps inline) rides on the sort's string heap and an entry type takes 16 bytes; as enums
    both take one byte, cast back to text after the sort. A value missing from an enum fails the cast, and the load,
    rather than being written wrong.
    """
    files = sorted({f.file for f in journal.formats})  # every line's source_file is one of them
    con.execute(
        "CREATE OR REPLACE TYPE _journal_file AS ENUM (SELECT DISTINCT unnest($files::VARCHAR[]) AS f ORDER BY f)",
        {"files": files},
    )
    con.execute(
        "CREATE OR REPLACE TYPE _journal_type AS ENUM ("
        " SELECT DISTINCT entry_type FROM day_totals WHERE entry_type IS NOT NULL ORDER BY entry_type)"
    )


def _sql_path(path: Path) -> str:
    """A path for a COPY statement (which takes no parameters): store paths never contain quotes."""
    text = str(path)
    if "'" in text:
        raise ValueError(f"ruta no admitida: {text}")
    return text


def _now() -> datetime:
    return datetime.now(UTC)


def _start_run(engine: Engine, code: str, trigger: str) -> int:
    with engine.begin() as conn:
        row = conn.execute(
            sa.insert(etl_runs)
            .values(company=code, trigger=trigger, started_at=_now(), outcome="running")
            .returning(etl_runs.c.id)
        ).one()
    return int(row[0])


def _recorded(engine: Engine, run_id: int, progress: Progress | None) -> Progress:
    """Progress that also lands in the running run's message, so Cargas de datos shows it from any process."""

    def say(message: str) -> None:
        with engine.begin() as conn:
            conn.execute(sa.update(etl_runs).where(etl_runs.c.id == run_id).values(message=message[:500]))
        if progress is not None:
            progress(message)

    return say


def _finish_run(engine: Engine, run_id: int, result: RunResult) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(etl_runs)
            .where(etl_runs.c.id == run_id)
            .values(
                finished_at=_now(),
                outcome=result.outcome,
                snapshot_id=result.snapshot_id,
                rows_read=result.rows_read,
                rows_accepted=result.rows_read if result.outcome in ("published", "staged") else 0,
                errors=result.errors,
                warnings=result.warnings,
                message=result.message,
            )
        )
        rows = [
            {
                "run_id": run_id,
                "severity": p.severity,
                "rule": p.rule,
                "file": p.file,
                "line": p.line,
                "entry": p.entry,
                "message": p.message,
            }
            for p in result.problems[:MAX_PROBLEMS_LOGGED]
        ]
        if rows:
            conn.execute(sa.insert(etl_problems), rows)


def _upsert_company(engine: Engine, info: CompanyInfo) -> None:
    with engine.begin() as conn:
        exists = conn.execute(sa.select(companies.c.code).where(companies.c.code == info.code)).first()
        values = {"name": info.name, "nif": info.nif, "updated_at": _now()}
        if exists:
            conn.execute(sa.update(companies).where(companies.c.code == info.code).values(**values))
        else:
            conn.execute(sa.insert(companies).values(code=info.code, publish_mode="auto", **values))


def _publish_mode(engine: Engine, code: str) -> str:
    with engine.connect() as conn:
        mode = conn.execute(sa.select(companies.c.publish_mode).where(companies.c.code == code)).scalar()
    return mode or "auto"
