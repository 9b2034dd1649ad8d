"""The cash forecast's estimated payments on a hand journal: VAT from 477 − 472, withholdings from 4751, the last
instalment, net pay (465) and Social Security (476) from the last three months; and how the forecast places them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from etl import service
from etl.store import Store
from portal.settings import load_settings
from reports import cash_estimates, treasury
from tests import test_taxes, test_treasury

TODAY = date(2026, 12, 3)
END = date(2027, 3, 3)  # 13 weeks: 03/12/2026 + 90 days
HEADER = "fecha;asiento;cuenta;concepto;debe;haber;tipo\n"


def payroll(day: str, entry: int, gross: str, irpf: str, ss_worker: str, net: str, ss_company: str) -> str:
    return (
        f"{day};{entry};6400000;Nóminas;{gross};;normal\n"
        f"{day};{entry};4751000;Nóminas;;{irpf};normal\n"
        f"{day};{entry};4760000;Nóminas;;{ss_worker};normal\n"
        f"{day};{entry};4650000;Nóminas;;{net};normal\n"
        f"{day};{entry + 1};6420000;SS empresa;{ss_company};;normal\n"
        f"{day};{entry + 1};4760000;SS empresa;;{ss_company};normal\n"
    )


JOURNAL = HEADER + (
    "01/08/2026;1;5720000;Capital;20.000,00;;normal\n01/08/2026;1;1000000;Capital;;20.000,00;normal\n"
    + payroll("31/08/2026", 2, "3.000,00", "300,00", "190,00", "2.510,00", "900,00")
    + payroll("30/09/2026", 4, "3.000,00", "300,00", "190,00", "2.510,00", "900,00")
    + payroll("31/10/2026", 6, "3.100,00", "303,00", "197,00", "2.600,00", "930,00")
    + "15/10/2026;8;4300000;Venta;6.050,00;;normal\n15/10/2026;8;7000000;Venta;;5.000,00;normal\n"
    "15/10/2026;8;4770000;Venta;;1.050,00;normal\n"
    "20/10/2026;9;6000000;Compra;1.000,00;;normal\n20/10/2026;9;4720000;Compra;210,00;;normal\n"
    "20/10/2026;9;4000000;Compra;;1.210,00;normal\n"
)
FILINGS = [
    "303;2026;2T;20/07/2026;domiciliacion;900,00;3030000000011;BBBBBBBBBBBBBBB1",
    "303;2026;3T;20/10/2026;domiciliacion;950,00;3030000000012;BBBBBBBBBBBBBBB2",
    "111;2026;3T;20/10/2026;ingreso;600,00;1110000000011;BBBBBBBBBBBBBBB3",
    "202;2026;1P;20/04/2026;ingreso;500,00;2020000000011;BBBBBBBBBBBBBBB4",
    "202;2026;2P;20/10/2026;ingreso;650,00;2020000000012;BBBBBBBBBBBBBBB5",
]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path_factory.mktemp("cash") / "data")})
    numbers = {row.split(";")[6]: test_taxes.PDF for row in FILINGS}
    test_taxes.write_company(
        settings.sources,
        "prevista",
        diario=JOURNAL,
        presentaciones=test_taxes.filings_text(FILINGS),
        casillas=test_taxes.boxes_text([]),
        receipts=numbers,
    )
    (settings.sources / "prevista" / "empresa.json").write_text('{"nombre": "Prevista SL"}', encoding="utf-8")
    [result] = service.load_all(settings, companies=["prevista"])
    assert result.outcome == "published", result.message
    return Store(settings.stores).current("prevista")


def rows(frame: pd.DataFrame) -> list[tuple]:
    return list(zip(frame["date"], frame["concept"], frame["amount"], strict=True))


def test_tax_payments_of_the_pending_deadlines(snapshot):
    found = pd.DataFrame(cash_estimates.tax_payments(snapshot, TODAY, END))
    assert sorted(rows(found)) == [
        # 202 3P due 20/12/2026, a Sunday: Monday 21/12. As the last one filed, the 2P: 650,00.
        (date(2026, 12, 21), "Modelo 202 · Pago fraccionado de Sociedades 3P 2026", Decimal("650.00")),
        # 111 4T due 20/01/2027 (a Wednesday): October's payroll IRPF credited to 4751, 303,00.
        (date(2027, 1, 20), "Modelo 111 · Retenciones 4T 2026", Decimal("303.00")),
        # 303 4T due 30/01/2027, a Saturday: Monday 01/02/2027. 477 credits 1.050 − 472 debits 210 = 840; the last
        # 303 filed was a direct debit.
        (date(2027, 2, 1), "Modelo 303 · IVA 4T 2026 (domiciliado)", Decimal("840.00")),
    ]
    how = dict(zip(found["concept"], found["how"], strict=True))
    assert how["Modelo 303 · IVA 4T 2026 (domiciliado)"] == (
        "IVA repercutido (477) 1.050,00 € − soportado (472) 210,00 €; registrado hasta el 31/10/2026, periodo sin "
        "cerrar en el diario"
    )


def test_payroll_from_the_last_three_months(snapshot):
    found = pd.DataFrame(cash_estimates.payroll_payments(snapshot, TODAY, END))
    # Net pay (465): (2.510 + 2.510 + 2.600) / 3 = 2.540,00. Social Security (476): (1.090 + 1.090 + 1.127) / 3
    # = 1.102,33. Paid on 31/12, 31/01 and 28/02 (30/11 is before today).
    assert rows(found) == [
        (date(2026, 12, 31), "Nóminas Diciembre 2026 (líquido)", Decimal("2540.00")),
        (date(2026, 12, 31), "Seguridad Social Noviembre 2026", Decimal("1102.33")),
        (date(2027, 1, 31), "Nóminas Enero 2027 (líquido)", Decimal("2540.00")),
        (date(2027, 1, 31), "Seguridad Social Diciembre 2026", Decimal("1102.33")),
        (date(2027, 2, 28), "Nóminas Febrero 2027 (líquido)", Decimal("2540.00")),
        (date(2027, 2, 28), "Seguridad Social Enero 2027", Decimal("1102.33")),
    ]
    assert found["how"][0] == "media mensual de los líquidos de nómina (abonos de 465) de agosto 2026 a octubre 2026"


def test_the_kinds_the_reader_may_see(snapshot):
    both = cash_estimates.estimates(snapshot, TODAY, END, taxes_too=True, payroll_too=True)
    assert set(both["kind"]) == {"impuestos", "nominas"} and list(both["date"]) == sorted(both["date"])
    only_taxes = cash_estimates.estimates(snapshot, TODAY, END, taxes_too=True, payroll_too=False)
    assert set(only_taxes["kind"]) == {"impuestos"}
    assert cash_estimates.estimates(snapshot, TODAY, END, taxes_too=False, payroll_too=False).empty


def test_the_forecast_takes_the_estimates_by_week_and_marks_the_lowest_week(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    test_treasury.write_company(settings.sources)
    [result] = service.load_all(settings, companies=["caja"])
    assert result.outcome == "published", result.message
    caja = Store(settings.stores).current("caja")
    plain = treasury.forecast(caja, test_treasury.TODAY)
    today = test_treasury.TODAY
    estimated = pd.DataFrame(
        [
            {"date": today, "kind": "impuestos", "concept": "IVA", "amount": Decimal("100.00"), "how": "x"},
            {"date": date(2025, 4, 1), "kind": "nominas", "concept": "Nóminas", "amount": Decimal("1e6"), "how": "y"},
            {"date": date(2025, 9, 1), "kind": "nominas", "concept": "Fuera", "amount": Decimal("5.00"), "how": "z"},
        ]
    )
    found = treasury.forecast(caja, today, estimated=estimated)
    weeks = found.weeks
    # 01/04/2025 is in week 4 (10/03 + 21 days = 31/03 … 06/04); 01/09/2025 is after week 13: left out.
    assert list(weeks["taxes"][:2]) == [Decimal("100.00"), Decimal("0.00")]
    assert weeks["payroll"][3] == Decimal("1000000.00") and sum(weeks["payroll"]) == Decimal("1000000.00")
    assert weeks["balance"][0] == plain.weeks["balance"][0] - Decimal("100.00")
    assert weeks["balance"][12] == plain.weeks["balance"][12] - Decimal("1000100.00")
    assert found.lowest == int(weeks.loc[[Decimal(b) for b in weeks["balance"]].index(min(weeks["balance"])), "week"])
    assert list(found.estimates["concept"]) == ["IVA", "Nóminas"]
