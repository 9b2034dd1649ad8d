"""Daily balances: the loose days of a range that is not whole months, with and without ``daily_balances.parquet``."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal as D

import duckdb
import pytest

from etl.store import Snapshot
from reports import periods
from reports.statements import DAILY_FILE, account_totals, balance_sheet, balance_totals, pnl_totals, profit_and_loss
from reports.trial_balance import trial_balance
from tests.reports_books import HEADER, load_company

# Fiscal years start on 16 March, so the regularización and cierre fall mid-month (15/03) and every fiscal-year
# range starts and ends mid-month. FY 2024 (16/03/2024–15/03/2025): capital, a sale, a purchase, a second sale,
# regularización (result 1.100,00) and cierre; FY 2025: apertura and a purchase.
JOURNAL = HEADER + (
    "16/03/2024;1;5720001;Aportación capital;10.000,00;;normal\n"
    "16/03/2024;1;1000000;Aportación capital;;10.000,00;normal\n"
    "20/04/2024;2;4300001;Factura 1;1.210,00;;normal\n"
    "20/04/2024;2;7000000;Factura 1;;1.000,00;normal\n"
    "20/04/2024;2;4770000;Factura 1;;210,00;normal\n"
    "10/05/2024;3;6000000;Compra mercaderías;400,00;;normal\n"
    "10/05/2024;3;5720001;Compra mercaderías;;400,00;normal\n"
    "05/03/2025;4;5720001;Venta al contado;500,00;;normal\n"
    "05/03/2025;4;7000000;Venta al contado;;500,00;normal\n"
    "15/03/2025;5;7000000;Regularización;1.500,00;;regularizacion\n"
    "15/03/2025;5;6000000;Regularización;;400,00;regularizacion\n"
    "15/03/2025;5;1290000;Regularización;;1.100,00;regularizacion\n"
    "15/03/2025;6;1000000;Cierre;10.000,00;;cierre\n"
    "15/03/2025;6;4770000;Cierre;210,00;;cierre\n"
    "15/03/2025;6;1290000;Cierre;1.100,00;;cierre\n"
    "15/03/2025;6;5720001;Cierre;;10.100,00;cierre\n"
    "15/03/2025;6;4300001;Cierre;;1.210,00;cierre\n"
    "16/03/2025;1;5720001;Apertura;10.100,00;;apertura\n"
    "16/03/2025;1;4300001;Apertura;1.210,00;;apertura\n"
    "16/03/2025;1;1000000;Apertura;;10.000,00;apertura\n"
    "16/03/2025;1;4770000;Apertura;;210,00;apertura\n"
    "16/03/2025;1;1290000;Apertura;;1.100,00;apertura\n"
    "20/03/2025;2;6000000;Compra mercaderías;300,00;;normal\n"
    "20/03/2025;2;5720001;Compra mercaderías;;300,00;normal\n"
    "28/03/2025;3;5720001;Cobro factura 1;1.210,00;;normal\n"
    "28/03/2025;3;4300001;Cobro factura 1;;1.210,00;normal\n"
)
CAL = periods.FiscalCalendar(start_month=3, start_day=16)


@pytest.fixture(scope="module")
def current(tmp_path_factory):
    root = tmp_path_factory.mktemp("daily")
    return load_company(
        root, "diaria", JOURNAL, {"nombre": "Diaria SL", "modelo_pgc": "pymes", "inicio_ejercicio": "16-03"}
    )


def _copy_without(snapshot: Snapshot, name: str, target) -> Snapshot:
    """A copy of the snapshot whose folder and manifest lack one file (as if published before it existed)."""
    folder = target / snapshot.snapshot_id
    shutil.copytree(snapshot.path, folder)
    (folder / name).unlink()
    manifest = json.loads(json.dumps(snapshot.manifest))
    del manifest["files"][name]
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return Snapshot(snapshot.company, snapshot.snapshot_id, folder, manifest)


@pytest.fixture(scope="module")
def older(current, tmp_path_factory):
    """The same snapshot as published before the daily balances: loose days come from the journal."""
    return _copy_without(current, DAILY_FILE, tmp_path_factory.mktemp("older"))


@pytest.fixture(scope="module")
def daily_only(current, tmp_path_factory):
    """The snapshot without its journal: anything computed from it never read the journal."""
    return _copy_without(current, "journal.parquet", tmp_path_factory.mktemp("daily-only"))


def test_the_daily_file_is_listed_in_the_manifest_and_sorted_by_date(current):
    info = current.files[DAILY_FILE]
    assert set(info) == {"sha256", "bytes", "rows"}
    current.verify()  # its checksum and size match
    rows = (
        duckdb.connect()
        .execute(
            "SELECT date, account, fiscal_year, entry_type, debit, credit, lines FROM read_parquet($p)",
            {"p": str(current.file(DAILY_FILE))},
        )
        .fetchall()
    )
    assert info["rows"] == len(rows)
    assert [r[:2] for r in rows] == sorted(r[:2] for r in rows)
    # One row per day, account, fiscal year and entry type: the 15/03/2025 cierre and regularización of 7000000…
    by_key = {(r[0], r[1], r[3]): r for r in rows}
    assert by_key[date(2025, 3, 15), "1290000", "cierre"][2:] == (2024, "cierre", D("1100.00"), D("0.00"), 1)
    assert by_key[date(2025, 3, 16), "5720001", "apertura"][2:] == (2025, "apertura", D("10100.00"), D("0.00"), 1)
    # …and the sums of every day add up to the journal's.
    assert sum(r[4] for r in rows) == sum(r[5] for r in rows) == D(current.manifest["total_debit"])
    assert sum(r[6] for r in rows) == current.manifest["journal_lines"] == 26


# (start, end, options) -> per-account (Σdebit, Σcredit), computed by hand from JOURNAL.
CASES = [
    # Mid-month to mid-month across whole months, regularización left out (a P&L range).
    (
        date(2024, 4, 20),
        date(2025, 3, 10),
        {"without_regularizacion": True, "groups": "67"},
        {"6000000": (D("400.00"), D("0.00")), "7000000": (D("0.00"), D("1500.00"))},
    ),
    # A balance at the mid-month fiscal year end: everything up to 15/03/2025 but that day's cierre.
    (
        None,
        date(2025, 3, 15),
        {"without_cierre_on_end": True},
        {
            "1000000": (D("0.00"), D("10000.00")),
            "1290000": (D("0.00"), D("1100.00")),
            "4300001": (D("1210.00"), D("0.00")),
            "4770000": (D("0.00"), D("210.00")),
            "5720001": (D("10500.00"), D("400.00")),
            "6000000": (D("400.00"), D("400.00")),
            "7000000": (D("1500.00"), D("1500.00")),
        },
    ),
    # Within one month, across the cierre and the apertura, one fiscal year only.
    (
        date(2025, 3, 10),
        date(2025, 3, 31),
        {"fiscal_year": 2025, "account": "5720001"},
        {"5720001": (D("11310.00"), D("300.00"))},
    ),
    # The same days over both fiscal years, without the cierre of an end that has none.
    (
        date(2025, 3, 1),
        date(2025, 3, 20),
        {"without_cierre_on_end": True, "groups": "5"},
        {"5720001": (D("10600.00"), D("10400.00"))},
    ),
]


@pytest.mark.parametrize(("start", "end", "options", "expected"), CASES)
def test_loose_days_are_the_same_with_and_without_the_daily_file(
    current, older, daily_only, start, end, options, expected
):
    for snapshot in (current, older, daily_only):
        assert account_totals(snapshot, start, end, **options) == expected, snapshot.path


def test_statements_at_mid_month_dates_are_the_same_to_the_cent(current, older, daily_only):
    for snapshot in (current, older, daily_only):
        bal = balance_sheet(snapshot, date(2025, 3, 15))  # pre-closing: the result sits in 129
        assert (bal.check, bal.amount("21700")) == (D("0.00"), D("1100.00"))
        assert bal.prior_check is None  # no data before the prior year-end (15/03/2024)
        later = balance_sheet(snapshot, date(2025, 3, 20))
        assert later.check == D("0.00")
        assert later.prior("21700") == D("1100.00")
        assert later.amount("21700") == D("800.00")  # 129 brought forward, less the 300,00 purchase
        pnl = profit_and_loss(snapshot, periods.fiscal_year(CAL, 2024))  # 16/03/2024–15/03/2025
        assert (pnl.amount("40100"), pnl.amount("40400"), pnl.amount("49500")) == (
            D("1500.00"),
            D("-400.00"),
            D("1100.00"),
        )
        trial = trial_balance(snapshot, date(2025, 3, 20))
        assert trial.total_debit == trial.total_credit
    # Every figure of every report is identical with or without the daily file.
    for as_of in (date(2024, 4, 20), date(2025, 3, 15), date(2025, 3, 16), date(2025, 3, 28)):
        assert balance_totals(current, as_of) == balance_totals(older, as_of)
        assert balance_sheet(current, as_of).lines.equals(balance_sheet(older, as_of).lines)
        period = periods.Period(date(2024, 3, 20), as_of, "range", "libre", 2024, CAL)
        assert pnl_totals(current, period) == pnl_totals(older, period)


def test_every_range_around_the_year_end_is_the_same_with_and_without_the_daily_file(current, older):
    days = [date(2024, 3, 16), date(2024, 4, 20), date(2024, 4, 30), date(2025, 3, 1), date(2025, 3, 14)]
    days += [date(2025, 3, 15), date(2025, 3, 16), date(2025, 3, 20), date(2025, 3, 31), date(2025, 4, 1)]
    options = [
        {},
        {"without_regularizacion": True, "groups": "67"},
        {"without_cierre_on_end": True},
        {"fiscal_year": 2024, "account": "5720001"},
    ]
    for start in [None, *days]:
        for end in days:
            for chosen in options:
                assert account_totals(current, start, end, **chosen) == account_totals(older, start, end, **chosen), (
                    start,
                    end,
                    chosen,
                )
