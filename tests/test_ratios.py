"""Ratios of the hand-made company against hand-computed values; undefined ratios are None, never 0."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D

import pytest

from reports import periods
from reports.ratios import definitions, ratio_trend, ratio_trend_by_year, ratios, ratios_of_year
from tests.reports_books import JOURNAL, load_company

CAL = periods.FiscalCalendar()


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    root = tmp_path_factory.mktemp("hand")
    return load_company(root, "hand", JOURNAL, {"nombre": "Mano SL", "modelo_pgc": "pymes", "ejercicios": [2024, 2025]})


def test_every_ratio_has_a_formula_an_explanation_and_a_range_text():
    codes = [d.code for d in definitions()]
    assert codes == [
        "liquidez",
        "prueba_acida",
        "tesoreria",
        "solvencia",
        "endeudamiento",
        "autonomia",
        "fondo_maniobra",
        "roa",
        "roe",
        "margen_bruto",
        "margen_neto",
        "rotacion_activo",
        "periodo_cobro",
        "periodo_pago",
        "ebitda",
    ]
    for definition in definitions():
        assert definition.formula and definition.explanation.endswith(".")
        assert definition.range_text


def test_the_formulas_the_page_shows_write_numbers_the_spanish_way():
    formulas = {d.code: d.formula for d in definitions()}
    assert formulas["periodo_cobro"] == "Clientes / (Ventas anualizadas × 1,21) × 365"  # not «× 1.21»
    assert not [f for f in formulas.values() if re.search(r"\d\.\d|\d{4}", f)]


def test_ratios_of_2025(snap):
    table = ratios_of_year(snap, 2025).set_index("code")
    assert table.value.to_dict() == {
        "liquidez": D("2.5448"),  # 8.978 / 3.528
        "prueba_acida": D("2.5448"),  # no stock
        "tesoreria": D("1.3237"),  # 4.670 / 3.528
        "solvencia": D("3.9053"),  # 13.778 / 3.528
        "endeudamiento": D("0.2561"),  # 3.528 / 13.778
        "autonomia": D("2.9053"),  # 10.250 / 3.528
        "fondo_maniobra": D("5450.00"),
        "roa": D("-0.0073"),  # −100 / 13.778
        "roe": D("-0.0146"),  # −150 / 10.250
        "margen_bruto": D("0.6667"),  # (3.000 − 1.000) / 3.000
        "margen_neto": D("-0.0500"),
        "rotacion_activo": D("0.2177"),
        "periodo_cobro": D("344.9"),  # 3.430 / (3.000 × 1,21) × 365
        "periodo_pago": D("365.0"),  # 1.210 / (1.000 × 1,21) × 365
        "ebitda": D("500.00"),  # −100 + 600 amortización
    }
    assert table.loc["liquidez", "status"] == "aviso"  # above 2: idle current assets
    assert table.loc["roa", "status"] == "riesgo"
    assert table.loc["fondo_maniobra", "status"] == "bueno"
    assert table.loc["margen_bruto", "status"] == "sin_referencia"


def test_a_quarter_without_sales_leaves_sales_ratios_undefined(snap):
    table = ratios(snap, periods.quarter(CAL, 2025, 1)).set_index("code")
    assert table.loc["liquidez", "value"] == D("4.6023")  # 6.388 / 1.388 at 31/03/2025
    for code in ("margen_bruto", "margen_neto", "periodo_cobro", "periodo_pago"):
        assert table.loc[code, "value"] is None
        assert table.loc[code, "status"] == "indefinido"


def test_trend_has_one_point_per_month_end(snap):
    trend = ratio_trend(snap, 2025, until=date(2025, 6, 30))
    liquidity = trend[trend.code == "liquidez"]
    assert liquidity.period_end.tolist() == [
        date(2025, m, d) for m, d in ((1, 31), (2, 28), (3, 31), (4, 30), (5, 31), (6, 30))
    ]
    assert liquidity.value.iloc[2] == D("4.6023")


def test_trend_by_year_has_one_point_per_fiscal_year_end(snap):
    trend = ratio_trend_by_year(snap)
    assert trend.label.unique().tolist() == ["2024", "2025"]
    assert trend.period_end.unique().tolist() == [date(2024, 12, 31), date(2025, 12, 31)]
    by_year = {(r.label, r.code): r.value for r in trend.itertuples()}
    # 31/12/2024 (before the cierre): current assets 6.388 (2.220 + 168 + 4.000), current liabilities 1.388
    # (968 + 420), equity 10.400 (10.000 + the year's 400), total assets 11.788; 2024 flows: sales 2.000,
    # purchases 800, depreciation 600, allowance 200, result 400.
    assert {code: by_year[("2024", code)] for code in ("liquidez", "tesoreria", "fondo_maniobra", "roa", "roe")} == {
        "liquidez": D("4.6023"),  # 6.388 / 1.388
        "tesoreria": D("2.8818"),  # 4.000 / 1.388
        "fondo_maniobra": D("5000.00"),
        "roa": D("0.0339"),  # 400 / 11.788
        "roe": D("0.0385"),  # 400 / 10.400
    }
    assert {code: by_year[("2024", code)] for code in ("margen_bruto", "margen_neto", "periodo_cobro", "ebitda")} == {
        "margen_bruto": D("0.6000"),  # (2.000 − 800) / 2.000
        "margen_neto": D("0.2000"),  # 400 / 2.000
        "periodo_cobro": D("334.8"),  # 2.220 / (2.000 × 1,21) × 365
        "ebitda": D("1000.00"),  # 400 + 600 amortización
    }
    assert by_year[("2024", "periodo_pago")] == D("365.0")  # 968 / (800 × 1,21) × 365
    assert by_year[("2025", "liquidez")] == D("2.5448") and by_year[("2025", "roe")] == D("-0.0146")


def test_trend_by_year_takes_the_open_year_to_date_and_keeps_undefined_values(snap):
    trend = ratio_trend_by_year(snap, until=date(2025, 3, 31))
    assert trend.label.unique().tolist() == ["2024", "2025 (hasta el 31/03/2025)"]
    open_year = trend[trend.period_end == date(2025, 3, 31)].set_index("code").value
    assert open_year["liquidez"] == D("4.6023")  # 6.388 / 1.388 at 31/03/2025
    for code in ("margen_bruto", "margen_neto", "periodo_cobro", "periodo_pago"):  # no sales in Q1: undefined, not 0
        assert open_year[code] is None
    assert ratio_trend_by_year(snap, until=date(2024, 12, 31)).label.unique().tolist() == ["2024"]
