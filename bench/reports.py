"""Benchmark: the accounting reports on the 5,000,000-line demo company next to plain pandas over the same Parquet.

Run by hand (``.venv/bin/python bench/reports.py``); prints the median milliseconds of each report and the ratio to
a straightforward pandas computation of the same figures, measured in the same run. The company is generated and
loaded once into a cache folder under the temporary directory and reused by later runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable
BIG = "grancorp"
UNTIL = date(2026, 11, 28)
AS_OF = date(2026, 10, 31)  # a month end: the usual report date
MID = date(2026, 10, 15)  # a mid-month date: loose days read from the daily balances
DAILY = "daily_balances.parquet"


def ensure_store(workdir: Path, lines: int):
    """Generate (once) and load (once) the large company; returns its published snapshot."""
    from etl import service
    from etl.demo import generate
    from etl.store import Store
    from portal.settings import load_settings

    sources = workdir / f"sources-{lines}"
    if not (sources / BIG / "diario.csv").exists():
        print(f"Generando {BIG} con {lines:,} líneas en {sources} …", flush=True)
        generate(sources, until=UNTIL, big_lines=lines)
    settings = load_settings(
        {"PORTAL_DATA_DIR": str(workdir / f"reports-data-{lines}"), "PORTAL_SOURCE_DIR": str(sources)}
    )
    store = Store(settings.stores)
    snapshot = store.current(BIG) if store.company_dir(BIG).is_dir() else None
    if snapshot is None or not snapshot.has(DAILY):  # none yet, or loaded by an ETL older than the daily balances
        print(f"Cargando {BIG} …", flush=True)
        started = time.perf_counter()
        [result] = service.load_all(settings, companies=[BIG])
        if result.outcome != "published":
            raise SystemExit(f"la carga no se publicó: {result.message}")
        print(f"  cargado en {time.perf_counter() - started:.1f} s", flush=True)
        snapshot = store.current(BIG)
    return snapshot


def median_ms(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls after one warm-up call, in milliseconds."""
    action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# --- the straightforward pandas versions: read the journal Parquet, filter, group, map with the same layout --------


def _journal_frame(journal: str, **kwargs):
    """The journal through pandas with exact decimal columns (pyarrow decimal128, never floats)."""
    import pandas as pd

    return pd.read_parquet(journal, dtype_backend="pyarrow", **kwargs)


def pandas_balances(journal: str, start: date | None, end: date, *, pnl: bool) -> dict[str, Decimal]:
    """Per-account debit − credit the way a first version would do it: the whole journal through pandas."""
    frame = _journal_frame(journal, columns=["date", "account", "debit", "credit", "entry_type"])
    mask = frame["date"] <= end
    if start is not None:
        mask &= frame["date"] >= start
    if pnl:
        mask &= frame["entry_type"] != "regularizacion"
    else:
        mask &= ~((frame["entry_type"] == "cierre") & (frame["date"] == end))
    chosen = frame[mask]
    moved = (chosen["debit"] - chosen["credit"]).groupby(chosen["account"]).sum()
    return {account: Decimal(str(value)) for account, value in moved.items()}


def pandas_pnl(journal: str, found, period, prior) -> object:
    now, _ = found.evaluate(pandas_balances(journal, period.start, period.end, pnl=True).items())
    before, _ = found.evaluate(pandas_balances(journal, prior.start, prior.end, pnl=True).items())
    return now["49500"], before["49500"]


def pandas_balance(journal: str, found, as_of: date, prior: date) -> object:
    now, _ = found.evaluate(pandas_balances(journal, None, as_of, pnl=False).items())
    before, _ = found.evaluate(pandas_balances(journal, None, prior, pnl=False).items())
    return now["10000"] - now["30000"], before["10000"] - before["30000"]


def pandas_trial_balance(journal: str, start: date, as_of: date) -> object:
    frame = _journal_frame(journal, columns=["date", "account", "debit", "credit", "entry_type"])
    mask = (frame["date"] >= start) & (frame["date"] <= as_of)
    mask &= ~((frame["entry_type"] == "cierre") & (frame["date"] == as_of))
    table = frame[mask].groupby("account")[["debit", "credit"]].sum()
    return Decimal(str(table["debit"].sum())), Decimal(str(table["credit"].sum()))


def pandas_ledger_page(journal: str, account: str, start: date, end: date, page: int, size: int) -> object:
    frame = _journal_frame(journal, filters=[("account", "==", account)])
    moved = frame["debit"] - frame["credit"]
    opening = Decimal(str(moved[frame["date"] < start].sum()))
    lines = frame[(frame["date"] >= start) & (frame["date"] <= end)].sort_values(
        ["date", "entry", "source_file", "source_line"]
    )
    moves = (d - c for d, c in zip(lines["debit"].tolist(), lines["credit"].tolist(), strict=True))
    running = list(itertools.accumulate(moves, initial=opening))[1:]
    return lines.assign(balance=running).iloc[(page - 1) * size : page * size]


def without_daily(snapshot):
    """The same snapshot as if published before the daily balances existed: loose days read from the journal."""
    files = {name: info for name, info in snapshot.manifest["files"].items() if name != DAILY}
    return dataclasses.replace(snapshot, manifest={**snapshot.manifest, "files": files})


def forget_snapshot_caches() -> None:
    """Drop every per-process cache of the reports (monthly and daily balances, names, day indexes, the DuckDB
    database and its Parquet metadata cache): the next report is as cold as the first one after the server starts."""
    from reports import ledger, statements

    statements._monthly_cached.cache_clear()
    statements._daily_cached.cache_clear()
    statements._names_cached.cache_clear()
    ledger._day_index_cached.cache_clear()
    con = getattr(statements._local, "con", None)
    if con is not None:
        con.close()
        statements._local.con = None
    if statements._database is not None:
        statements._database.close()
        statements._database = None


def cold_ms(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` cold calls (caches dropped before each), in milliseconds."""
    times = []
    for _ in range(repeat):
        forget_snapshot_caches()
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def new_thread_ms(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls each in a new thread (as Streamlit runs every rerun), caches warm."""
    import threading

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        worker = threading.Thread(target=action)
        worker.start()
        worker.join()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    """Measure every report and its pandas counterpart; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=15, help="repeticiones de cada informe")
    parser.add_argument("--pandas-repeat", type=int, default=3, help="repeticiones de cada versión pandas")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "portal-bench"))
    args = parser.parse_args()

    from reports import periods
    from reports.layouts import layout
    from reports.ledger import ledger
    from reports.ratios import ratio_trend, ratio_trend_by_year, ratios
    from reports.statements import (
        balance_sheet,
        calendar_of,
        connection,
        model_of,
        monthly_pnl,
        prior_year_end,
        profit_and_loss,
        top_expenses,
    )
    from reports.trial_balance import trial_balance

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    snapshot = ensure_store(workdir, args.lines)
    journal = str(snapshot.file("journal.parquet"))
    calendar = calendar_of(snapshot)
    period = periods.year_to_date(calendar, AS_OF)
    busiest, busiest_lines = (
        connection()
        .execute(
            "SELECT account, count(*) FROM read_parquet($j) WHERE date BETWEEN $s AND $e"
            " AND left(account, 1) = '5' GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
            {"j": journal, "s": period.start, "e": AS_OF},
        )
        .fetchone()
    )
    page = 50
    loose_start, loose_end = date(2026, 1, 15), date(2026, 10, 20)  # partial months at both ends
    print(
        f"{BIG}: {snapshot.rows['journal.parquet']:,} líneas, {snapshot.rows['monthly_balances.parquet']:,} filas de "
        f"saldos mensuales, {snapshot.rows[DAILY]:,} de saldos diarios; {os.cpu_count()} núcleos; "
        f"informes a {AS_OF:%d/%m/%Y}; cuenta más movida {busiest} "
        f"({busiest_lines:,} líneas en el periodo, página {page} de 100 líneas)",
        flush=True,
    )

    found_pnl, found_bal = layout("pyg", model_of(snapshot)), layout("balance", model_of(snapshot))
    prior_end = prior_year_end(snapshot, AS_OF)
    mid_prior_end = prior_year_end(snapshot, MID)
    older = without_daily(snapshot)
    cases = [
        (
            "PyG con comparación",
            lambda: profit_and_loss(snapshot, period),
            lambda: pandas_pnl(journal, found_pnl, period, period.prior()),
            20,
        ),
        (
            "Balance con comparación",
            lambda: balance_sheet(snapshot, AS_OF),
            lambda: pandas_balance(journal, found_bal, AS_OF, prior_end),
            20,
        ),
        (
            "Balance a mitad de mes",
            lambda: balance_sheet(snapshot, MID),
            lambda: pandas_balance(journal, found_bal, MID, mid_prior_end),
            20,
        ),
        (
            "  el mismo sin saldos diarios",
            lambda: balance_sheet(older, MID),
            lambda: pandas_balance(journal, found_bal, MID, mid_prior_end),
            20,
        ),
        (
            "Sumas y saldos",
            lambda: trial_balance(snapshot, AS_OF),
            lambda: pandas_trial_balance(journal, period.start, AS_OF),
            20,
        ),
        (
            "Ficha de mayor (meses enteros)",
            lambda: ledger(snapshot, busiest, period.start, AS_OF, page=page, page_size=100),
            lambda: pandas_ledger_page(journal, busiest, period.start, AS_OF, page, 100),
            30,
        ),
        (
            "Ficha de mayor (días sueltos)",
            lambda: ledger(snapshot, busiest, loose_start, loose_end, page=page, page_size=100),
            lambda: pandas_ledger_page(journal, busiest, loose_start, loose_end, page, 100),
            30,
        ),
        (
            "  la misma sin saldos diarios",
            lambda: ledger(older, busiest, loose_start, loose_end, page=page, page_size=100),
            lambda: pandas_ledger_page(journal, busiest, loose_start, loose_end, page, 100),
            30,
        ),
    ]
    # Consistency first: the reports and the pandas versions must give the same figures.
    pnl = profit_and_loss(snapshot, period)
    assert pandas_pnl(journal, found_pnl, period, period.prior()) == (pnl.amount("49500"), pnl.prior("49500"))
    bal = balance_sheet(snapshot, AS_OF)
    assert pandas_balance(journal, found_bal, AS_OF, prior_end) == (bal.check, bal.prior_check)
    mid_bal = balance_sheet(snapshot, MID)
    assert pandas_balance(journal, found_bal, MID, mid_prior_end) == (mid_bal.check, mid_bal.prior_check)
    assert mid_bal.lines.equals(balance_sheet(older, MID).lines)  # daily balances or journal: the same to the cent
    trial = trial_balance(snapshot, AS_OF)
    assert pandas_trial_balance(journal, period.start, AS_OF) == (trial.total_debit, trial.total_credit)
    mine = ledger(snapshot, busiest, period.start, AS_OF, page=page, page_size=100)
    theirs = pandas_ledger_page(journal, busiest, period.start, AS_OF, page, 100)
    assert mine.rows["balance"].tolist() == theirs["balance"].tolist()
    mine = ledger(snapshot, busiest, loose_start, loose_end, page=page, page_size=100)
    theirs = pandas_ledger_page(journal, busiest, loose_start, loose_end, page, 100)
    assert mine.rows["balance"].tolist() == theirs["balance"].tolist() and len(mine.rows) == 100

    print(f"\n{'informe':34}{'mediana ms':>12}{'objetivo':>10}{'pandas ms':>12}{'pandas / informe':>18}")
    for label, report, baseline, target in cases:
        ours = median_ms(report, args.repeat)
        plain = median_ms(baseline, args.pandas_repeat)
        mark = "✓" if ours < target else "✗"
        print(f"{label:34}{ours:12.1f}{target:>9} {mark}{plain:12.0f}{plain / ours:17.0f}×", flush=True)

    fiscal_year = calendar.year_of(AS_OF)

    def pnl_page():
        """What the P&L page computes: statement, top expenses, the year and the year before month by month."""
        return (
            profit_and_loss(snapshot, period),
            top_expenses(snapshot, period),
            profit_and_loss(snapshot, periods.fiscal_year(calendar, fiscal_year)),
            monthly_pnl(snapshot, fiscal_year),
            monthly_pnl(snapshot, fiscal_year - 1),
        )

    def whole_page():
        return (
            profit_and_loss(snapshot, period),
            balance_sheet(snapshot, AS_OF),
            monthly_pnl(snapshot, AS_OF.year),
            ratios(snapshot, period),
            ledger(snapshot, busiest, period.start, AS_OF, page=1, page_size=100),
        )

    extra = [
        ("PyG mensual del ejercicio", lambda: monthly_pnl(snapshot, AS_OF.year)),
        ("Mayores gastos con comparación", lambda: top_expenses(snapshot, period)),
        ("Ratios del periodo", lambda: ratios(snapshot, period)),
        ("Ratios: evolución mensual", lambda: ratio_trend(snapshot, fiscal_year, until=AS_OF)),
        ("Ratios: evolución por años", lambda: ratio_trend_by_year(snapshot, until=AS_OF)),
        ("Página de PyG completa", pnl_page),
        ("Página de contabilidad completa", whole_page),
    ]
    print()
    for label, report in extra:
        print(f"{label:36}{median_ms(report, args.repeat):10.1f} ms", flush=True)
    cold = [
        ("Ficha de mayor (meses enteros)", lambda: ledger(snapshot, busiest, period.start, AS_OF, page=page)),
        ("Página de PyG completa", pnl_page),
        ("Página de contabilidad completa", whole_page),
    ]
    print("\nEn un hilo nuevo (cada rerun de Streamlit), cachés llenas")
    for label, report in cold:
        print(f"{label:36}{new_thread_ms(report, args.repeat):10.1f} ms", flush=True)
    print("\nEn frío (proceso recién arrancado: cachés, base DuckDB y metadatos Parquet vacíos)")
    for label, report in cold:
        print(f"{label:36}{cold_ms(report, max(3, args.repeat // 3)):10.1f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
