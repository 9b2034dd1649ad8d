"""The accounting pages through AppTest on the hand journal of tests/reports_books.py: hand-known figures,
exports, no page without the module, and never another company's data."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import openpyxl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from auth import passwords
from etl import service
from portal.db import get_engine
from portal.settings import load_settings
from tests.reports_books import JOURNAL
from tests.test_security import (
    World,
    client,
    everything_drawn,
    make_world,
    open_page,
    open_tab,
    request_url_path,
    signed_in,
    texts,
)

ACCOUNTING_PAGES = [
    "contabilidad-pyg",
    "contabilidad-balance",
    "contabilidad-sumas",
    "contabilidad-mayor",
    "contabilidad-ratios",
    "contabilidad-umbrales",
]
HEADER = "fecha;asiento;cuenta;concepto;debe;haber;tipo\n"
# A second company whose distinctive figure (7.777,77) must never reach a page of the first one.
OTRA = HEADER + ("12/05/2025;1;4300009;Venta Otra;7.777,77;;normal\n12/05/2025;1;7000000;Venta Otra;;7.777,77;normal\n")
OTRA_WORDS = ("7.777,77", "7777.77", "Venta Otra", "4300009")


def write_company(settings, code: str, journal: str, empresa: dict) -> None:
    folder = settings.sources / code
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "diario.csv").write_text(journal, encoding="utf-8")
    (folder / "empresa.json").write_text(json.dumps(empresa), encoding="utf-8")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = tmp_path_factory.mktemp("books") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings, "mano", JOURNAL, {"nombre": "Mano SL", "modelo_pgc": "pymes", "ejercicios": [2024, 2025]})
    write_company(settings, "otra", OTRA, {"nombre": "Otra SL", "modelo_pgc": "pymes", "ejercicios": [2025]})
    results = service.load_all(settings, companies=["mano", "otra"])
    assert [r.outcome for r in results] == ["published", "published"], [r.message for r in results]
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)  # same sign-in path, a cheaper hash: these tests sign in often
        client(engine, "lola", {"mano": ["contabilidad"]})
        client(engine, "dos", {"mano": ["contabilidad"], "otra": ["contabilidad"]})
        client(engine, "fiscal", {"mano": ["impuestos"]})
    engine.dispose()
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    return make_world(template, tmp_path, monkeypatch)


@pytest.fixture
def downloaded(monkeypatch) -> dict[str, bytes]:
    """Every file a download button offered in this test, by its file name (deferred files built right away)."""
    files: dict[str, bytes] = {}
    real = MediaFileManager.add_deferred

    def build_now(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        data = data_callable()
        files[file_name] = data.encode("utf-8") if isinstance(data, str) else data
        return real(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", build_now)
    return files


def spanish_csv(data: bytes) -> list[dict]:
    """The rows of a downloaded CSV read as a Spanish Excel reads it: UTF-8 with BOM, ';', CRLF line ends."""
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def table(at, index: int = 0) -> list[dict]:
    return at.dataframe[index].value.to_dict("records")


def by_code(at, index: int = 0) -> dict[str, dict]:
    return {row["Código"]: row for row in table(at, index)}


def select(at, label: str, value):
    [box] = [s for s in at.selectbox if s.label == label]
    box.set_value(value).run()
    assert not at.exception, at.exception
    return at


def page_of(username: str, page: str):
    return open_page(signed_in(username), page)


def pyg_tab(at, label: str):
    """Open a tab of the P&L: «Cuenta de resultados» (the first screen), «Gráficos» or «Mes a mes»."""
    return open_tab(at, "pyg-tab-", label)


# --- Pérdidas y ganancias -------------------------------------------------------------------------------------------


def test_pyg_shows_the_hand_known_result_and_the_prior_year(world):
    at = page_of("lola", "contabilidad_pyg")
    assert [t.value for t in at.title] == ["Pérdidas y ganancias"]
    assert "Datos a fecha 31/12/2025" in texts(at)
    lines = by_code(at)
    # 2025: sales 3.000, purchases −1.000, staff −1.500, depreciation −600, interest −50 → −150; 2024: 400.
    assert lines["49500"]["Ejercicio 2025"] == "-150,00 €"
    assert lines["49500"]["Ejercicio 2024"] == "400,00 €"
    assert (lines["49500"]["Diferencia"], lines["49500"]["%"]) == ("-550,00 €", "-137,5 %")
    assert [lines["40100"][k] for k in ("Ejercicio 2025", "Ejercicio 2024", "Diferencia", "%")] == [
        "3.000,00 €",
        "2.000,00 €",
        "1.000,00 €",
        "50,0 %",
    ]
    assert (lines["40600"]["Ejercicio 2024"], lines["40600"]["%"]) == ("0,00 €", "—")  # no staff costs in 2024
    [metric] = [m for m in at.metric if m.label == "Resultado del ejercicio"]
    assert metric.value == "-150,00 €"
    assert [t.label for t in at.tabs] == ["Cuenta de resultados", "Gráficos", "Mes a mes"]
    assert not at.get("plotly_chart") and len(at.dataframe) == 1  # the first screen: the statement only
    monthly = {row["Código"]: row for row in table(pyg_tab(at, "Mes a mes"), 0)}
    assert (monthly["49500"]["Abril 2025"], monthly["49500"]["Total"]) == ("3.000,00 €", "-150,00 €")
    assert len(at.get("plotly_chart")) == 0 and [m.value for m in at.metric] == ["-150,00 €"]
    assert len(pyg_tab(at, "Gráficos").get("plotly_chart")) == 3 and not at.dataframe
    assert not at.error


def chart_spec(at, title: str) -> dict:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    [spec] = [s for s in specs if title in str(s["layout"].get("title"))]
    return spec


def test_pyg_charts_the_biggest_expense_accounts_beside_the_prior_year(world):
    at = pyg_tab(page_of("lola", "contabilidad_pyg"), "Gráficos")
    spec = chart_spec(at, "Cuentas de gasto más altas")
    now, before = spec["data"]
    # 2025: staff 1.500, purchases 1.000, depreciation 600, interest 50; 2024: purchases 800, depreciation 600.
    assert [y.split(" · ")[0] for y in now["y"]] == ["6400000", "6000000", "6810000", "6620000"]
    assert (now["name"], now["x"], now["orientation"]) == ("Ejercicio 2025", [1500.0, 1000.0, 600.0, 50.0], "h")
    assert (before["name"], before["x"]) == ("Ejercicio 2024", [0.0, 800.0, 600.0, 0.0])
    assert now["hovertext"][0] == "1.500,00 €"
    select(at, "Ejercicio", 2024)  # no 2023 data: the comparison bars are left out, not drawn as zeros
    [only] = chart_spec(at, "Cuentas de gasto más altas")["data"]
    assert [y.split(" · ")[0] for y in only["y"]] == ["6000000", "6810000", "6940000"]
    assert only["x"] == [800.0, 600.0, 200.0]


def test_pyg_of_2024_has_no_comparison_figures_and_a_quarter_follows_the_selector(world):
    at = select(page_of("lola", "contabilidad_pyg"), "Ejercicio", 2024)
    lines = by_code(at)
    assert (lines["49500"]["Ejercicio 2024"], lines["49500"]["Ejercicio 2023"]) == ("400,00 €", "—")
    assert lines["49500"]["%"] == "—"
    select(at, "Ejercicio", 2025)
    select(at, "Periodo", "quarter")
    select(at, "Trimestre", 2)
    lines = by_code(at)
    assert lines["49500"]["2.º trimestre 2025"] == "1.450,00 €"  # 3.000 − 1.500 − 50
    assert lines["49500"]["2.º trimestre 2024"] == "0,00 €"


def test_pyg_drills_down_from_a_line_to_its_accounts_ledger_and_entry(world):
    at = page_of("lola", "contabilidad_pyg")
    select(at, "Ver las cuentas de una partida", "40600")
    assert {"Cuenta": "6400000", "Nombre": "Sueldos y salarios", "Importe en la partida": "-1.500,00 €"} in table(at, 1)
    select(at, "Ver el mayor de una cuenta", "6400000")
    assert "Saldo inicial: 0,00 € · Saldo final: 1.500,00 € · 1 apuntes" in texts(at)
    card = table(at, 2)
    assert [(r["Fecha"], r["Asiento"], r["Debe"], r["Saldo"]) for r in card] == [
        ("20/05/2025", "6", "1.500,00 €", "1.500,00 €")
    ]
    [entry] = [s for s in at.selectbox if s.label == "Ver el asiento completo"]
    entry.set_value(entry.options and (2025, 6, date(2025, 5, 20))).run()
    lines = table(at, 3)
    assert [(r["Cuenta"], r["Debe"], r["Haber"]) for r in lines] == [
        ("6400000", "1.500,00 €", ""),
        ("5720001", "", "1.500,00 €"),
    ]


def test_pyg_exports_csv_excel_and_pdf_with_the_same_figures(world, downloaded):
    at = page_of("lola", "contabilidad_pyg")
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Descargar CSV", "Descargar Excel", "Descargar PDF"]
    [csv_name] = [n for n in downloaded if n.startswith("pyg-mano-") and n.endswith(".csv")]
    rows = {r["Código"]: r for r in spanish_csv(downloaded[csv_name])}
    assert (rows["49500"]["Importe"], rows["49500"]["Importe anterior"]) == ("-150,00", "400,00")
    assert rows["40100"]["Importe"] == "3000,00"
    [xlsx_name] = [n for n in downloaded if n.startswith("pyg-mano-") and n.endswith(".xlsx")]
    book = openpyxl.load_workbook(io.BytesIO(downloaded[xlsx_name]))
    assert book.sheetnames == ["Pérdidas y ganancias", "Mensual"]
    found = {r[0]: r for r in book["Pérdidas y ganancias"].iter_rows(values_only=True) if r and r[0]}
    assert float(found["49500"][2]) == -150.0 and float(found["49500"][3]) == 400.0  # real number cells
    [pdf_name] = [n for n in downloaded if n.endswith(".pdf")]
    assert downloaded[pdf_name].startswith(b"%PDF") and len(downloaded[pdf_name]) > 1000


# --- Balance de situación -------------------------------------------------------------------------------------------


def test_balance_shows_the_hand_known_totals_beside_the_prior_year_end_and_squares(world, downloaded):
    at = page_of("lola", "contabilidad_balance")
    assert [t.value for t in at.title] == ["Balance de situación"]
    lines = by_code(at)
    assert (lines["10000"]["A 31/12/2025"], lines["10000"]["A 31/12/2024"]) == ("13.778,00 €", "11.788,00 €")
    assert (lines["30000"]["A 31/12/2025"], lines["30000"]["A 31/12/2024"]) == ("13.778,00 €", "11.788,00 €")
    assert lines["12700"]["A 31/12/2025"] == "4.670,00 €" and lines["32320"]["A 31/12/2025"] == "968,00 €"
    assert lines["21700"]["A 31/12/2025"] == "-150,00 €"  # 2025 not closed: the year's loss
    shown = texts(at)
    assert "A 31/12/2025: el balance cuadra (activo = patrimonio neto + pasivo)." in shown
    assert "A 31/12/2024: el balance cuadra" in shown
    assert not at.error
    assert len(at.get("plotly_chart")) == 1
    at.date_input[0].set_value(date(2025, 3, 15)).run()
    lines = by_code(at)
    assert (lines["12700"]["A 15/03/2025"], lines["10000"]["A 15/03/2025"]) == ("6.420,00 €", "11.788,00 €")
    assert "cuadra" in texts(at) and not at.error
    [csv_name] = [n for n in downloaded if n.startswith("balance-mano-") and n.endswith(".csv")]
    rows = {r["Código"]: r for r in spanish_csv(downloaded[csv_name])}
    assert (rows["10000"]["Importe"], rows["10000"]["Importe anterior"]) == ("11788,00", "11788,00")
    assert any(n.startswith("balance-mano-") and n.endswith(".pdf") for n in downloaded)


def test_balance_drills_down_to_the_accounts_of_a_line(world):
    at = select(page_of("lola", "contabilidad_balance"), "Ver las cuentas de una partida", "32320")
    [row] = table(at, 1)  # the overdrawn bank account lands on the liabilities side
    assert (row["Cuenta"], row["Saldo"], row["Importe en la partida"]) == ("5720002", "-968,00 €", "968,00 €")
    select(at, "Ver el mayor de una cuenta (ejercicio hasta la fecha)", "5720002")
    assert "Saldo inicial: 0,00 € · Saldo final: -968,00 € · 1 apuntes" in texts(at)
    assert [(r["Fecha"], r["Haber"], r["Saldo"]) for r in table(at, 2)] == [("10/03/2025", "968,00 €", "-968,00 €")]


# --- Sumas y saldos -------------------------------------------------------------------------------------------------


def test_sumas_y_saldos_at_year_end_and_by_level(world, downloaded):
    at = page_of("lola", "contabilidad_sumas")
    at.date_input[0].set_value(date(2024, 12, 31)).run()
    rows = {r["Cuenta"]: r for r in table(at)}
    assert (rows["5720001"]["Debe"], rows["5720001"]["Haber"], rows["5720001"]["Saldo"]) == (
        "10.000,00 €",
        "6.000,00 €",
        "4.000,00 €",
    )
    assert (rows[""]["Debe"], rows[""]["Haber"], rows[""]["Saldo"]) == ("22.188,00 €", "22.188,00 €", "0,00 €")
    at.radio[0].set_value("3").run()
    rows = {r["Cuenta"]: r for r in table(at)}
    assert rows["281"]["Saldo"] == "-600,00 €" and rows[""]["Debe"] == "22.188,00 €"
    xlsx = [n for n in downloaded if n.startswith("sumas-saldos-mano-") and n.endswith(".xlsx")][-1]
    sheet = openpyxl.load_workbook(io.BytesIO(downloaded[xlsx]))["Sumas y saldos"]
    found = {r[0]: r for r in sheet.iter_rows(values_only=True) if r and r[0]}
    assert float(found["281"][4]) == -600.0


# --- Mayor ----------------------------------------------------------------------------------------------------------


def test_mayor_carries_the_opening_balance_into_a_mid_year_range_and_runs_the_balance(world, downloaded):
    at = page_of("lola", "contabilidad_mayor")
    at.text_input[0].input("572").run()
    [account] = [s for s in at.selectbox if s.label == "Cuenta"]
    assert account.options[:2] == ["5720001 · Bancos e instituciones de crédito c/c vista, euros", account.options[1]]
    account.set_value("5720001").run()
    at.date_input[0].set_value(date(2025, 3, 1)).run()
    at.date_input[1].set_value(date(2025, 6, 30)).run()
    assert not at.exception
    assert "Saldo inicial: 6.420,00 € · Saldo final: 4.670,00 € · 4 apuntes" in texts(at)
    card = table(at)
    assert [(r["Fecha"], r["Asiento"], r["Debe"], r["Haber"], r["Saldo"]) for r in card] == [
        ("20/05/2025", "6", "", "1.500,00 €", "4.920,00 €"),
        ("10/06/2025", "7", "", "500,00 €", "4.420,00 €"),
        ("10/06/2025", "7", "300,00 €", "", "4.720,00 €"),
        ("30/06/2025", "8", "", "50,00 €", "4.670,00 €"),
    ]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Saldo inicial": "6.420,00 €",
        "Total debe": "300,00 €",
        "Total haber": "2.050,00 €",
        "Saldo final": "4.670,00 €",
    }
    [entry] = [s for s in at.selectbox if s.label == "Ver el asiento completo"]
    entry.set_value((2025, 7, date(2025, 6, 10))).run()
    assert [(r["Cuenta"], r["Debe"], r["Haber"]) for r in table(at, 1)] == [
        ("5510001", "500,00 €", ""),
        ("5720001", "", "500,00 €"),
        ("5720001", "300,00 €", ""),
        ("5510002", "", "300,00 €"),
    ]
    name = [n for n in downloaded if n.startswith("mayor-5720001-mano-") and n.endswith(".csv")][-1]
    rows = spanish_csv(downloaded[name])
    assert [r["Saldo"] for r in rows] == ["4920,00", "4420,00", "4720,00", "4670,00"]
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4}", r["Fecha"]) for r in rows)


def test_mayor_pages_a_busy_account_and_keeps_the_running_balance(world, monkeypatch):
    from views import _accounting

    monkeypatch.setattr(_accounting, "LEDGER_PAGE_SIZE", 3)
    at = page_of("lola", "contabilidad_mayor")
    at.text_input[0].input("5720001").run()
    at.date_input[0].set_value(date(2024, 1, 1)).run()
    assert "Saldo inicial: 0,00 € · Saldo final: 4.670,00 € · 9 apuntes · página 1 de 3" in texts(at)
    assert [r["Saldo"] for r in table(at)] == ["10.000,00 €", "4.000,00 €", "0,00 €"]  # capital, machine, cierre
    at.number_input[0].set_value(2).run()
    assert [r["Saldo"] for r in table(at)] == ["4.000,00 €", "6.420,00 €", "4.920,00 €"]  # apertura onwards
    assert "página 2 de 3" in texts(at)


def test_mayor_exports_the_whole_range_not_just_the_page(world, monkeypatch, downloaded):
    from views import _accounting

    monkeypatch.setattr(_accounting, "LEDGER_PAGE_SIZE", 3)
    at = page_of("lola", "contabilidad_mayor")
    at.text_input[0].input("5720001").run()
    at.date_input[0].set_value(date(2024, 1, 1)).run()
    assert not at.exception
    assert "página 1 de 3" in texts(at) and len(table(at)) == 3
    labels = [b.label for b in at.get("download_button")]
    assert labels[-2:] == ["Descargar todo el periodo (CSV)", "Descargar todo el periodo (Excel)"]
    assert "Todo el periodo elegido (9 apuntes, todas las páginas, no solo la visible):" in texts(at)
    stem = "mayor-completo-5720001-20240101-20251231-mano-"
    [csv_name] = [n for n in downloaded if n.startswith(stem) and n.endswith(".csv")]
    rows = spanish_csv(downloaded[csv_name])
    assert [r["Saldo"] for r in rows] == [
        "10000,00",  # capital
        "4000,00",  # machine
        "0,00",  # 2024 cierre
        "4000,00",  # 2025 apertura
        "6420,00",
        "4920,00",
        "4420,00",
        "4720,00",
        "4670,00",
    ]
    assert (rows[0]["Fecha"], rows[0]["Asiento"], rows[0]["Debe"]) == ("01/01/2024", "1", "10000,00")
    [xlsx_name] = [n for n in downloaded if n.startswith(stem) and n.endswith(".xlsx")]
    sheet = openpyxl.load_workbook(io.BytesIO(downloaded[xlsx_name]))["Mayor"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0].startswith("Mano SL · Mayor 5720001") and "saldo inicial 0,00 €" in values[0][0]
    body = values[values.index(("Fecha", "Asiento", "Concepto", "Debe", "Haber", "Saldo")) + 1 :]
    assert len(body) == 9 and [float(r[5]) for r in body][-1] == 4670.0  # real number cells
    at.date_input[0].set_value(date(2025, 7, 1)).run()
    at.date_input[1].set_value(date(2025, 7, 31)).run()  # no lines: no whole-range buttons either
    assert "Descargar todo el periodo (CSV)" not in [b.label for b in at.get("download_button")]


def test_mayor_from_the_first_day_of_the_year_opens_with_the_apertura(world, downloaded):
    at = page_of("lola", "contabilidad_mayor")
    at.text_input[0].input("5720001").run()
    at.date_input[0].set_value(date(2025, 1, 1)).run()
    at.date_input[1].set_value(date(2025, 6, 30)).run()
    assert not at.exception
    # the 2025 apertura (4.000) is the opening balance, not a line; the closing is the same as before (4.670)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Saldo inicial": "4.000,00 €",
        "Total debe": "2.720,00 €",
        "Total haber": "2.050,00 €",
        "Saldo final": "4.670,00 €",
    }
    assert "Saldo inicial: 4.000,00 € · Saldo final: 4.670,00 € · 5 apuntes" in texts(at)
    assert "El saldo inicial incluye el asiento de apertura del ejercicio (4.000,00 €)." in texts(at)
    first = table(at)[0]
    assert (first["Fecha"], first["Debe"], first["Saldo"]) == ("20/02/2025", "2.420,00 €", "6.420,00 €")
    assert "Apertura" not in [r["Tipo"] for r in table(at)]
    [xlsx] = [
        n for n in downloaded if n.startswith("mayor-completo-5720001-20250101-20250630-") and n.endswith(".xlsx")
    ]
    title = next(openpyxl.load_workbook(io.BytesIO(downloaded[xlsx]))["Mayor"].iter_rows(values_only=True))[0]
    assert "saldo inicial 4.000,00 €" in title


def test_mayor_finds_accounts_by_name(world):
    at = page_of("lola", "contabilidad_mayor")
    at.text_input[0].input("amortizacion").run()
    [account] = [s for s in at.selectbox if s.label == "Cuenta"]
    assert [o.split(" · ")[0] for o in account.options] == ["2813000", "6810000"]


# --- Ratios ---------------------------------------------------------------------------------------------------------


def test_ratios_show_value_formula_badge_and_undefined(world):
    at = page_of("dos", "contabilidad_ratios")
    shown = texts(at)
    assert "Fórmula: Activo corriente / Pasivo corriente" in shown and "Rango saludable:" in shown
    values = {m.label: m.value for m in at.metric}
    # 2025 at 31/12: current assets 8.978 (3.430 + 378 + 500 + 4.670), current liabilities 3.528 (1.268 + 2.260).
    assert values["Liquidez general"] == "2,54"  # 8.978 / 3.528 = 2,5448
    assert values["Fondo de maniobra"] == "5.450,00 €"
    assert values["Margen neto"] == "-0,05"  # −150 / 3.000
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert len(badges) == len(values) and ":green-badge[Saludable]" in badges and ":red-badge[Fuera de rango]" in badges
    assert len(at.get("plotly_chart")) == 1
    at.sidebar.selectbox[0].select("otra").run()  # no liabilities at all: every ratio over them is undefined
    values = {m.label: m.value for m in at.metric}
    assert values["Liquidez general"] == "Indefinido" and values["Fondo de maniobra"] == "7.777,77 €"


def test_ratios_trend_by_year_with_undefined_points_shown_as_such(world):
    at = page_of("dos", "contabilidad_ratios")
    [by] = [r for r in at.radio if r.label == "Evolución"]
    assert by.options == ["Por meses", "Por años"] and by.value == "month"
    by.set_value("year").run()
    assert not at.exception
    [line] = chart_spec(at, "evolución por ejercicios")["data"]
    assert line["x"] == ["2024", "2025"] and line["y"] == [4.6023, 2.5448]  # liquidez at 31/12/2024 and 31/12/2025
    select(at, "Ratio", "margen_bruto")
    [line] = chart_spec(at, "evolución por ejercicios")["data"]
    assert line["y"] == [0.6, 0.6667]
    at.sidebar.selectbox[0].select("otra").run()  # no liabilities: liquidity is undefined, a gap and never 0
    [by] = [r for r in at.radio if r.label == "Evolución"]
    by.set_value("year").run()
    [line] = chart_spec(at, "evolución por ejercicios")["data"]
    assert line["x"] == ["2025 (hasta el 12/05/2025)"] and line["y"] == [None]  # its only sale is of 12/05/2025
    [points] = [d.value for d in at.dataframe if "Periodo" in d.value.columns]
    assert points.to_dict("records") == [
        {"Periodo": "2025 (hasta el 12/05/2025)", "Fecha del balance": "12/05/2025", "Valor": "Indefinido"}
    ]
    assert "Los huecos de la línea son periodos en que el ratio no está definido (división por cero)." in texts(at)


# --- access and isolation -------------------------------------------------------------------------------------------


def test_a_user_without_the_accounting_grant_opens_none_of_the_pages(world):
    at = signed_in("fiscal")
    for url_path in ACCOUNTING_PAGES:
        request_url_path(at, url_path)
        assert not at.exception
        assert "No tiene acceso a esta página." in texts(at), url_path
        assert len(at.dataframe) == 0 and not at.get("plotly_chart") and not at.metric
        assert "Datos a fecha" not in texts(at)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"views/{url_path.replace('-', '_')}.py")


def drawn_with_options(at) -> str:
    return everything_drawn(at) + "\n".join(str(s.options) for s in at.selectbox if s.label != "Empresa")


def test_the_pages_only_show_the_selected_company(world):
    at = signed_in("dos")
    for url_path in ACCOUNTING_PAGES:
        open_page(at, url_path.replace("-", "_"))
        if url_path == "contabilidad-mayor":
            at.text_input[0].input("4300").run()
        drawn = drawn_with_options(at)
        assert "Mano SL" in drawn and not any(word in drawn for word in OTRA_WORDS), url_path
    at.sidebar.selectbox[0].select("otra").run()
    for url_path in ACCOUNTING_PAGES:
        open_page(at, url_path.replace("-", "_"))
        if url_path == "contabilidad-mayor":
            at.text_input[0].input("4300").run()
        drawn = drawn_with_options(at)
        assert "7.777,77" in drawn or "4300009" in drawn, url_path
        assert "Mano SL" not in drawn and "3.000,00" not in drawn and "4300001" not in drawn, url_path


def test_a_closed_year_defaults_to_the_whole_year(world):
    at = page_of("lola", "contabilidad_pyg")  # the books of «mano» run to the end of 2025
    [kind] = [s for s in at.selectbox if s.label == "Periodo"]
    assert kind.value == "year"


def test_statements_hide_empty_lines_and_codes_until_asked(world):
    at = page_of("lola", "contabilidad_pyg")
    # Mano's books (tests/reports_books.py) have no inventories, no subsidies and no taxes on profit in either year:
    # those lines (40200 variación de existencias, 40900 subvenciones, 41900 impuesto sobre beneficios) are empty.
    shown = by_code(at)
    assert {"40200", "40900", "41900"}.isdisjoint(shown)
    assert {"40100", "40400", "40600", "49500"} <= set(shown)  # lines with amounts and the result stay
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["Código"]["hidden"] is True  # the code is kept for the row click, not drawn
    [zeros] = [t for t in at.toggle if t.label == "Mostrar partidas sin importe"]
    zeros.set_value(True).run()
    every = by_code(at)
    assert {"40200", "40900", "41900"} <= set(every)
    assert [every["41900"][k] for k in ("Ejercicio 2025", "Ejercicio 2024")] == ["0,00 €", "0,00 €"]
    [codes] = [t for t in at.toggle if t.label == "Mostrar códigos de partida"]
    codes.set_value(True).run()
    assert "hidden" not in json.loads(at.dataframe[0].proto.columns).get("Código", {})
    assert not at.exception
