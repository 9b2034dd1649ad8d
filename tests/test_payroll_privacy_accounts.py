"""Payroll privacy beyond the journal's descriptions: account names of per-employee sub-accounts (Sumas y saldos, the
Mayor's search, picker and header, the P&L and balance drill-downs, entries and every file of those pages) and the
treasury (the bills portfolio's counterparties on the pages and in their files, Norma 43 movement concepts) read the
label for a hidden employee, through the same rule (``reports.redaction``), every figure unchanged.

The company «priv» (fiscal year 2025, PYMES), hand-built; Ana Alonso Ruiz (12345678Z) and Bruno Bianchi (X1234567L)
are employees, «Alonso Ruiz Anabel SL» is a customer (never hidden: not Ana's full name):

    entry 1  01/01 apertura   5720001 D 10.000,00                 1000000 H 10.000,00
    entry 2  10/01 factura 7  4300001 D 1.210,00                  7000000 H 1.000,00 · 4770000 H 210,00
    entry 3  31/01 nómina     6400001 D 2.000,00 (Ana)            4760000 H 1.312,50 · 4751000 H 450,00
                              6400002 D 1.500,00 (Bruno)          4650001 H 1.570,00 (Ana)
                              6420000 D 1.085,00                  4650002 H 1.252,50 (Bruno)
    entry 4  05/02 pago       4650001 D 1.570,00 · 4650002 D 1.252,50   5720001 H 1.570,00 · 5720001 H 1.252,50
    entry 5  10/02 anticipo   4600003 D 300,00 (Bruno)            5720001 H 300,00
    entry 6  20/02 viaje Ana  6290000 D 85,00                     4100002 H 85,00 (Ana)
    entry 7  20/02 dietas     6290000 D 40,00                     4100003 H 40,00 (Bruno)
    entry 8  25/02 Gamma      6290000 D 400,00                    4000001 H 400,00

No description names anyone: only the chart does. Sumas y saldos at 25/02/2025: Σ debe = Σ haber = 19.442,50
(1.210 + 300 + 1.570 + 1.252,50 + 10.000 + 525 + 2.000 + 1.500 + 1.085 on the debit side; 10.000 + 400 + 85 + 40 +
1.570 + 1.252,50 + 450 + 1.312,50 + 210 + 3.122,50 + 1.000 on the credit side). Bank 5720001: 10.000,00 − 1.570,00
(«TRANSF NOMINA ANA ALONSO RUIZ») − 1.252,50 («TRANSF NOMINA BIANCHI BRUNO») − 300,00 («ANTICIPO NOMINA X1234567L»)
= 6.877,50. Cartera: cobro C1 1.210,00 (the customer); pagos P1 Gamma 400,00, P2 «Alonso Ruiz, Ana» 85,00, P3 «Bruno
Bianchi» 40,00 (Σ 525,00 = the credit balance of 400 + 410).
"""

from __future__ import annotations

import ast
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import streamlit as st

from auth import labour_blocks, passwords, users
from etl import service
from etl.store import Store
from portal.db import get_engine
from portal.settings import load_settings
from reports import ledger, periods, statements
from reports import treasury as treasury_reports
from reports.redaction import BLOCKED, HIDDEN, Redaction, naming
from reports.trial_balance import trial_balance
from tests.test_accounting_pages import downloaded, spanish_csv, table  # noqa: F401 - fixture
from tests.test_payroll_privacy import ANA, BRUNO, EMPLOYEES, PAYROLL
from tests.test_security import (
    PASSWORD,
    World,
    client,
    everything_drawn,
    make_world,
    open_page,
    open_tab,
    signed_in,
)
from tests.test_treasury import BANK_A, IBAN_A, ITEMS_HEADER, account_records, n43
from views import _accounting, _pyg, _warm

ROOT = Path(__file__).resolve().parents[1]
CHART = {
    "1000000": "Capital social",
    "4000001": "Proveedor Gamma SL",
    "4100002": "Gastos de viaje Ana Alonso Ruiz",
    "4100003": "Dietas Bianchi, Bruno",
    "4300001": "Clientes Alonso Ruiz Anabel SL",
    "4600003": "Anticipo Bruno X1234567L",
    "4650001": "Remuneraciones pendientes Ana Alonso Ruiz",
    "4650002": "Remuneraciones pendientes Bianchi, Bruno",
    "4751000": "H.P. acreedora por retenciones practicadas",
    "4760000": "Organismos de la Seguridad Social acreedores",
    "4770000": "H.P. IVA repercutido",
    "5720001": "Banco Ejemplo c/c",
    "6290000": "Otros servicios",
    "6400001": "Sueldos y salarios ALONSO RUIZ, ANA",
    "6400002": "Sueldos y salarios Bruno Bianchi",
    "6420000": "Seguridad Social a cargo de la empresa",
    "7000000": "Ventas de mercaderías",
}
ANAS = {"4100002", "4650001", "6400001"}  # Ana's sub-accounts (her full name in either order, any case)
BRUNOS = {"4100003", "4600003", "4650002", "6400002"}  # Bruno's (by name, or by NIE only: 4600003)
JOURNAL = (
    "fecha;asiento;cuenta;concepto;debe;haber;tipo\n"
    "01/01/2025;1;5720001;Apertura;10000,00;;apertura\n"
    "01/01/2025;1;1000000;Apertura;;10000,00;apertura\n"
    "10/01/2025;2;4300001;Factura 7;1210,00;;normal\n"
    "10/01/2025;2;7000000;Factura 7;;1000,00;normal\n"
    "10/01/2025;2;4770000;IVA factura 7;;210,00;normal\n"
    "31/01/2025;3;6400001;Nómina 01/2025;2000,00;;normal\n"
    "31/01/2025;3;6400002;Nómina 01/2025;1500,00;;normal\n"
    "31/01/2025;3;6420000;Seguridad Social empresa 01/2025;1085,00;;normal\n"
    "31/01/2025;3;4760000;Seguridad Social 01/2025;;1312,50;normal\n"
    "31/01/2025;3;4751000;Retenciones IRPF 01/2025;;450,00;normal\n"
    "31/01/2025;3;4650001;Líquido nómina 01/2025;;1570,00;normal\n"
    "31/01/2025;3;4650002;Líquido nómina 01/2025;;1252,50;normal\n"
    "05/02/2025;4;4650001;Pago nómina 01/2025;1570,00;;normal\n"
    "05/02/2025;4;5720001;Transferencia nómina 01/2025;;1570,00;normal\n"
    "05/02/2025;4;4650002;Pago nómina 01/2025;1252,50;;normal\n"
    "05/02/2025;4;5720001;Transferencia nómina 01/2025;;1252,50;normal\n"
    "10/02/2025;5;4600003;Anticipo febrero;300,00;;normal\n"
    "10/02/2025;5;5720001;Anticipo febrero;;300,00;normal\n"
    "20/02/2025;6;6290000;Gastos de viaje enero;85,00;;normal\n"
    "20/02/2025;6;4100002;Gastos de viaje enero;;85,00;normal\n"
    "20/02/2025;7;6290000;Dietas enero;40,00;;normal\n"
    "20/02/2025;7;4100003;Dietas enero;;40,00;normal\n"
    "25/02/2025;8;6290000;Factura G-1 Gamma SL;400,00;;normal\n"
    "25/02/2025;8;4000001;Factura G-1 Gamma SL;;400,00;normal\n"
)
EFECTOS = ITEMS_HEADER + (
    "C1;cobro;Alonso Ruiz Anabel SL;B46082301;4300001;F-7;10/01/2025;10/02/2025;1210,00;transferencia;pendiente;\n"
    "P1;pago;Gamma SL;B46161493;4000001;G-1;25/02/2025;25/03/2025;400,00;transferencia;pendiente;\n"
    "P2;pago;Alonso Ruiz, Ana;12345678Z;4100002;Liquidación gastos 01/2025;20/02/2025;05/03/2025;85,00;"
    "transferencia;pendiente;\n"
    "P3;pago;Bruno Bianchi;X1234567L;4100003;Dietas 01/2025;20/02/2025;05/03/2025;40,00;transferencia;pendiente;\n"
)
D = Decimal
MOVEMENTS = [
    (date(2025, 2, 5), 4, D("-1570.00"), "TRANSF NOMINA ANA ALONSO RUIZ"),
    (date(2025, 2, 5), 4, D("-1252.50"), "TRANSF NOMINA BIANCHI BRUNO"),
    (date(2025, 2, 10), 4, D("-300.00"), "ANTICIPO NOMINA X1234567L"),
]
CONCEPTS = [m[3] for m in MOVEMENTS]
TOTAL = "19.442,50 €"
# What must never reach a user who may not read Ana (or anyone): her name in the chart's spellings, her NIF.
ANA_WORDS = ("Ana Alonso", "ALONSO RUIZ, ANA", "Alonso Ruiz, Ana", "ANA ALONSO", "12345678Z")
BRUNO_WORDS = ("Bianchi", "Bruno", "X1234567L")


def write_company(sources: Path) -> None:
    folder = sources / "priv"
    for sub in ("laboral", "tesoreria"):
        (folder / sub).mkdir(parents=True)
    banks = [{"cuenta": "5720001", "iban": IBAN_A, "banco": "Banco Ejemplo"}]
    info = {"nombre": "Privada Ejemplo SL", "modelo_pgc": "pymes", "ejercicios": [2025], "cuentas_bancarias": banks}
    (folder / "empresa.json").write_text(json.dumps(info), encoding="utf-8")
    (folder / "diario.csv").write_text(JOURNAL, encoding="utf-8")
    chart = "cuenta;descripcion\n" + "".join(f"{code};{name}\n" for code, name in CHART.items())
    (folder / "plan_cuentas.csv").write_text(chart, encoding="utf-8")
    (folder / "laboral" / "empleados.csv").write_text(EMPLOYEES, encoding="utf-8")
    (folder / "laboral" / "nominas.csv").write_text(PAYROLL, encoding="utf-8")
    (folder / "tesoreria" / "efectos.csv").write_text(EFECTOS, encoding="utf-8")
    statement = account_records(BANK_A, D("10000.00"), MOVEMENTS, D("6877.50"))
    (folder / "tesoreria" / f"{IBAN_A}_2025.n43").write_bytes(n43(statement))


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = tmp_path_factory.mktemp("payroll-privacy-accounts") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources)
    [result] = service.load_all(settings, companies=["priv"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        client(engine, "conta", {"priv": ["contabilidad"]})
        client(engine, "teso", {"priv": ["tesoreria"]})
        client(engine, "todo", {"priv": ["contabilidad", "laboral", "tesoreria"]})
        users.create_user(engine, "sara", PASSWORD, role="staff", name="Sara")
    engine.dispose()
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    return make_world(template, tmp_path, monkeypatch)


def snapshot_of(world: World):
    return Store(world.settings.stores).current("priv")


def lower_leaks(text: str, words) -> list[str]:
    """The words (case ignored) that appear in ``text``."""
    return [w for w in words if w.casefold() in text.casefold()]


# --- the read side (pure) -------------------------------------------------------------------------------------------

ONLY_ANA, EVERYONE = Redaction((ANA,), BLOCKED), Redaction((ANA, BRUNO), HIDDEN)


def test_an_account_named_after_a_hidden_employee_reads_the_label_whole_and_keeps_its_code(world):
    snapshot = snapshot_of(world)
    assert statements.account_names(snapshot) == CHART
    assert statements.account_names(snapshot, hide=ONLY_ANA) == {**CHART, **dict.fromkeys(ANAS, BLOCKED)}
    assert statements.account_names(snapshot, hide=EVERYONE) == {**CHART, **dict.fromkeys(ANAS | BRUNOS, HIDDEN)}
    assert statements.account_names(snapshot, ["4650001", "4650002"], hide=ONLY_ANA) == {
        "4650001": BLOCKED,
        "4650002": "Remuneraciones pendientes Bianchi, Bruno",
    }
    assert statements.account_names(snapshot) == CHART  # the cached chart itself is never changed


def test_the_trial_balance_names_only_the_accounts_the_user_may_read_and_its_totals_do_not_move(world):
    snapshot = snapshot_of(world)
    plain = trial_balance(snapshot, date(2025, 2, 25))
    for hide, hidden, label in ((ONLY_ANA, ANAS, BLOCKED), (EVERYONE, ANAS | BRUNOS, HIDDEN)):
        trial = trial_balance(snapshot, date(2025, 2, 25), hide=hide)
        assert dict(zip(trial.rows["account"], trial.rows["name"], strict=True)) == {
            **CHART,
            **dict.fromkeys(hidden, label),
        }
        assert (trial.total_debit, trial.total_credit) == (D("19442.50"), D("19442.50"))
        assert list(trial.rows["balance"]) == list(plain.rows["balance"])
    rows = {r.account: (r.name, r.debit, r.credit, r.balance) for r in trial.rows.itertuples()}
    assert rows["4650001"] == (HIDDEN, D("1570.00"), D("1570.00"), D("0.00"))
    assert rows["6400002"] == (HIDDEN, D("1500.00"), D("0.00"), D("1500.00"))
    assert rows["5720001"] == ("Banco Ejemplo c/c", D("10000.00"), D("3122.50"), D("6877.50"))


def test_the_account_search_never_finds_a_hidden_account_by_the_person_only_by_its_code(world):
    snapshot = snapshot_of(world)

    def found(text, hide=None):
        return [tuple(r) for r in ledger.find_accounts(snapshot, text, hide=hide).itertuples(index=False)]

    assert [a for a, _ in found("ana")] == ["4100002", "4300001", "4650001", "6400001"]  # unredacted
    assert found("ana", ONLY_ANA) == [("4300001", "Clientes Alonso Ruiz Anabel SL")]  # Anabel is not Ana
    assert found("alonso ruiz", ONLY_ANA) == [("4300001", "Clientes Alonso Ruiz Anabel SL")]
    assert found("remuneraciones", ONLY_ANA) == [("4650002", "Remuneraciones pendientes Bianchi, Bruno")]
    assert found("remuneraciones", EVERYONE) == []
    assert found("bloqueado", ONLY_ANA) == found("empleado oculto", EVERYONE) == []  # nor by the label
    assert found("465", ONLY_ANA) == [("4650001", BLOCKED), ("4650002", "Remuneraciones pendientes Bianchi, Bruno")]
    assert found("46", EVERYONE) == [("4600003", HIDDEN), ("4650001", HIDDEN), ("4650002", HIDDEN)]


def test_ledger_cards_entries_and_drill_downs_name_the_account_as_the_user_may_read_it(world):
    snapshot = snapshot_of(world)
    start, end = date(2025, 1, 1), date(2025, 2, 25)
    card = ledger.ledger(snapshot, "4650001", start, end, hide=ONLY_ANA)
    assert (card.name, card.total_debit, card.total_credit, card.closing) == (BLOCKED, D("1570.00"), D("1570.00"), 0)
    assert ledger.whole_ledger(snapshot, "6400001", start, end, hide=ONLY_ANA).name == BLOCKED
    assert ledger.ledger(snapshot, "6400002", start, end, hide=ONLY_ANA).name == "Sueldos y salarios Bruno Bianchi"
    assert ledger.ledger(snapshot, "6400002", start, end, hide=EVERYONE).name == HIDDEN
    entry = ledger.entry_lines(snapshot, 2025, 3, hide=ONLY_ANA)
    assert list(zip(entry["account"], entry["name"], strict=True)) == [
        ("6400001", BLOCKED),
        ("6400002", "Sueldos y salarios Bruno Bianchi"),
        ("6420000", "Seguridad Social a cargo de la empresa"),
        ("4760000", "Organismos de la Seguridad Social acreedores"),
        ("4751000", "H.P. acreedora por retenciones practicadas"),
        ("4650001", BLOCKED),
        ("4650002", "Remuneraciones pendientes Bianchi, Bruno"),
    ]
    assert sum(entry["debit"].fillna(0)) == sum(entry["credit"].fillna(0)) == D("4585.00")
    period = periods.fiscal_year(statements.calendar_of(snapshot), 2025)
    staff = statements.line_accounts(snapshot, "pyg", "40600", period=period, hide=ONLY_ANA)
    assert [tuple(r) for r in staff[["account", "name", "amount"]].itertuples(index=False)] == [
        ("6400001", BLOCKED, D("-2000.00")),
        ("6400002", "Sueldos y salarios Bruno Bianchi", D("-1500.00")),
        ("6420000", "Seguridad Social a cargo de la empresa", D("-1085.00")),
    ]
    others = statements.line_accounts(snapshot, "balance", "32590", as_of=end, hide=EVERYONE)
    assert [tuple(r) for r in others[["account", "name", "amount"]].itertuples(index=False)] == [
        ("4100002", HIDDEN, D("85.00")),
        ("4100003", HIDDEN, D("40.00")),
        ("4751000", "H.P. acreedora por retenciones practicadas", D("450.00")),
        ("4760000", "Organismos de la Seguridad Social acreedores", D("1312.50")),
        ("4770000", "H.P. IVA repercutido", D("210.00")),
    ]
    top = statements.top_expenses(snapshot, period, hide=ONLY_ANA)
    assert [tuple(r) for r in top[["account", "name", "amount"]].itertuples(index=False)] == [
        ("6400001", BLOCKED, D("2000.00")),
        ("6400002", "Sueldos y salarios Bruno Bianchi", D("1500.00")),
        ("6420000", "Seguridad Social a cargo de la empresa", D("1085.00")),
        ("6290000", "Otros servicios", D("525.00")),
    ]


def test_treasury_counterparties_documents_and_bank_concepts_read_the_label_amounts_unchanged(world):
    snapshot, today = snapshot_of(world), date(2025, 3, 10)
    items = treasury_reports.open_items(snapshot, today, hide=ONLY_ANA)
    assert [
        tuple(r) for r in items[["number", "counterparty", "nif", "document", "amount"]].itertuples(index=False)
    ] == [
        ("C1", "Alonso Ruiz Anabel SL", "B46082301", "F-7", D("1210.00")),
        ("P2", BLOCKED, "", "Liquidación gastos 01/2025", D("85.00")),
        ("P3", "Bruno Bianchi", "X1234567L", "Dietas 01/2025", D("40.00")),
        ("P1", "Gamma SL", "B46161493", "G-1", D("400.00")),
    ]
    payables = treasury_reports.ageing(snapshot, "pago", today, hide=EVERYONE)
    assert [(r.counterparty, r.nif, r.items, r.total) for r in payables.itertuples()] == [
        ("Gamma SL", "B46161493", 1, D("400.00")),
        (HIDDEN, "", 2, D("125.00")),  # every employee under one row: nobody singled out
    ]
    assert treasury_reports.ageing_totals(payables)["total"] == D("525.00")
    coming = treasury_reports.upcoming(snapshot, today, 30, hide=ONLY_ANA)
    assert [(r.number, r.counterparty, r.signed) for r in coming.itertuples()] == [
        ("C1", "Alonso Ruiz Anabel SL", D("1210.00")),
        ("P2", BLOCKED, D("-85.00")),
        ("P3", "Bruno Bianchi", D("-40.00")),
        ("P1", "Gamma SL", D("-400.00")),
    ]
    moved = treasury_reports.movements(snapshot, IBAN_A, date(2025, 1, 1), date(2025, 2, 28))
    assert list(moved["concept"]) == CONCEPTS
    for hide, expected in (
        (ONLY_ANA, [BLOCKED, CONCEPTS[1], CONCEPTS[2]]),
        (Redaction((BRUNO,), BLOCKED), [CONCEPTS[0], BLOCKED, BLOCKED]),  # by name, and by NIE alone
        (EVERYONE, [HIDDEN] * 3),
    ):
        shown = treasury_reports.movements(snapshot, IBAN_A, date(2025, 1, 1), date(2025, 2, 28), hide=hide)
        assert list(shown["concept"]) == expected
        assert [str(v) for v in shown["amount"]] == ["-1570.00", "-1252.50", "-300.00"]
        assert [str(v) for v in shown["balance"]] == ["8430.00", "7177.50", "6877.50"]
    forecast = treasury_reports.forecast(snapshot, today)
    assert forecast.start_balance == D("6877.50")  # no name in the forecast: the same for everybody


READS = {
    "account_names",
    "find_accounts",
    "trial_balance",
    "line_accounts",
    "top_expenses",
    "ledger",
    "whole_ledger",
    "entry_lines",
    "recent_entries",
    "open_items",
    "ageing",
    "upcoming",
    "movements",
}  # every read that returns an account name, a description, a counterparty or a bank concept


def test_every_read_of_names_by_a_page_passes_the_user_redaction():
    calls = []
    for path in sorted((ROOT / "views").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in READS:
                calls.append((path.name, name, [k.arg for k in node.keywords]))
    assert {(page, name) for page, name, _ in calls} >= {
        ("contabilidad_sumas.py", "trial_balance"),
        ("contabilidad_mayor.py", "find_accounts"),
        ("contabilidad_pyg.py", "line_accounts"),
        ("_pyg.py", "top_expenses"),  # the P&L page's cached builders
        ("contabilidad_balance.py", "line_accounts"),
        ("tesoreria.py", "ageing"),
        ("tesoreria.py", "upcoming"),
    }
    assert [c for c in calls if "hide" not in c[2]] == []


# --- the pages and their files ----------------------------------------------------------------------------------------


def screen(at) -> str:
    """Everything the run put in front of the user: texts, table cells, metrics, choices' labels, charts."""
    parts = [everything_drawn(at)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [f"{s.label} {' | '.join(map(str, s.options))}" for s in at.selectbox]
    parts += [json.dumps(json.loads(c.proto.spec), ensure_ascii=False) for c in at.get("plotly_chart")]
    return "\n".join(parts)


def files_text(downloaded: dict) -> str:  # noqa: F811
    """Every offered file as text (CSV as is, each workbook's cells)."""
    parts = []
    for name, data in downloaded.items():
        if name.endswith(".xlsx"):
            book = openpyxl.load_workbook(io.BytesIO(data))
            parts += [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c]
        elif name.endswith(".csv"):
            parts.append(data.decode("utf-8-sig"))
    return "\n".join(parts)


def named(downloaded: dict, prefix: str, suffix: str) -> bytes:  # noqa: F811
    [name] = [n for n in downloaded if n.startswith(prefix) and n.endswith(suffix)]
    return downloaded[name]


def csv_rows(data: bytes) -> list[dict]:
    return spanish_csv(data)


def cells(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [c for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c is not None]


def sheet_rows(data: bytes, sheet: str) -> list[dict]:
    """The rows of an exported sheet under its header row (the title and stamp rows above it left out)."""
    values = [row for row in openpyxl.load_workbook(io.BytesIO(data))[sheet].iter_rows(values_only=True) if any(row)]
    header = next(i for i, row in enumerate(values) if "Cuenta" in row or "Tercero" in row)
    return [dict(zip(values[header], row, strict=True)) for row in values[header + 1 :]]


def frame_with(at, column: str, index: int = 0) -> list[dict]:
    """The ``index``-th table that has ``column``, as records."""
    return [df.value.to_dict("records") for df in at.dataframe if column in df.value.columns][index]


def choose(at, label: str, value):
    [box] = [s for s in at.selectbox if s.label == label]
    box.set_value(value).run()
    assert not at.exception, at.exception
    return at


def search(at, text: str):
    [box] = [t for t in at.text_input if t.label == "Buscar cuenta por código o nombre"]
    box.input(text).run()
    assert not at.exception, at.exception
    return at


def options(at, label: str) -> list[str]:
    return [str(o) for s in at.selectbox if s.label == label for o in s.options]


def sums(at) -> list[tuple]:
    return [(r["Cuenta"], r["Nombre"], r["Debe"], r["Haber"], r["Saldo"]) for r in table(at)]


NAMED_SUMS = [
    ("1000000", "Capital social", "0,00 €", "10.000,00 €", "-10.000,00 €"),
    ("4000001", "Proveedor Gamma SL", "0,00 €", "400,00 €", "-400,00 €"),
    ("4100002", "Gastos de viaje Ana Alonso Ruiz", "0,00 €", "85,00 €", "-85,00 €"),
    ("4100003", "Dietas Bianchi, Bruno", "0,00 €", "40,00 €", "-40,00 €"),
    ("4300001", "Clientes Alonso Ruiz Anabel SL", "1.210,00 €", "0,00 €", "1.210,00 €"),
    ("4600003", "Anticipo Bruno X1234567L", "300,00 €", "0,00 €", "300,00 €"),
    ("4650001", "Remuneraciones pendientes Ana Alonso Ruiz", "1.570,00 €", "1.570,00 €", "0,00 €"),
    ("4650002", "Remuneraciones pendientes Bianchi, Bruno", "1.252,50 €", "1.252,50 €", "0,00 €"),
    ("4751000", "H.P. acreedora por retenciones practicadas", "0,00 €", "450,00 €", "-450,00 €"),
    ("4760000", "Organismos de la Seguridad Social acreedores", "0,00 €", "1.312,50 €", "-1.312,50 €"),
    ("4770000", "H.P. IVA repercutido", "0,00 €", "210,00 €", "-210,00 €"),
    ("5720001", "Banco Ejemplo c/c", "10.000,00 €", "3.122,50 €", "6.877,50 €"),
    ("6290000", "Otros servicios", "525,00 €", "0,00 €", "525,00 €"),
    ("6400001", "Sueldos y salarios ALONSO RUIZ, ANA", "2.000,00 €", "0,00 €", "2.000,00 €"),
    ("6400002", "Sueldos y salarios Bruno Bianchi", "1.500,00 €", "0,00 €", "1.500,00 €"),
    ("6420000", "Seguridad Social a cargo de la empresa", "1.085,00 €", "0,00 €", "1.085,00 €"),
    ("7000000", "Ventas de mercaderías", "0,00 €", "1.000,00 €", "-1.000,00 €"),
    ("", "TOTAL", TOTAL, TOTAL, "0,00 €"),
]


def sums_as(hidden: set[str], label: str) -> list[tuple]:
    """The hand-computed Sumas y saldos with the ``hidden`` accounts' names read as ``label``, figures as they are."""
    return [(a, label if a in hidden else n, d, c, s) for a, n, d, c, s in NAMED_SUMS]


def test_a_blocked_employee_reads_empleado_bloqueado_in_sumas_y_saldos_and_its_files_totals_unchanged(
    world,
    downloaded,  # noqa: F811
):
    at = open_page(signed_in("todo"), "contabilidad_sumas")  # nobody blocked yet: every name, as in the chart
    assert sums(at) == NAMED_SUMS
    labour_blocks.block(world.engine, "priv", ANA[0], actor="sara", reason="Solicitud de la interesada")
    downloaded.clear()
    at = open_page(signed_in("conta"), "contabilidad_sumas")
    assert sums(at) == sums_as(ANAS, BLOCKED)
    assert f"Sumas iguales: debe y haber suman {TOTAL}." in screen(at)
    rows = csv_rows(named(downloaded, "sumas-saldos-priv-", ".csv"))
    assert [(r["Cuenta"], r["Nombre"]) for r in rows] == [(a, n) for a, n, *_ in sums_as(ANAS, BLOCKED)[:-1]]
    assert (
        sum(D(r["Debe"].replace(",", ".")) for r in rows)
        == sum(D(r["Haber"].replace(",", ".")) for r in rows)
        == D("19442.50")
    )
    assert [r["Saldo"] for r in rows if r["Cuenta"] in ANAS] == ["-85,00", "0,00", "2000,00"]
    sheet = sheet_rows(named(downloaded, "sumas-saldos-priv-", ".xlsx"), "Sumas y saldos")
    assert [(r["Cuenta"], r["Nombre"]) for r in sheet] == [(r["Cuenta"], r["Nombre"]) for r in rows]
    assert sum(r["Debe"] for r in sheet) == sum(r["Haber"] for r in sheet) == 19442.5  # real number cells
    assert not lower_leaks(screen(at) + files_text(downloaded), ANA_WORDS)
    assert naming([screen(at), files_text(downloaded)], [ANA]) == [False, False]
    assert "Bruno Bianchi" in screen(at)  # the other employee is still named


def test_the_mayor_search_picker_header_entries_and_files_of_a_hidden_account(world, downloaded):  # noqa: F811
    labour_blocks.block(world.engine, "priv", ANA[0], actor="sara", reason="Solicitud de la interesada")
    at = open_page(signed_in("conta"), "contabilidad_mayor")
    search(at, "Ana")  # her name finds only the customer «Anabel», never her sub-accounts
    assert options(at, "Cuenta") == ["4300001 · Clientes Alonso Ruiz Anabel SL"]
    search(at, "Remuneraciones")
    assert options(at, "Cuenta") == ["4650002 · Remuneraciones pendientes Bianchi, Bruno"]
    downloaded.clear()
    search(at, "465")  # by its code: found, under the label
    assert options(at, "Cuenta") == [f"4650001 · {BLOCKED}", "4650002 · Remuneraciones pendientes Bianchi, Bruno"]
    assert f"4650001 · {BLOCKED} · del 01/01/2025 al 25/02/2025" in screen(at)
    assert [(r["Concepto"], r["Debe"], r["Haber"], r["Saldo"]) for r in table(at)] == [
        ("Líquido nómina 01/2025", "", "1.570,00 €", "-1.570,00 €"),
        ("Pago nómina 01/2025", "1.570,00 €", "", "0,00 €"),
    ]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Total debe"], metrics["Total haber"], metrics["Saldo final"]) == ("1.570,00 €",) * 2 + ("0,00 €",)
    page_book = cells(named(downloaded, "mayor-4650001-priv-", ".xlsx"))
    assert page_book[0] == f"Privada Ejemplo SL · Mayor 4650001 {BLOCKED}"
    whole_book = cells(named(downloaded, "mayor-completo-4650001-", ".xlsx"))
    assert whole_book[0] == (
        f"Privada Ejemplo SL · Mayor 4650001 {BLOCKED} · del 01/01/2025 al 25/02/2025 · saldo inicial 0,00 €"
    )
    assert [r["Saldo"] for r in csv_rows(named(downloaded, "mayor-completo-4650001-", ".csv"))] == [
        "-1570,00",
        "0,00",
    ]
    choose(at, "Ver el asiento completo", (2025, 3, date(2025, 1, 31)))
    assert [(r["Cuenta"], r["Nombre"], r["Debe"], r["Haber"]) for r in frame_with(at, "Nombre")] == [
        ("6400001", BLOCKED, "2.000,00 €", ""),
        ("6400002", "Sueldos y salarios Bruno Bianchi", "1.500,00 €", ""),
        ("6420000", "Seguridad Social a cargo de la empresa", "1.085,00 €", ""),
        ("4760000", "Organismos de la Seguridad Social acreedores", "", "1.312,50 €"),
        ("4751000", "H.P. acreedora por retenciones practicadas", "", "450,00 €"),
        ("4650001", BLOCKED, "", "1.570,00 €"),
        ("4650002", "Remuneraciones pendientes Bianchi, Bruno", "", "1.252,50 €"),
    ]
    assert not lower_leaks(screen(at) + files_text(downloaded), ANA_WORDS)
    assert naming([screen(at), files_text(downloaded)], [ANA]) == [False, False]


def test_the_pyg_and_balance_drill_downs_and_the_expense_chart_of_a_hidden_account(world, downloaded):  # noqa: F811
    labour_blocks.block(world.engine, "priv", ANA[0], actor="sara", reason="Solicitud de la interesada")
    at = open_page(signed_in("conta"), "contabilidad_pyg")
    charts = screen(open_tab(at, "pyg-tab-", "Gráficos"))
    assert f"6400001 · {BLOCKED}" in charts  # the biggest expenses chart
    months = screen(open_tab(at, "pyg-tab-", "Mes a mes"))
    assert not lower_leaks(charts + months, ANA_WORDS)
    open_tab(at, "pyg-tab-", "Cuenta de resultados")
    choose(at, "Ver las cuentas de una partida", "40600")
    assert [(r["Cuenta"], r["Nombre"], r["Importe en la partida"]) for r in frame_with(at, "Nombre")] == [
        ("6400001", BLOCKED, "-2.000,00 €"),
        ("6400002", "Sueldos y salarios Bruno Bianchi", "-1.500,00 €"),
        ("6420000", "Seguridad Social a cargo de la empresa", "-1.085,00 €"),
    ]
    assert options(at, "Ver el mayor de una cuenta")[0] == f"6400001 · {BLOCKED}"
    choose(at, "Ver el mayor de una cuenta", "6400001")
    assert f"6400001 · {BLOCKED} · del 01/01/2025 al 25/02/2025" in screen(at)  # an open year: «Año hasta la fecha»
    assert {m.label: m.value for m in at.metric}["Saldo final"] == "2.000,00 €"
    assert (
        cells(named(downloaded, "mayor-6400001-priv-", ".xlsx"))[0] == f"Privada Ejemplo SL · Mayor 6400001 {BLOCKED}"
    )
    assert not lower_leaks(screen(at) + files_text(downloaded), ANA_WORDS)

    downloaded.clear()
    at = open_page(signed_in("conta"), "contabilidad_balance")
    choose(at, "Ver las cuentas de una partida", "32590")
    assert [(r["Cuenta"], r["Nombre"], r["Saldo"]) for r in frame_with(at, "Nombre")][:2] == [
        ("4100002", BLOCKED, "-85,00 €"),
        ("4100003", "Dietas Bianchi, Bruno", "-40,00 €"),
    ]
    choose(at, "Ver el mayor de una cuenta (ejercicio hasta la fecha)", "4100002")
    assert f"4100002 · {BLOCKED} · del 01/01/2025 al 25/02/2025" in screen(at)
    assert not lower_leaks(screen(at) + files_text(downloaded), ANA_WORDS)
    assert naming([screen(at), files_text(downloaded)], [ANA]) == [False, False]


def show_tab(at, world: World, label: str):
    at.session_state[f"tesoreria-tab-priv-{snapshot_of(world).snapshot_id}"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def ageing_of(at, index: int) -> list[tuple]:
    return [(r["Tercero"], r["NIF"], r["Efectos"], r["Total pendiente"]) for r in table(at, index)]


def test_tesoreria_shows_a_blocked_employee_as_empleado_bloqueado_on_every_tab_and_file(world, downloaded):  # noqa: F811
    labour_blocks.block(world.engine, "priv", ANA[0], actor="sara", reason="Solicitud de la interesada")
    at = open_page(signed_in("teso"), "tesoreria")
    assert ageing_of(at, 0) == [
        ("Alonso Ruiz Anabel SL", "B46082301", "1", "1.210,00 €"),
        ("TOTAL", "", "1", "1.210,00 €"),
    ]
    assert ageing_of(at, 1) == [
        ("Gamma SL", "B46161493", "1", "400,00 €"),
        (BLOCKED, "", "1", "85,00 €"),
        ("Bruno Bianchi", "X1234567L", "1", "40,00 €"),
        ("TOTAL", "", "3", "525,00 €"),
    ]
    assert {m.label: m.value for m in at.metric}["Pagos pendientes"] == "525,00 €"
    rows = csv_rows(named(downloaded, "pagos-pendientes-priv-", ".csv"))
    assert [(r["Tercero"], r["NIF"], r["Total"]) for r in rows] == [
        ("Gamma SL", "B46161493", "400,00"),
        (BLOCKED, "", "85,00"),
        ("Bruno Bianchi", "X1234567L", "40,00"),
    ]
    at = show_tab(at, world, "Próximos vencimientos")
    assert [(r["Efecto"], r["Tercero"], r["Documento"], r["Importe"]) for r in table(at)] == [
        ("C1", "Alonso Ruiz Anabel SL", "F-7", "1.210,00 €"),
        ("P2", BLOCKED, "Liquidación gastos 01/2025", "-85,00 €"),
        ("P3", "Bruno Bianchi", "Dietas 01/2025", "-40,00 €"),
        ("P1", "Gamma SL", "G-1", "-400,00 €"),
    ]  # every one overdue by now: all listed
    rows = csv_rows(named(downloaded, "vencimientos-priv-", ".csv"))
    assert [(r["Número"], r["Tercero"], r["NIF"], r["Cuenta"], r["Importe con signo"]) for r in rows] == [
        ("C1", "Alonso Ruiz Anabel SL", "B46082301", "4300001", "1210,00"),
        ("P2", BLOCKED, "", "4100002", "-85,00"),
        ("P3", "Bruno Bianchi", "X1234567L", "4100003", "-40,00"),
        ("P1", "Gamma SL", "B46161493", "4000001", "-400,00"),
    ]
    at = show_tab(at, world, "Bancos")
    at = show_tab(at, world, "Previsión 13 semanas")
    assert "saldo bancario de partida 6.877,50 €" in screen(at)
    assert not lower_leaks(screen(at) + files_text(downloaded), ANA_WORDS)
    assert naming([screen(at), files_text(downloaded)], [ANA]) == [False, False]


def test_hidden_payroll_names_leave_no_employee_named_for_users_without_the_labour_module(world, downloaded):  # noqa: F811
    labour_blocks.set_hide_payroll_names(world.engine, "priv", True, actor="sara")
    labour_blocks.block(world.engine, "priv", BRUNO[0], actor="sara", reason="Solicitud del interesado")
    everybody = ANA_WORDS + BRUNO_WORDS
    at = open_page(signed_in("conta"), "contabilidad_sumas")
    assert sums(at) == sums_as(ANAS | BRUNOS, HIDDEN)
    drawn = [screen(at)]
    at = search(open_page(signed_in("conta"), "contabilidad_mayor"), "46")
    assert options(at, "Cuenta") == [f"4600003 · {HIDDEN}", f"4650001 · {HIDDEN}", f"4650002 · {HIDDEN}"]
    assert f"4600003 · {HIDDEN} · del 01/01/2025 al 25/02/2025" in screen(at)
    drawn.append(screen(at))
    search(at, "Bruno")
    assert options(at, "Cuenta") == [] and "Ninguna cuenta coincide con la búsqueda." in screen(at)
    at = choose(open_page(signed_in("conta"), "contabilidad_pyg"), "Ver las cuentas de una partida", "40600")
    assert [r["Nombre"] for r in frame_with(at, "Nombre")] == [HIDDEN, HIDDEN, "Seguridad Social a cargo de la empresa"]
    drawn.append(screen(at))
    at = open_page(signed_in("teso"), "tesoreria")  # Tesorería only: the same rule
    assert ageing_of(at, 1) == [
        ("Gamma SL", "B46161493", "1", "400,00 €"),
        (HIDDEN, "", "2", "125,00 €"),
        ("TOTAL", "", "3", "525,00 €"),
    ]
    drawn.append(screen(at))
    at = show_tab(at, world, "Próximos vencimientos")
    assert [r["Tercero"] for r in table(at)] == ["Alonso Ruiz Anabel SL", HIDDEN, HIDDEN, "Gamma SL"]
    drawn.append(screen(at))
    files = files_text(downloaded)
    assert "sumas-saldos" in " ".join(downloaded) and "vencimientos" in " ".join(downloaded)
    assert not lower_leaks("\n".join(drawn) + files, everybody)
    assert naming(["\n".join(drawn), files], [ANA, BRUNO]) == [False, False]

    downloaded.clear()  # with the labour module: the names, except the blocked Bruno
    at = open_page(signed_in("todo"), "contabilidad_sumas")
    assert sums(at) == sums_as(BRUNOS, BLOCKED)
    at = open_page(signed_in("todo"), "tesoreria")
    assert [r[0] for r in ageing_of(at, 1)] == ["Gamma SL", "Alonso Ruiz, Ana", BLOCKED, "TOTAL"]
    assert not lower_leaks(screen(at) + files_text(downloaded), BRUNO_WORDS)


def test_an_open_year_defaults_to_year_to_date(world):
    at = open_page(signed_in("conta"), "contabilidad_pyg")  # the books end on 25/02/2025: 2025 is still open
    [kind] = [s for s in at.selectbox if s.label == "Periodo"]
    assert kind.value == "ytd"
    assert "Cuenta de pérdidas y ganancias PYMES · Ejercicio 2025 hasta el 25/02/2025" in screen(at)


def test_first_screens_warmed_for_nobody_hidden_never_reach_a_user_with_a_blocked_employee(world):
    """The warmer (views/_warm.py) builds the P&L and Diario as a user who hides nobody reads them; a user with a
    blocked employee asks with other cache keys (the hidden people), so reads the redacted figures, never those."""
    st.cache_data.clear()
    st.cache_resource.clear()
    assert _warm.Warmer(world.settings.stores, companies=5).round() == ["priv"]
    labour_blocks.block(world.engine, "priv", ANA[0], actor="sara", reason="Solicitud de la interesada")
    at = open_page(signed_in("conta"), "contabilidad_pyg")
    charts = screen(open_tab(at, "pyg-tab-", "Gráficos"))
    assert f"6400001 · {BLOCKED}" in charts
    journal = screen(open_page(at, "contabilidad"))
    assert not lower_leaks(charts + journal, ANA_WORDS)
    snapshot, everyone = snapshot_of(world), Redaction()
    spec = _accounting.first_period_spec(snapshot)
    warmed = _pyg.expenses_view(str(world.settings.stores), "priv", snapshot.snapshot_id, spec, (), everyone.label)
    assert lower_leaks(warmed.astype(str).to_string(), ANA_WORDS)  # what the warmer cached for nobody hidden names her
    st.cache_data.clear()
    st.cache_resource.clear()
