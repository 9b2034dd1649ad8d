"""The statement layouts on their own: every PGC account maps to exactly one line, no overlaps, sound subtotals."""

from __future__ import annotations

import csv
from decimal import Decimal as D
from pathlib import Path

import pytest

from reports.layouts import all_layouts, check_account, check_chart, contribution, layout

CHART = Path(__file__).resolve().parents[1] / "etl" / "pgc_accounts.csv"


def chart_codes() -> list[str]:
    with CHART.open(encoding="utf-8") as fh:
        return [row["code"] for row in csv.DictReader(fh)]


def postable_accounts() -> list[str]:
    """Every leaf of the standard chart, and every 4-digit sub-account a firm could open under a 3-digit one."""
    codes = chart_codes()
    leaves = [c for c in codes if not any(o != c and o.startswith(c) for o in codes)]
    four = [c + str(d) for c in codes if len(c) == 3 for d in range(10)]
    return sorted(set(leaves + four) - {c for c in codes if len(c) < 3})


def test_four_statements_are_defined():
    assert {(x.kind, x.model) for x in all_layouts().values()} == {
        ("balance", "pymes"),
        ("balance", "abreviado"),
        ("pyg", "pymes"),
        ("pyg", "abreviado"),
    }


def test_every_account_of_the_pgc_chart_maps_to_exactly_one_line_per_statement():
    accounts = postable_accounts()
    assert len(accounts) > 4000
    assert check_chart(accounts) == []


@pytest.mark.parametrize("statement", ["BAL_ABR", "BAL_PYMES", "PYG_ABR", "PYG_PYMES"])
def test_no_prefix_overlaps_another_of_the_same_statement(statement):
    found = all_layouts()[statement]
    prefixes = {}
    for rule in found.rules:
        prefixes.setdefault(rule.prefix, set()).add(rule.sign_rule)
    for prefix, signs in prefixes.items():
        assert len(signs) == 1 or signs == {"D+", "C+"}, (prefix, signs)
        for other in prefixes:
            if other != prefix and not other.startswith("=") and not prefix.startswith("="):
                assert not prefix.startswith(other), f"{statement}: {prefix} overlaps {other}"


def test_pnl_covers_only_groups_6_and_7_and_balance_groups_1_to_7():
    pyg, bal = layout("pyg", "pymes"), layout("balance", "abreviado")
    assert check_account(pyg, "5720001") is None and pyg.lines_of_account("5720001") == []
    assert pyg.lines_of_account("7000001") == ["40100"]
    assert bal.lines_of_account("6000000") == ["21700"]  # interim result of groups 6/7
    assert bal.lines_of_account("1290000") == ["21700"]


def test_two_sided_accounts_land_on_the_side_of_their_balance():
    bal = layout("balance", "pymes")
    assert bal.lines_of_account("5720001", D("100.00")) == ["12700"]
    assert bal.lines_of_account("5720001", D("-100.00")) == ["32320"]
    assert bal.lines_of_account("5510001", D("5.00")) == ["12500"]
    assert bal.lines_of_account("5510001", D("-5.00")) == ["32390"]
    assert bal.contributions("5523001", D("-7.00")) == [("12400", D("0.00")), ("32400", D("7.00"))]


def test_contra_accounts_subtract_by_their_own_sign():
    bal = layout("balance", "abreviado")
    amounts, unmapped = bal.evaluate([("2130000", D("1000.00")), ("2813000", D("-250.00")), ("1000000", D("-750.00"))])
    assert (amounts["11200"], amounts["10000"], amounts["30000"], unmapped) == (
        D("750.00"),
        D("750.00"),
        D("750.00"),
        [],
    )


def test_sign_rules():
    assert contribution("D", D("-3")) == D("-3")
    assert contribution("C", D("-3")) == D("3")
    assert contribution("PL", D("4")) == D("-4")
    assert contribution("D+", D("-3")) == 0 and contribution("D+", D("3")) == D("3")
    assert contribution("C+", D("3")) == 0 and contribution("C+", D("-3")) == D("3")


@pytest.mark.parametrize("statement", ["BAL_ABR", "BAL_PYMES", "PYG_ABR", "PYG_PYMES"])
def test_subtotals_form_a_tree_with_the_expected_tops(statement):
    found = all_layouts()[statement]
    tops = [line.code for line in found.lines if line.parent is None]
    expected = ["10000", "30000"] if found.kind == "balance" else ["49500"]
    assert tops == expected
    assert found.line("49500" if found.kind == "pyg" else "21700").label in (
        "D) RESULTADO DEL EJERCICIO",
        "VII. Resultado del ejercicio",
    )
    codes = found.codes
    assert len(codes) == len(set(codes)) and all(len(c) == 5 and c.isdigit() for c in codes)


def test_groups_8_and_9_sit_in_equity_until_closed_so_the_balance_still_squares():
    bal = layout("balance", "abreviado")
    amounts, unmapped = bal.evaluate([("8000000", D("10.00")), ("9400000", D("-30.00")), ("5720001", D("20.00"))])
    assert (amounts["22000"], amounts["23000"], amounts["10000"], amounts["30000"]) == (
        D("-10.00"),
        D("30.00"),
        D("20.00"),
        D("20.00"),
    )
    assert unmapped == []
    assert layout("pyg", "abreviado").lines_of_account("8000000") == []
