"""Balance sheet, P&L and trial balance of a hand-made company against figures computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from reports import periods
from reports.statements import balance_sheet, line_accounts, monthly_pnl, profit_and_loss, top_expenses
from reports.trial_balance import trial_balance
from tests.reports_books import HEADER, JOURNAL, load_company

CAL = periods.FiscalCalendar()


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    root = tmp_path_factory.mktemp("hand")
    return load_company(root, "hand", JOURNAL, {"nombre": "Mano SL", "modelo_pgc": "pymes", "ejercicios": [2024, 2025]})


def amounts(statement, *codes):
    return {code: statement.amount(code) for code in codes}


def test_pnl_2024_leaves_out_the_regularizacion(snap):
    pnl = profit_and_loss(snap, periods.fiscal_year(CAL, 2024))
    assert amounts(pnl, "40100", "40400", "40700", "40800", "49100", "49200", "49500") == {
        "40100": D("2000.00"),
        "40400": D("-800.00"),
        "40700": D("-200.00"),  # 694 deterioro de créditos comerciales
        "40800": D("-600.00"),
        "49100": D("400.00"),
        "49200": D("0.00"),
        "49500": D("400.00"),
    }
    assert pnl.prior_label == "Ejercicio 2023"
    assert pnl.prior("49500") is None  # no data before 2024: no comparison figures, not zeros
    assert pnl.unmapped == ()


def test_pnl_2025_with_prior_year_difference_and_ratio(snap):
    pnl = profit_and_loss(snap, periods.fiscal_year(CAL, 2025))
    assert amounts(pnl, "40100", "40400", "40600", "40800", "49100", "41500", "49200", "49300", "49500") == {
        "40100": D("3000.00"),
        "40400": D("-1000.00"),
        "40600": D("-1500.00"),
        "40800": D("-600.00"),
        "49100": D("-100.00"),
        "41500": D("-50.00"),
        "49200": D("-50.00"),
        "49300": D("-150.00"),
        "49500": D("-150.00"),
    }
    row = pnl.lines.set_index("line_code").loc["49500"]
    assert (row.prior_amount, row.difference, row.difference_ratio) == (D("400.00"), D("-550.00"), D("-1.3750"))
    sales = pnl.lines.set_index("line_code").loc["40100"]
    assert (sales.prior_amount, sales.difference, sales.difference_ratio) == (D("2000.00"), D("1000.00"), D("0.5000"))
    staff = pnl.lines.set_index("line_code").loc["40600"]
    assert (staff.prior_amount, staff.difference, staff.difference_ratio) == (D("0.00"), D("-1500.00"), None)


def test_pnl_of_a_quarter_a_month_and_a_free_range(snap):
    q2 = profit_and_loss(snap, periods.quarter(CAL, 2025, 2))  # April–June: the sale, salaries, interest
    assert amounts(q2, "40100", "40600", "41500", "49500") == {
        "40100": D("3000.00"),
        "40600": D("-1500.00"),
        "41500": D("-50.00"),
        "49500": D("1450.00"),
    }
    assert q2.label == "2.º trimestre 2025"
    march = profit_and_loss(snap, periods.month(CAL, 2024, 3))
    assert amounts(march, "40100", "40400", "49500") == {
        "40100": D("2000.00"),
        "40400": D("-800.00"),
        "49500": D("1200.00"),
    }
    # 16/03–31/12/2024 (not whole months: read from the journal at the start): purchase, depreciation, allowance.
    loose = profit_and_loss(snap, periods.date_range(CAL, date(2024, 3, 16), date(2024, 12, 31)), compare=False)
    assert amounts(loose, "40100", "40400", "49500") == {
        "40100": D("0.00"),
        "40400": D("-800.00"),
        "49500": D("-1600.00"),
    }
    assert loose.prior_label is None
    ytd = profit_and_loss(snap, periods.year_to_date(CAL, date(2025, 6, 30)))
    assert ytd.amount("49500") == D("1450.00")
    assert ytd.prior("49500") == D("1200.00")  # 01/01–30/06/2024


def test_balance_at_year_end_is_before_the_cierre_and_shows_the_result_in_129(snap):
    bal = balance_sheet(snap, date(2024, 12, 31))
    assert bal.check == D("0.00")
    assert amounts(bal, "11200", "12380", "12390", "12700", "10000", "21110", "21700", "32580", "32590", "30000") == {
        "11200": D("5400.00"),  # 6.000 machine − 600 amortización acumulada (281, contra)
        "12380": D("2220.00"),  # 2.420 customer − 200 deterioro (490, contra)
        "12390": D("168.00"),
        "12700": D("4000.00"),
        "10000": D("11788.00"),
        "21110": D("10000.00"),
        "21700": D("400.00"),  # 129 after the regularización
        "32580": D("968.00"),
        "32590": D("420.00"),
        "30000": D("11788.00"),
    }
    assert bal.prior("10000") is None and bal.prior_check is None  # 31/12/2023: before the books


def test_interim_balance_with_overdraft_and_two_sided_partner_accounts(snap):
    bal = balance_sheet(snap, date(2025, 12, 31))  # 2025 not closed: the result is still in groups 6/7
    assert bal.check == D("0.00") and bal.prior_check == D("0.00") and bal.balanced
    assert amounts(
        bal, "11200", "12380", "12390", "12500", "12700", "10000", "21300", "21700", "32320", "32390", "32580"
    ) == {
        "11200": D("4800.00"),
        "12380": D("3430.00"),
        "12390": D("378.00"),
        "12500": D("500.00"),  # 5510001 debit balance → asset
        "12700": D("4670.00"),  # 5720001 only: the overdrawn 5720002 is not cash
        "10000": D("13778.00"),
        "21300": D("400.00"),  # 40 legal + 360 voluntary reserves
        "21700": D("-150.00"),  # groups 6/7 not regularised: the year's loss
        "32320": D("968.00"),  # 5720002 overdraft → deudas con entidades de crédito
        "32390": D("300.00"),  # 5510002 credit balance → liability
        "32580": D("1210.00"),
    }
    assert (bal.amount("30000"), bal.prior("10000"), bal.prior("21700")) == (D("13778.00"), D("11788.00"), D("400.00"))
    assert bal.prior_label == "A 31/12/2024"


def test_balance_mid_month_reads_the_loose_days_from_the_journal(snap):
    bal = balance_sheet(snap, date(2025, 3, 15), compare=False)
    assert bal.check == D("0.00")
    assert amounts(bal, "12380", "12700", "10000", "21300", "21700", "32320", "32580") == {
        "12380": D("-200.00"),  # the customer has paid; only the allowance is left
        "12700": D("6420.00"),
        "10000": D("11788.00"),
        "21300": D("400.00"),
        "21700": D("0.00"),
        "32320": D("968.00"),
        "32580": D("0.00"),
    }


def test_drill_down_from_a_line_to_its_accounts(snap):
    cash = line_accounts(snap, "balance", "12700", as_of=date(2025, 12, 31))
    assert cash[["account", "amount"]].values.tolist() == [["5720001", D("4670.00")]]
    debts = line_accounts(snap, "balance", "32320", as_of=date(2025, 12, 31))
    assert debts[["account", "balance", "amount"]].values.tolist() == [["5720002", D("-968.00"), D("968.00")]]
    sales = line_accounts(snap, "pyg", "40100", period=periods.fiscal_year(CAL, 2025))
    assert sales[["account", "amount"]].values.tolist() == [["7050000", D("3000.00")]]


def test_monthly_pnl_has_twelve_months(snap):
    table = monthly_pnl(snap, 2025)
    result = table[table.line_code == "49500"]
    assert len(result) == 12
    assert dict(zip(result.month_label, result.amount, strict=True))["Abril 2025"] == D("3000.00")
    assert sum(result.amount) == D("-150.00")


def test_trial_balance_at_year_end_leaves_out_the_cierre(snap):
    tb = trial_balance(snap, date(2024, 12, 31))
    assert tb.total_debit == tb.total_credit == D("22188.00")  # every 2024 line but the cierre
    rows = {r.account: (r.debit, r.credit, r.balance) for r in tb.rows.itertuples()}
    assert rows["5720001"] == (D("10000.00"), D("6000.00"), D("4000.00"))
    assert rows["6000000"] == (D("800.00"), D("800.00"), D("0.00"))
    assert rows["1290000"] == (D("0.00"), D("400.00"), D("-400.00"))
    level3 = trial_balance(snap, date(2024, 12, 31), level="3")
    by3 = {r.account: (r.name, r.balance) for r in level3.rows.itertuples()}
    assert by3["281"] == ("Amortización acumulada del inmovilizado material", D("-600.00"))
    assert level3.total_debit == D("22188.00")
    march = trial_balance(snap, date(2025, 3, 31), level="4")
    assert march.total_debit == march.total_credit == D("16376.00")  # apertura 12.588 + 400 + 2.420 + 968


def test_periods_follow_the_fiscal_year_start_and_have_spanish_labels():
    july = periods.FiscalCalendar.of({"fiscal_year_start": "01-07"})  # dd-mm, as empresa.json writes it
    year = periods.fiscal_year(july, 2025)
    assert (year.start, year.end, year.label) == (date(2025, 7, 1), date(2026, 6, 30), "Ejercicio 2025/26")
    q3 = periods.quarter(july, 2025, 3)
    assert (q3.start, q3.end, q3.label) == (date(2026, 1, 1), date(2026, 3, 31), "3.er trimestre 2025/26")
    assert (q3.prior().start, q3.prior().label) == (date(2025, 1, 1), "3.er trimestre 2024/25")
    assert periods.year_to_date(july, date(2026, 2, 15)).start == date(2025, 7, 1)
    feb = periods.month(CAL, 2024, 2)
    assert (feb.label, feb.end, feb.prior().end) == ("Febrero 2024", date(2024, 2, 29), date(2023, 2, 28))
    with pytest.raises(ValueError, match="abarca dos ejercicios"):
        periods.date_range(july, date(2025, 6, 1), date(2025, 7, 31))


def test_a_fiscal_year_starting_in_july(tmp_path):
    from tests.reports_books import HEADER

    journal = HEADER + (
        "01/07/2024;1;5720001;Capital;5.000,00;;normal\n"
        "01/07/2024;1;1000000;Capital;;5.000,00;normal\n"
        "15/12/2024;2;5720001;Venta;1.000,00;;normal\n"
        "15/12/2024;2;7000000;Venta;;1.000,00;normal\n"
        "20/06/2025;3;6290000;Gastos;300,00;;normal\n"
        "20/06/2025;3;5720001;Gastos;;300,00;normal\n"
    )
    snap = load_company(
        tmp_path, "julio", journal, {"modelo_pgc": "abreviado", "inicio_ejercicio": "01-07", "ejercicios": [2024]}
    )
    calendar = periods.FiscalCalendar.of(snap.manifest)
    pnl = profit_and_loss(snap, periods.fiscal_year(calendar, 2024))
    assert (pnl.label, pnl.amount("40100"), pnl.amount("40700"), pnl.amount("49500")) == (
        "Ejercicio 2024/25",
        D("1000.00"),
        D("-300.00"),
        D("700.00"),
    )
    assert profit_and_loss(snap, periods.quarter(calendar, 2024, 2)).amount("49500") == D("1000.00")  # Oct–Dec
    bal = balance_sheet(snap, date(2025, 6, 30))
    assert (bal.check, bal.amount("12700"), bal.amount("21700"), bal.prior_end) == (
        D("0.00"),
        D("5700.00"),
        D("700.00"),
        None,  # the prior year-end, 30/06/2024, is before the books: no comparison column
    )
    assert bal.prior_label is None
    months = monthly_pnl(snap, 2024)
    assert months.month_start.iloc[0] == date(2024, 7, 1) and months.month_start.iloc[-1] == date(2025, 6, 1)


# Twelve expense accounts in 2025 (two tied at 500,00), a 609 rappel with a credit balance, a sale, and a
# regularización that the ranking must ignore; 2024 moved only 600 and 621.
EXPENSES = HEADER + (
    "01/03/2024;1;6000000;Compra;1.000,00;;normal\n"
    "01/03/2024;1;5720001;Compra;;1.000,00;normal\n"
    "02/03/2024;2;6210000;Alquiler;300,00;;normal\n"
    "02/03/2024;2;5720001;Alquiler;;300,00;normal\n"
    "31/12/2024;3;1290000;Regularización;1.300,00;;regularizacion\n"
    "31/12/2024;3;6000000;Regularización;;1.000,00;regularizacion\n"
    "31/12/2024;3;6210000;Regularización;;300,00;regularizacion\n"
    "10/01/2025;1;5720001;Venta;10.000,00;;normal\n"
    "10/01/2025;1;7000000;Venta;;10.000,00;normal\n"
    "15/01/2025;2;6000000;Compra;5.000,00;;normal\n"
    "15/01/2025;2;6210000;Alquiler;1.500,00;;normal\n"
    "15/01/2025;2;6220000;Reparaciones;900,00;;normal\n"
    "15/01/2025;2;6230000;Asesoría;800,00;;normal\n"
    "15/01/2025;2;6240000;Transportes;700,00;;normal\n"
    "15/01/2025;2;6250000;Seguros;600,00;;normal\n"
    "15/01/2025;2;6270000;Publicidad;500,00;;normal\n"
    "15/01/2025;2;6260000;Bancos;500,00;;normal\n"
    "15/01/2025;2;6280000;Suministros;300,00;;normal\n"
    "15/01/2025;2;6290000;Otros servicios;250,00;;normal\n"
    "15/01/2025;2;6310000;Otros tributos;200,00;;normal\n"
    "15/01/2025;2;6400000;Sueldos;150,00;;normal\n"
    "15/01/2025;2;5720001;Pagos;;11.400,00;normal\n"
    "20/02/2025;3;5720001;Abono alquiler y rappel;400,00;;normal\n"
    "20/02/2025;3;6210000;Abono alquiler;;300,00;normal\n"
    "20/02/2025;3;6090000;Rappel;;100,00;normal\n"
    "31/12/2025;4;1290000;Regularización;5.000,00;;regularizacion\n"
    "31/12/2025;4;6000000;Regularización;;5.000,00;regularizacion\n"
)


def test_top_expenses_ranks_group_6_accounts_with_the_prior_year_beside(tmp_path):
    snap = load_company(
        tmp_path, "gastos", EXPENSES, {"nombre": "Gastos SL", "modelo_pgc": "pymes", "ejercicios": [2024, 2025]}
    )
    top = top_expenses(snap, periods.fiscal_year(CAL, 2025))
    # 621: 1.500 − 300 refund; 626 and 627 tie at 500 (code order); 631 (200) and 640 (150) are 11th and 12th;
    # 609 (credit 100) is no expense; 600's regularización and 700's sale are left out.
    assert top[["account", "amount", "prior_amount"]].values.tolist() == [
        ["6000000", D("5000.00"), D("1000.00")],
        ["6210000", D("1200.00"), D("300.00")],
        ["6220000", D("900.00"), D("0.00")],
        ["6230000", D("800.00"), D("0.00")],
        ["6240000", D("700.00"), D("0.00")],
        ["6250000", D("600.00"), D("0.00")],
        ["6260000", D("500.00"), D("0.00")],
        ["6270000", D("500.00"), D("0.00")],
        ["6280000", D("300.00"), D("0.00")],
        ["6290000", D("250.00"), D("0.00")],
    ]
    assert all(top.name)  # names from the chart
    first = top_expenses(snap, periods.fiscal_year(CAL, 2024))  # nothing before 2024: no comparison, not zeros
    assert first[["account", "amount", "prior_amount"]].values.tolist() == [
        ["6000000", D("1000.00"), None],
        ["6210000", D("300.00"), None],
    ]
    february = top_expenses(snap, periods.month(CAL, 2025, 2), limit=3)  # only the refund and the rappel: no expense
    assert february.empty and list(february.columns) == ["account", "name", "amount", "prior_amount"]
    q1 = top_expenses(snap, periods.quarter(CAL, 2025, 1), limit=2, compare=False)
    assert q1[["account", "amount", "prior_amount"]].values.tolist() == [
        ["6000000", D("5000.00"), None],
        ["6210000", D("1200.00"), None],
    ]
