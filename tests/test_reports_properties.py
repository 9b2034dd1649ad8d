"""Property tests on random balanced journals loaded for real: the balance squares, the P&L result equals line
21700 before closing and the amount booked to 129, and the trial balance totals match the journal."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports import periods
from reports.statements import balance_sheet, profit_and_loss
from reports.trial_balance import trial_balance
from tests.reports_books import HEADER, load_company

# Accounts touching every sign rule: two-sided banks and partner accounts, contra accounts, both P&L sides.
ACCOUNTS = (
    "1000000", "1130000", "1700000", "2130000", "2813000", "3000000", "4000001", "4300001", "4300002", "4720000",
    "4770000", "4900000", "5200000", "5510001", "5523001", "5720001", "5720002", "6000000", "6210000", "6400000",
    "6620000", "6810000", "7000000", "7050000", "7690000",
)  # fmt: skip
CAL = periods.FiscalCalendar()
ZERO = Decimal("0.00")

amounts = st.integers(min_value=1, max_value=5_000_000).map(lambda cents: Decimal(cents).scaleb(-2))
entry = st.tuples(
    st.integers(min_value=0, max_value=729),  # day offset from 01/01/2024
    st.lists(st.tuples(st.sampled_from(ACCOUNTS), amounts), min_size=1, max_size=3),  # debits
    st.sampled_from(ACCOUNTS),  # the balancing credit
)


def _fmt(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def build(entries, model):
    """The journal text (with the 2024 regularización, cierre and 2025 apertura computed) and its lines."""
    lines = []  # (date, fiscal year, entry, account, debit, credit, type)
    numbers = defaultdict(int)

    def post(day, moves, kind):
        fiscal_year = day.year
        numbers[fiscal_year] += 1
        for account, debit, credit in moves:
            lines.append((day, fiscal_year, numbers[fiscal_year], account, debit, credit, kind))

    start = date(2024, 1, 1)
    dated = sorted(
        ((start + timedelta(days=offset), debits, credit) for offset, debits, credit in entries), key=lambda e: e[0]
    )
    for stage in (2024, 2025):
        if stage == 2025:
            balances = defaultdict(lambda: ZERO)
            for _day, _, _, account, debit, credit, _ in lines:
                balances[account] += debit - credit
            last = date(2024, 12, 31)
            pl = {a: b for a, b in balances.items() if a[0] in "67" and b != 0}
            result = -sum(pl.values(), ZERO)
            reg = [(a, ZERO if b > 0 else -b, b if b > 0 else ZERO) for a, b in pl.items()]
            if reg:
                reg.append(("1290000", ZERO if result > 0 else -result, result if result > 0 else ZERO))
                post(last, reg, "regularizacion")
                balances["1290000"] -= result
            closing = {a: b for a, b in balances.items() if a[0] in "12345" and b != 0}
            if closing:
                post(last, [(a, ZERO if b > 0 else -b, b if b > 0 else ZERO) for a, b in closing.items()], "cierre")
                post(
                    date(2025, 1, 1),
                    [(a, b if b > 0 else ZERO, ZERO if b > 0 else -b) for a, b in closing.items()],
                    "apertura",
                )
            if result != 0:  # the 2024 result to reserves, so that 129 holds only 2025's result afterwards
                to_129 = ("1290000", result, ZERO) if result > 0 else ("1290000", ZERO, -result)
                to_113 = ("1130000", ZERO, result) if result > 0 else ("1130000", -result, ZERO)
                post(date(2025, 1, 2), [to_129, to_113], "normal")
        for day, debits, credit in dated:
            if day.year == stage:
                total = sum((amount for _, amount in debits), ZERO)
                post(day, [(a, amount, ZERO) for a, amount in debits] + [(credit, ZERO, total)], "normal")
    text = HEADER + "".join(
        f"{d:%d/%m/%Y};{n};{a};Apunte;{_fmt(de) if de else ''};{_fmt(cr) if cr else ''};{k}\n"
        for d, _, n, a, de, cr, k in sorted(lines, key=lambda r: (r[0], r[1], r[2]))
    )
    return text, lines


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(entry, min_size=1, max_size=25),
    model=st.sampled_from(["pymes", "abreviado"]),
    probe=st.integers(min_value=0, max_value=729),
)
def test_random_books_square_and_agree(entries, model, probe):
    text, lines = build(entries, model)
    with tempfile.TemporaryDirectory() as tmp:
        snap = load_company(
            Path(tmp), "azar", text, {"nombre": "Azar SL", "modelo_pgc": model, "ejercicios": [2024, 2025]}
        )
        probe_day = date(2024, 1, 1) + timedelta(days=probe)
        for as_of in (date(2024, 12, 31), date(2025, 12, 31), probe_day):
            bal = balance_sheet(snap, as_of)
            assert bal.check == 0 and bal.balanced, (as_of, bal.check, bal.prior_check)
            assert bal.unmapped == ()
            # Trial balance: totals agree and equal the journal's lines of the fiscal year up to the date
            # (the cierre of that very day left out).
            trial = trial_balance(snap, as_of)
            expected = sum(
                (
                    debit
                    for day, fy, _, _, debit, _, kind in lines
                    if fy == as_of.year and day <= as_of and not (kind == "cierre" and day == as_of)
                ),
                ZERO,
            )
            assert trial.total_debit == trial.total_credit == expected
        for year in (2024, 2025):
            result = profit_and_loss(snap, periods.fiscal_year(CAL, year), compare=False).amount("49500")
            assert balance_sheet(snap, date(year, 12, 31), compare=False).amount("21700") == result
        booked = sum((cr - de for _, _, _, a, de, cr, k in lines if a == "1290000" and k == "regularizacion"), ZERO)
        assert profit_and_loss(snap, periods.fiscal_year(CAL, 2024), compare=False).amount("49500") == booked
