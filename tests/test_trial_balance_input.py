"""Sumas y saldos as the accounting input: hand-made trial balances → statements computed by hand, every validation
rule naming file and row, and the Mayor / Diario pages saying there are no entries."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import duckdb
import openpyxl
import pytest

from auth import passwords
from etl import service
from etl.demo.companies import OLIVO
from etl.demo.journal import Simulator
from etl.demo.trial_balance import write_trial_balance_company
from etl.sources import CompanyInfo
from etl.store import Snapshot, Store
from etl.trial_balance_input import ACCOUNTING_SOURCE, read_trial_balances
from portal.db import get_engine
from portal.settings import load_settings
from reports import journal, periods
from reports.statements import balance_sheet, profit_and_loss
from reports.trial_balance import trial_balance
from tests.test_security import client, make_world, open_page, signed_in, texts

CAL = periods.FiscalCalendar()
COMPANY = CompanyInfo(code="tb", name="TB SL", fiscal_years=(2025, 2026))
HEADER = ["Cuenta", "Descripción", "Sumas Debe", "Sumas Haber", "Saldo Deudor", "Saldo Acreedor"]

# The year 2025 by hand (no VAT on purchases, 8 accounts):
#   1. capital          572 D 10.000 / 100 H 10.000
#   2. sale             430 D 12.100 / 700 H 10.000, 477 H 2.100
#   3. purchase         600 D  4.000 / 400 H  4.000
#   -- 30/06/2025 --
#   4. collection       572 D  6.050 / 430 H  6.050
#   5. payment          400 D  3.000 / 572 H  3.000
#   6. wages            640 D  2.500 / 572 H  2.500
#   -- 31/12/2025 --
# At 30/06: Σ sums 26.100 = 26.100, P&L +10.000 − 4.000 = 6.000.
JUNE_2025 = [
    ("1000000", "Capital social", "0", "10000", "0", "10000"),
    ("4000001", "Proveedor Uno", "0", "4000", "0", "4000"),
    ("4300001", "Cliente Uno", "12100", "0", "12100", "0"),
    ("4770000", "IVA repercutido", "0", "2100", "0", "2100"),
    ("5720001", "Banco", "10000", "0", "10000", "0"),
    ("6000000", "Compras", "4000", "0", "4000", "0"),
    ("7000000", "Ventas", "0", "10000", "0", "10000"),
]
# At 31/12: Σ sums 37.650 = 37.650, Σ saldos 23.100 = 23.100; P&L 10.000 − 4.000 − 2.500 = 3.500;
# assets 430 6.050 + 572 10.550 = 16.600 = equity 10.000 + 3.500 + liabilities 400 1.000 + 477 2.100.
DECEMBER_2025 = [
    ("1000000", "Capital social", "0", "10000", "0", "10000"),
    ("4000001", "Proveedor Uno", "3000", "4000", "0", "1000"),
    ("4300001", "Cliente Uno", "12100", "6050", "6050", "0"),
    ("4770000", "IVA repercutido", "0", "2100", "0", "2100"),
    ("5720001", "Banco", "16050", "5500", "10550", "0"),
    ("6000000", "Compras", "4000", "0", "4000", "0"),
    ("6400000", "Sueldos y salarios", "2500", "0", "2500", "0"),
    ("7000000", "Ventas", "0", "10000", "0", "10000"),
]
# 2026 (sums include the apertura; the 2025 result still in 129): sale 430 D 1.210 / 700 H 1.000, 477 H 210.
# Σ 17.810 = 17.810; P&L Q1 = 1.000; assets 7.260 + 10.550 = 17.810 = 10.000 + 3.500 + 1.000 + 1.000 + 2.310.
MARCH_2026 = [
    ("1000000", "Capital social", "0", "10000", "0", "10000"),
    ("1290000", "Resultado del ejercicio", "0", "3500", "0", "3500"),
    ("4000001", "Proveedor Uno", "0", "1000", "0", "1000"),
    ("4300001", "Cliente Uno", "7260", "0", "7260", "0"),
    ("4770000", "IVA repercutido", "0", "2310", "0", "2310"),
    ("5720001", "Banco", "10550", "0", "10550", "0"),
    ("7000000", "Ventas", "0", "1000", "0", "1000"),
]


def write_xlsx(path: Path, rows: list[tuple], *, title: str = "", header: list[str] = HEADER) -> Path:
    """A trial balance as packages export it: title and period above the header, numbers as number cells."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Balance de sumas y saldos"])
    sheet.append([title])
    sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append([int(row[0]), row[1], *(float(v) for v in row[2:])])
    sheet.append([None, "TOTALES"])
    book.save(path)
    return path


def write_csv(path: Path, rows: list[tuple]) -> Path:
    lines = [";".join(HEADER)] + [
        ";".join(r[:2]) + ";" + ";".join(f"{D(v):.2f}".replace(".", ",") for v in r[2:]) for r in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_company(settings, code: str, files: dict[str, list[tuple]], years=(2025, 2026)) -> Path:
    folder = settings.sources / code
    folder.mkdir(parents=True, exist_ok=True)
    empresa = {"nombre": "Almazara de Prueba SL", "modelo_pgc": "pymes", "ejercicios": list(years)}
    (folder / "empresa.json").write_text(json.dumps(empresa), encoding="utf-8")
    for name, rows in files.items():
        (write_csv if name.endswith(".csv") else write_xlsx)(folder / name, rows)
    return folder


def load(root: Path, code: str, files: dict[str, list[tuple]]) -> Snapshot:
    settings = load_settings({"PORTAL_DATA_DIR": str(root / "data")})
    write_company(settings, code, files)
    [result] = service.load_all(settings, companies=[code])
    assert result.outcome == "published", [p.message for p in result.problems] or result.message
    snapshot = Store(settings.stores).current(code)
    assert snapshot is not None
    return snapshot


@pytest.fixture(scope="module")
def snap(tmp_path_factory) -> Snapshot:
    files = {
        "sumas_y_saldos_2025-06.xlsx": JUNE_2025,
        "sumas_y_saldos_2025.xlsx": DECEMBER_2025,
        "sumas_y_saldos_2026-03.csv": MARCH_2026,
    }
    return load(tmp_path_factory.mktemp("tb"), "tb", files)


def figures(statement, *codes: str) -> dict[str, D]:
    return {code: statement.amount(code) for code in codes}


# --- statements from balances ---------------------------------------------------------------------------------------


def test_the_year_pnl_and_balance_sheet_tie_out(snap):
    pnl = profit_and_loss(snap, periods.fiscal_year(CAL, 2025), compare=False)
    # 700 10.000; 600 −4.000; 640 −2.500 → result 3.500
    assert figures(pnl, "40100", "40400", "40600", "49500") == {
        "40100": D("10000.00"),
        "40400": D("-4000.00"),
        "40600": D("-2500.00"),
        "49500": D("3500.00"),
    }
    sheet = balance_sheet(snap, date(2025, 12, 31), compare=False)
    # assets 16.600 = capital 10.000 + result 3.500 + 400 1.000 + 477 2.100
    assert figures(sheet, "10000", "30000", "21700") == {
        "10000": D("16600.00"),
        "30000": D("16600.00"),
        "21700": D("3500.00"),
    }
    assert sheet.check == 0 and sheet.unmapped == () and pnl.unmapped == ()


def test_the_second_period_holds_the_differences(snap):
    first = profit_and_loss(snap, periods.date_range(CAL, date(2025, 1, 1), date(2025, 6, 30)), compare=False)
    second = profit_and_loss(snap, periods.date_range(CAL, date(2025, 7, 1), date(2025, 12, 31)), compare=False)
    assert first.amount("49500") == D("6000.00")  # 10.000 − 4.000
    assert second.amount("49500") == D("-2500.00")  # only the wages moved in the second half
    assert second.amount("40100") == D("0.00")
    lines = journal.recent_entries(snap, limit=100, date_from=date(2025, 12, 31), date_to=date(2025, 12, 31))
    normal = lines[lines["entry_type"] == "normal"]
    moves = {row.account: row.debit - row.credit for row in normal.itertuples()}
    # 400: −1.000 − (−4.000); 430: 6.050 − 12.100; 572: 10.550 − 10.000; 640: +2.500 (balanced: 6.050 each side)
    assert moves == {"4000001": D("3000.00"), "4300001": D("-6050.00"), "5720001": D("550.00"), "6400000": D("2500.00")}
    assert set(normal["description"]) == {"Saldo según sumas y saldos hasta 31/12/2025"}


def test_a_new_year_starts_its_pnl_at_zero_and_carries_the_result_in_129(snap):
    pnl = profit_and_loss(snap, periods.fiscal_year(CAL, 2026), compare=True)
    assert pnl.amount("49500") == D("1000.00") and pnl.prior("49500") == D("3500.00")
    sheet = balance_sheet(snap, date(2026, 3, 31))
    # assets 7.260 + 10.550 = 17.810; 129 (3.500, not yet applied) + the 2026 result (1.000) in line 21700
    assert figures(sheet, "10000", "30000", "21700") == {
        "10000": D("17810.00"),
        "30000": D("17810.00"),
        "21700": D("4500.00"),
    }
    assert sheet.prior("10000") == D("16600.00") and sheet.balanced
    years = [(e["fiscal_year"], e["entry_type"], e["method"]) for e in snap.manifest["year_end_entries"]]
    assert years == [(2025, "regularizacion", "sumas y saldos")]


def test_the_trial_balance_page_shows_the_files_balances(snap):
    trial = trial_balance(snap, date(2025, 6, 30))
    balances = dict(zip(trial.rows["account"], trial.rows["balance"], strict=True))
    assert balances["5720001"] == D("10000.00") and balances["7000000"] == D("-10000.00")
    assert (
        trial.total_debit == trial.total_credit == D("26100.00")
    )  # one entry per period: its sums are the balances' differences
    year_end = trial_balance(snap, date(2025, 12, 31))
    balances = dict(zip(year_end.rows["account"], year_end.rows["balance"], strict=True))
    # like a journal's books, the year end shows the regularización: 6/7 at zero, the 3.500 result in 129
    assert balances["5720001"] == D("10550.00") and balances["7000000"] == D("0.00")
    assert balances["1290000"] == D("-3500.00")


def test_the_manifest_marks_the_source_and_the_formats(snap):
    manifest = snap.manifest
    assert manifest["accounting_source"] == ACCOUNTING_SOURCE
    found = {f["file"]: f for f in manifest["formats"]}
    assert found["tb/sumas_y_saldos_2025-06.xlsx"]["period_end"] == "2025-06-30"
    assert found["tb/sumas_y_saldos_2025-06.xlsx"]["header_row"] == 4
    assert found["tb/sumas_y_saldos_2025.xlsx"]["period_end"] == "2025-12-31"
    assert found["tb/sumas_y_saldos_2026-03.csv"]["separator"] == ";"
    assert found["tb/sumas_y_saldos_2026-03.csv"]["columns"]["debit_balance"] == "Saldo Deudor"
    assert not journal.has_entries(snap)


# --- validation rules -----------------------------------------------------------------------------------------------


def problems_of(tmp_path: Path, files: dict[str, list[tuple]], **kwargs) -> list:
    """The problems the reader finds in the files (written into tmp_path), errors first."""
    paths = []
    for name, rows in files.items():
        writer = kwargs.pop(f"writer_{name}", None) or (write_csv if name.endswith(".csv") else write_xlsx)
        paths.append(writer(tmp_path / name, rows))
    with duckdb.connect() as con:
        con.execute("CREATE TABLE accounts (account VARCHAR, name VARCHAR, source VARCHAR)")
        result = read_trial_balances(con, paths, COMPANY)
    return [(p.rule, p.file, p.line) for p in result.problems if p.severity == "error"], result.problems


def changed(rows: list[tuple], account: str, **values: str) -> list[tuple]:
    """The rows with one account's columns replaced (sd, sh, deudor, acreedor)."""
    positions = {"sd": 2, "sh": 3, "deudor": 4, "acreedor": 5}
    out = []
    for row in rows:
        row = list(row)
        if row[0] == account:
            for key, value in values.items():
                row[positions[key]] = value
        out.append(tuple(row))
    return out


def test_unbalanced_sums_and_balances_name_the_file(tmp_path):
    rows = changed(DECEMBER_2025, "5720001", sd="16060", deudor="10560")  # 10 € more on the debit side
    errors, found = problems_of(tmp_path, {"sumas_y_saldos_2025.xlsx": rows})
    assert ("tb_unbalanced_sums", f"{tmp_path.name}/sumas_y_saldos_2025.xlsx", None) in errors
    assert ("tb_unbalanced_balances", f"{tmp_path.name}/sumas_y_saldos_2025.xlsx", None) in errors
    assert any("37.660,00 ≠ sumas haber 37.650,00" in p.message for p in found)


def test_a_row_whose_balance_is_not_its_sums_is_named_by_row(tmp_path):
    rows = changed(DECEMBER_2025, "4300001", deudor="6000")  # 12.100 − 6.050 is 6.050
    errors, found = problems_of(tmp_path, {"sumas_y_saldos_2025.xlsx": rows})
    # title, period, blank, header: the first account is row 5, 4300001 the third account → row 7
    assert ("tb_row_balance", f"{tmp_path.name}/sumas_y_saldos_2025.xlsx", 7) in errors
    assert any("cuenta 4300001: el saldo (6.000,00)" in p.message for p in found)


def test_bad_account_digits_are_named_by_row(tmp_path):
    rows = [("43", "Clientes", "0", "0", "0", "0"), *DECEMBER_2025]
    rows[0] = ("4A0", "Clientes", "0", "0", "0", "0")
    path = tmp_path / "sumas_y_saldos_2025.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(list(rows[0]))
    for row in rows[1:]:
        sheet.append([row[0], row[1], *(float(v) for v in row[2:])])
    book.save(path)
    with duckdb.connect() as con:
        con.execute("CREATE TABLE accounts (account VARCHAR, name VARCHAR, source VARCHAR)")
        result = read_trial_balances(con, [path], COMPANY)
    assert [(p.rule, p.line) for p in result.problems] == [("bad_account", 2)]


def test_accounts_outside_the_chart_are_named(tmp_path):
    path = write_xlsx(tmp_path / "sumas_y_saldos_2025.xlsx", DECEMBER_2025)
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE accounts AS SELECT * FROM (VALUES ('1000000', 'Capital', 'plan')) t(account, name, source)"
        )
        result = read_trial_balances(con, [path], COMPANY, chart_accounts=True)
    missing = [(p.rule, p.line) for p in result.problems]
    assert missing[0] == ("account_not_in_chart", 6) and len(missing) == 7  # every account but 1000000


def test_group_rows_are_dropped_when_they_add_up_and_rejected_when_not(tmp_path):
    # groups 4 and 43 above the sub-accounts: 43 = 4300001 (6.050 deudor), 4 = 400 + 430 + 477 = 6.050 − 1.000 − 2.100
    groups = [
        ("4", "Acreedores y deudores", "15100", "12150", "2950", "0"),
        ("43", "Clientes", "12100", "6050", "6050", "0"),
    ]
    errors, found = problems_of(tmp_path, {"sumas_y_saldos_2025.xlsx": groups + DECEMBER_2025})
    assert errors == []
    wrong = [groups[0], ("43", "Clientes", "12100", "6000", "6100", "0"), *DECEMBER_2025]
    errors, found = problems_of(tmp_path, {"sumas_y_saldos_2025.xlsx": wrong})
    assert errors == [("tb_group_total", f"{tmp_path.name}/sumas_y_saldos_2025.xlsx", 6)]
    assert "cuenta de grupo 43" in found[0].message


def test_a_later_balance_of_the_year_never_lowers_the_cumulative_sums(tmp_path):
    june = changed(JUNE_2025, "5720001", sd="20000", deudor="20000")
    june = changed(june, "1000000", sh="20000", acreedor="20000")
    errors, _ = problems_of(tmp_path, {"sumas_y_saldos_2025-06.xlsx": june, "sumas_y_saldos_2025.xlsx": DECEMBER_2025})
    rules = {(rule, file.rsplit("/", 1)[1], line) for rule, file, line in errors}
    # 1000000 is the first account (row 5), 5720001 the fifth (row 9) of the December file
    assert rules == {
        ("tb_decreasing_sums", "sumas_y_saldos_2025.xlsx", 5),
        ("tb_decreasing_sums", "sumas_y_saldos_2025.xlsx", 9),
    }


def test_a_balance_after_the_regularizacion_is_refused(tmp_path):
    closed = [
        (a, n, sd, sh, "0", "0") if a[0] in "67" else (a, n, sd, sh, de, ac) for a, n, sd, sh, de, ac in DECEMBER_2025
    ]
    closed = [*closed, ("1290000", "Resultado del ejercicio", "0", "3500", "0", "3500")]
    closed = [
        (a, n, sd, str(D(sh) + (D(sd) if a == "6000000" else 0) + (D(2500) if a == "6400000" else 0)), de, ac)
        for a, n, sd, sh, de, ac in closed
    ]
    closed = [(a, n, str(D(sd) + (D(10000) if a == "7000000" else 0)), sh, de, ac) for a, n, sd, sh, de, ac in closed]
    # 129 takes 3.500 on the haber: Σ sums gains 6.500 + 10.000 + 3.500 on each side
    errors, _ = problems_of(tmp_path, {"sumas_y_saldos_2025.xlsx": closed})
    assert [r for r, _, _ in errors] == ["tb_after_closing"]


def test_a_missing_year_end_and_a_period_mismatch_are_refused(tmp_path):
    errors, found = problems_of(
        tmp_path, {"sumas_y_saldos_2025-06.xlsx": JUNE_2025, "sumas_y_saldos_2026-03.csv": MARCH_2026}
    )
    assert errors == [("tb_missing_year_end", f"{tmp_path.name}/sumas_y_saldos_2026-03.csv", None)]
    assert "falta el balance de sumas y saldos al cierre del ejercicio 2025 (31/12/2025)" in found[0].message
    path = write_xlsx(tmp_path / "sumas_y_saldos_2025-09.xlsx", JUNE_2025, title="Periodo: 01/01/2025 a 30/06/2025")
    with duckdb.connect() as con:
        con.execute("CREATE TABLE accounts (account VARCHAR, name VARCHAR, source VARCHAR)")
        result = read_trial_balances(con, [path], COMPANY)
    assert [p.rule for p in result.problems] == ["tb_no_period"]
    assert "30/09/2025" in result.problems[0].message and "30/06/2025" in result.problems[0].message


def test_the_period_end_can_come_from_the_title(tmp_path):
    path = write_xlsx(tmp_path / "sumas_y_saldos.xlsx", JUNE_2025, title="Desde 01/01/2025 hasta 30/06/2025")
    with duckdb.connect() as con:
        con.execute("CREATE TABLE accounts (account VARCHAR, name VARCHAR, source VARCHAR)")
        result = read_trial_balances(con, [path], COMPANY)
        assert result.problems == []
        assert con.execute("SELECT DISTINCT date FROM journal").fetchall() == [(date(2025, 6, 30),)]


def test_journal_and_trial_balance_together_are_refused(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    folder = write_company(settings, "ambas", {"sumas_y_saldos_2025.xlsx": DECEMBER_2025})
    (folder / "diario.csv").write_text("fecha;asiento;cuenta;concepto;debe;haber\n", encoding="utf-8")
    [result] = service.load_all(settings, companies=["ambas"])
    assert result.outcome == "rejected"
    assert "diario (diario.csv) y balances de sumas y saldos (sumas_y_saldos_2025.xlsx)" in result.message


# --- the pages ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pages_template(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("tb-pages") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    files = {"sumas_y_saldos_2025-06.xlsx": JUNE_2025, "sumas_y_saldos_2025.xlsx": DECEMBER_2025}
    write_company(settings, "almazara", files, years=(2025,))
    [result] = service.load_all(settings, companies=["almazara"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        client(engine, "oli", {"almazara": ["contabilidad"]})
    engine.dispose()
    return data


@pytest.fixture
def pages(pages_template, tmp_path, monkeypatch):
    return make_world(pages_template, tmp_path, monkeypatch)


@pytest.mark.parametrize("page", ["contabilidad_mayor", "contabilidad"])
def test_the_mayor_and_the_diario_say_there_are_no_entries(pages, page):
    at = open_page(signed_in("oli"), page)
    assert "se ha cargado desde balances de sumas y saldos, sin asientos: no hay mayor ni diario" in texts(at)
    assert not at.dataframe and not at.error


def test_the_pyg_page_shows_the_figures_of_the_balances(pages):
    at = open_page(signed_in("oli"), "contabilidad_pyg")
    lines = {row["Código"]: row for row in at.dataframe[0].value.to_dict("records")}
    # 700 10.000; 600 −4.000; 640 −2.500 → 3.500 (the hand figures of the module's top)
    assert lines["49500"]["Ejercicio 2025"] == "3.500,00 €"
    assert lines["40100"]["Ejercicio 2025"] == "10.000,00 €"
    [metric] = [m for m in at.metric if m.label == "Resultado del ejercicio"]
    assert metric.value == "3.500,00 €"
    assert not at.error


# --- the demo company -----------------------------------------------------------------------------------------------


def test_the_demo_company_loads_end_to_end_and_ties_out(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    until = date(2026, 3, 15)
    books = Simulator(OLIVO, until, 2026, []).run()
    written = write_trial_balance_company(books, settings.sources / "olivo")
    again = write_trial_balance_company(Simulator(OLIVO, until, 2026, []).run(), tmp_path / "again")
    assert [p.read_bytes() for p in written] == [p.read_bytes() for p in again]  # deterministic
    [result] = service.load_all(settings, companies=["olivo"])
    assert result.outcome == "published", [p.message for p in result.problems] or result.message
    snap = Store(settings.stores).current("olivo")
    assert snap.manifest["company_name"] == "Almazara El Olivo SL" and not journal.has_entries(snap)
    for year in (2023, 2024, 2025):
        booked = sum(  # the simulated books' result: groups 6/7 of the year, regularización left out
            line.credit - line.debit
            for entry in books.ledger.entries
            if entry.day.year == year and entry.kind != "regularizacion"
            for line in entry.lines
            if line.account[0] in "67"
        )
        pnl = profit_and_loss(snap, periods.fiscal_year(CAL, year), compare=False)
        sheet = balance_sheet(snap, date(year, 12, 31), compare=False)
        assert pnl.amount("49500") == D(booked).scaleb(-2), year
        assert sheet.check == 0 and sheet.amount("10000") == sheet.amount("30000") > 0
        assert pnl.unmapped == () and sheet.unmapped == ()
    february = balance_sheet(snap, date(2026, 2, 28), compare=False)
    assert february.check == 0


def test_without_entries_there_is_nothing_to_reconcile_or_estimate_from_the_journal(snap, monkeypatch):
    from datetime import date as day

    from reports import cash_estimates, reconciliations

    # Net movements per period cannot stand for the VAT, withholdings, bank or payroll booked: those lines and
    # estimates are never asked for (stand-ins that would show if they were).
    line = {"area": "iva", "key": "x", "period": "1T 2025", "label": "IVA", "left_label": "27", "left": None}
    monkeypatch.setattr(reconciliations, "vat_lines", lambda _snapshot: [line])
    monkeypatch.setattr(reconciliations, "bank_lines", lambda _snapshot: [{**line, "area": "bancos"}])
    assert list(reconciliations.lines(snap)["area"]) == []  # no treasury either: nothing at all
    row = {"date": day(2026, 1, 20), "kind": "impuestos", "concept": "303", "amount": D("1.00"), "how": "x"}
    monkeypatch.setattr(cash_estimates, "tax_payments", lambda *_args: [row])
    assert cash_estimates.estimates(snap, day(2026, 1, 5), day(2026, 4, 5), taxes_too=True, payroll_too=True).empty
