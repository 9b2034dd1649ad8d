"""Ledger cards: search, opening balance of a range starting mid-year, running balance, paging, whole entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import duckdb
import pytest

from etl import service
from etl.demo import generate
from etl.store import Store
from portal.settings import load_settings
from reports.ledger import entry_lines, find_accounts, ledger, line_count, opening_balance, whole_ledger
from tests.reports_books import HEADER, JOURNAL, load_company


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    root = tmp_path_factory.mktemp("hand")
    return load_company(root, "hand", JOURNAL, {"nombre": "Mano SL", "modelo_pgc": "pymes", "ejercicios": [2024, 2025]})


def test_find_accounts_by_code_and_by_name(snap):
    assert find_accounts(snap, "572").account.tolist() == ["5720001", "5720002"]
    by_name = find_accounts(snap, "AMORTIZACION")  # case and accents ignored
    assert set(by_name.account) == {"2813000", "6810000"}
    assert find_accounts(snap, "no existe").empty


def test_card_starting_mid_year_carries_the_years_opening_balance(snap):
    card = ledger(snap, "5720001", date(2025, 3, 1), date(2025, 6, 30))
    assert card.opening == D("6420.00")  # apertura 4.000 + collection 2.420 on 20/02
    rows = card.rows[["date", "entry", "debit", "credit", "balance"]].values.tolist()
    assert rows == [
        [date(2025, 5, 20), 6, D("0.00"), D("1500.00"), D("4920.00")],
        [date(2025, 6, 10), 7, D("0.00"), D("500.00"), D("4420.00")],
        [date(2025, 6, 10), 7, D("300.00"), D("0.00"), D("4720.00")],
        [date(2025, 6, 30), 8, D("0.00"), D("50.00"), D("4670.00")],
    ]
    assert (card.total_debit, card.total_credit, card.closing, card.line_count) == (
        D("300.00"),
        D("2050.00"),
        D("4670.00"),
        4,
    )


def test_card_from_the_first_day_of_the_year_opens_with_the_apertura(snap):
    # 2024's cierre cancelled the bank's 4.000 (10.000 − 6.000); the 2025 apertura re-opens it on 01/01: it is the
    # opening balance, not a movement of the card.
    card = ledger(snap, "5720001", date(2025, 1, 1), date(2025, 2, 28))
    assert card.opening == card.apertura == D("4000.00")
    assert card.rows[["date", "entry", "debit", "credit", "balance", "entry_type"]].values.tolist() == [
        [date(2025, 2, 20), 3, D("2420.00"), D("0.00"), D("6420.00"), "normal"],
    ]
    assert (card.total_debit, card.total_credit, card.closing, card.line_count) == (
        D("2420.00"),
        D("0.00"),
        D("6420.00"),  # unchanged: 4.000 + 2.420
        1,
    )
    whole = whole_ledger(snap, "5720001", date(2025, 1, 1), date(2025, 2, 28))
    assert (whole.opening, whole.apertura, whole.total_debit, whole.closing, whole.rows.values.tolist()) == (
        card.opening,
        card.apertura,
        card.total_debit,
        card.closing,
        card.rows.values.tolist(),
    )
    assert opening_balance(snap, "5720001", date(2025, 1, 1)) == D("4000.00")
    assert line_count(snap, "5720001", date(2025, 1, 1), date(2025, 2, 28)) == 1
    # a credit-side account: 1000000 (capital) opens at −10.000, and a range of only the first day has no lines
    capital = ledger(snap, "1000000", date(2025, 1, 1), date(2025, 1, 1))
    assert (capital.opening, capital.total_debit, capital.total_credit, capital.closing) == (
        D("-10000.00"),
        D("0.00"),
        D("0.00"),
        D("-10000.00"),
    )
    assert capital.rows.empty and capital.line_count == 0


def test_only_a_range_starting_on_the_first_day_carries_the_apertura(snap):
    # From 31/12/2024 the apertura is a movement again (the cierre before it too): same closing balance.
    card = ledger(snap, "5720001", date(2024, 12, 31), date(2025, 2, 28))
    assert (card.opening, card.apertura) == (D("4000.00"), None)  # 10.000 − 6.000 before the cierre
    assert card.rows.entry_type.tolist() == ["cierre", "apertura", "normal"]
    assert (card.total_debit, card.total_credit, card.closing) == (D("6420.00"), D("4000.00"), D("6420.00"))
    # the first fiscal year has no apertura: its first day carries nothing and lists the capital contribution
    first = ledger(snap, "5720001", date(2024, 1, 1), date(2024, 1, 31))
    assert (first.opening, first.total_debit, first.line_count) == (D("0.00"), D("10000.00"), 2)
    # a range across the year end keeps the 2025 apertura as a movement
    across = ledger(snap, "5720001", date(2024, 1, 1), date(2025, 12, 31))
    assert "apertura" in across.rows.entry_type.tolist() and across.closing == D("4670.00")


def test_pnl_account_opening_counts_only_the_same_fiscal_year(snap):
    card = ledger(snap, "6000000", date(2025, 7, 1), date(2025, 12, 31))
    assert card.opening == D("0.00")  # 2024's purchases belong to 2024
    sales = ledger(snap, "7050000", date(2025, 6, 1), date(2025, 12, 31))
    assert (sales.opening, sales.line_count, sales.closing) == (D("-3000.00"), 0, D("-3000.00"))


def test_paging_keeps_the_running_balance_of_the_whole_range(snap):
    first = ledger(snap, "5720001", date(2024, 1, 1), date(2025, 12, 31), page=1, page_size=3)
    second = ledger(snap, "5720001", date(2024, 1, 1), date(2025, 12, 31), page=2, page_size=3)
    assert (first.line_count, first.pages) == (9, 3)
    assert first.rows.balance.tolist() == [D("10000.00"), D("4000.00"), D("0.00")]  # capital, machine, cierre
    assert second.rows.balance.tolist() == [D("4000.00"), D("6420.00"), D("4920.00")]
    assert second.closing == D("4670.00")


def test_range_with_loose_days_at_both_ends(snap):
    card = ledger(snap, "5720001", date(2025, 2, 15), date(2025, 6, 10), page=2, page_size=2)
    assert card.opening == D("4000.00")  # only the apertura before 15/02
    assert (card.line_count, card.pages, card.total_debit, card.total_credit) == (4, 2, D("2720.00"), D("2000.00"))
    assert card.rows.balance.tolist() == [D("4420.00"), D("4720.00")]
    assert card.closing == D("4720.00")


def test_entry_lines_show_the_whole_asiento(snap):
    lines = entry_lines(snap, 2025, 7)
    assert lines[["account", "debit", "credit"]].values.tolist() == [
        ["5510001", D("500.00"), D("0.00")],
        ["5720001", D("0.00"), D("500.00")],
        ["5720001", D("300.00"), D("0.00")],
        ["5510002", D("0.00"), D("300.00")],
    ]
    assert lines.name.iloc[0]


def test_bad_arguments_are_refused_in_spanish(snap):
    with pytest.raises(ValueError, match="anterior a la inicial"):
        ledger(snap, "5720001", date(2025, 3, 1), date(2025, 2, 1))
    with pytest.raises(ValueError, match="Página no válida"):
        ledger(snap, "5720001", date(2025, 1, 1), date(2025, 2, 1), page=0)


def test_whole_ledger_has_every_line_of_the_range_on_one_page(snap):
    card = whole_ledger(snap, "5720001", date(2025, 2, 15), date(2025, 6, 30))
    assert card.opening == D("4000.00")  # only the apertura before 15/02
    assert card.rows[["date", "entry", "debit", "credit", "balance"]].values.tolist() == [
        [date(2025, 2, 20), 3, D("2420.00"), D("0.00"), D("6420.00")],
        [date(2025, 5, 20), 6, D("0.00"), D("1500.00"), D("4920.00")],
        [date(2025, 6, 10), 7, D("0.00"), D("500.00"), D("4420.00")],
        [date(2025, 6, 10), 7, D("300.00"), D("0.00"), D("4720.00")],
        [date(2025, 6, 30), 8, D("0.00"), D("50.00"), D("4670.00")],
    ]
    assert (card.total_debit, card.total_credit, card.closing, card.line_count, card.pages) == (
        D("2720.00"),
        D("2050.00"),
        D("4670.00"),
        5,
        1,
    )
    paged = [ledger(snap, "5720001", date(2024, 1, 1), date(2025, 12, 31), page=p, page_size=4) for p in (1, 2, 3)]
    whole = whole_ledger(snap, "5720001", date(2024, 1, 1), date(2025, 12, 31))
    assert whole.rows.values.tolist() == [row for card in paged for row in card.rows.values.tolist()]
    assert (whole.line_count, whole.closing) == (9, paged[0].closing)
    empty = whole_ledger(snap, "7050000", date(2025, 6, 1), date(2025, 12, 31))
    assert empty.rows.empty and (empty.opening, empty.closing) == (D("-3000.00"), D("-3000.00"))
    with pytest.raises(ValueError, match="anterior a la inicial"):
        whole_ledger(snap, "5720001", date(2025, 3, 1), date(2025, 2, 1))


@pytest.mark.parametrize("start", [date(2024, 1, 1), date(2024, 3, 15), date(2025, 1, 1), date(2025, 2, 20)])
def test_every_page_size_pages_through_exactly_the_whole_range(snap, start):
    end = date(2025, 6, 10)
    whole = whole_ledger(snap, "5720001", start, end).rows.values.tolist()
    for size in range(1, 11):
        count = ledger(snap, "5720001", start, end, page=1, page_size=size).pages
        pages = [ledger(snap, "5720001", start, end, page=p, page_size=size) for p in range(1, count + 1)]
        assert [row for card in pages for row in card.rows.values.tolist()] == whole, size
        assert ledger(snap, "5720001", start, end, page=count + 1, page_size=size).rows.empty


def test_fiscal_year_starting_mid_month_carries_only_that_years_days(tmp_path):
    journal = HEADER + (
        "10/07/2024;1;6290000;Gasto del ejercicio anterior;100,00;;normal\n"
        "10/07/2024;1;5720001;Gasto del ejercicio anterior;;100,00;normal\n"
        "20/07/2024;1;6290000;Gasto;200,00;;normal\n"
        "20/07/2024;1;5720001;Gasto;;200,00;normal\n"
        "25/07/2024;2;6290000;Gasto;40,00;;normal\n"
        "25/07/2024;2;5720001;Gasto;;40,00;normal\n"
    )
    snap = load_company(tmp_path, "quince", journal, {"inicio_ejercicio": "15-07", "ejercicios": [2023, 2024]})
    card = ledger(snap, "6290000", date(2024, 7, 22), date(2024, 7, 31))
    assert card.opening == D("200.00")  # 10/07 belongs to the fiscal year 2023/24, which ended on 14/07
    assert card.rows.balance.tolist() == [D("240.00")] and card.line_count == 1
    bank = ledger(snap, "5720001", date(2024, 7, 22), date(2024, 7, 31))
    assert bank.opening == D("-300.00")  # balance accounts carry everything before
    assert whole_ledger(snap, "6290000", date(2024, 7, 22), date(2024, 7, 31)).opening == D("200.00")


def test_fiscal_year_starting_mid_month_carries_its_apertura_on_its_first_day(tmp_path):
    journal = HEADER + (
        "01/07/2024;9;5720001;Cobro;50,00;;normal\n"
        "01/07/2024;9;4300001;Cobro;;50,00;normal\n"
        "14/07/2024;10;1000000;Cierre;800,00;;cierre\n"
        "14/07/2024;10;5720001;Cierre;;800,00;cierre\n"
        "15/07/2024;1;5720001;Apertura;800,00;;apertura\n"
        "15/07/2024;1;1000000;Apertura;;800,00;apertura\n"
        "15/07/2024;2;6290000;Gasto;30,00;;normal\n"
        "15/07/2024;2;5720001;Gasto;;30,00;normal\n"
    )
    snap = load_company(tmp_path, "julio", journal, {"inicio_ejercicio": "15-07", "ejercicios": [2023, 2024]})
    card = ledger(snap, "5720001", date(2024, 7, 15), date(2024, 7, 31))
    # before 15/07 the bank's lines add to 50 − 800 (the cierre) = −750; the apertura's 800 dated 15/07 makes the
    # opening 50, and the expense of the same day stays a movement
    assert (card.opening, card.total_debit, card.total_credit, card.closing) == (
        D("50.00"),
        D("0.00"),
        D("30.00"),
        D("20.00"),
    )
    assert card.rows.entry_type.tolist() == ["normal"] and card.rows.balance.tolist() == [D("20.00")]
    assert whole_ledger(snap, "5720001", date(2024, 7, 15), date(2024, 7, 31)).rows.values.tolist() == (
        card.rows.values.tolist()
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo firm's levante (2023 to 15/03/2026, closed every year), loaded for real."""
    root = tmp_path_factory.mktemp("demo-ledger")
    settings = load_settings({"PORTAL_DATA_DIR": str(root / "data"), "PORTAL_SOURCE_DIR": str(root / "sources")})
    generate(settings.sources, until=date(2026, 3, 15))
    [result] = service.load_all(settings, companies=["levante"])
    assert result.outcome == "published", result.message
    return Store(settings.stores).current("levante")


def test_demo_bank_account_opens_the_year_with_its_apertura(demo):
    """Issue 16: the Mayor of levante's bank on 01/01/2026 showed «Saldo inicial 0,00 €» though the account held
    376.803,37 € (the apertura counted as a movement)."""
    account, start, end = "5720001", date(2026, 1, 1), date(2026, 3, 15)
    path = str(demo.file("journal.parquet"))

    def total(where: str, *values) -> tuple[D, D]:
        query = "SELECT coalesce(sum(debit), 0), coalesce(sum(credit), 0) FROM read_parquet(?) WHERE account = ? AND "
        return duckdb.execute(query + where, [path, account, *values]).fetchone()

    apertura_debit, apertura_credit = total("date = ? AND entry_type = 'apertura'", start)
    moved_debit, moved_credit = total("date BETWEEN ? AND ? AND entry_type <> 'apertura'", start, end)
    all_debit, all_credit = total("date <= ?", end)  # every line up to the end
    apertura = apertura_debit - apertura_credit
    assert apertura > 0
    card = ledger(demo, account, start, end)
    assert card.opening == card.apertura == apertura  # 376.803,37 € with the demo's seed
    assert (card.total_debit, card.total_credit) == (moved_debit, moved_credit)
    assert card.closing == card.opening + moved_debit - moved_credit == all_debit - all_credit
    assert "apertura" not in set(card.rows.entry_type)
    before = ledger(demo, account, date(2025, 12, 31), end)  # from the day before: same closing balance
    assert before.closing == card.closing and "apertura" in set(before.rows.entry_type)
    whole = whole_ledger(demo, account, start, end)
    assert (whole.opening, whole.total_debit, whole.total_credit, whole.closing, whole.line_count) == (
        card.opening,
        card.total_debit,
        card.total_credit,
        card.closing,
        card.line_count,
    )
