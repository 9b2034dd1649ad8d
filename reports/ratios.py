"""Financial ratios (domain.md §2) as data — formula, explanation, healthy range — computed from the statements.

``layouts/ratios.csv`` defines each ratio: ``expression`` is arithmetic over statement lines, ``Bnnnnn`` a line of
the balance sheet at the period's end, ``Pnnnnn`` a P&L line of the period and ``Annnnn`` that P&L line annualised
(× 12 / months, for ROA, ROE, rotations and average periods of a shorter period). A division by zero, or a
missing figure, makes the ratio undefined: ``None``, never 0 or infinity.

``ratios()`` columns: ``code``, ``name``, ``unit`` ('ratio', 'eur', 'days'), ``value`` (Decimal or None),
``formula``, ``explanation``, ``range_text``, ``status`` ('bueno', 'aviso', 'riesgo', 'sin_referencia',
'indefinido'). ``ratio_trend()`` and ``ratio_trend_by_year()`` columns: ``period_end``, ``label``, ``code``,
``value`` (None when undefined).
"""

from __future__ import annotations

import ast
import csv
import operator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

import pandas as pd

from etl.store import Snapshot
from portal.fmt import date_es, number
from reports import periods
from reports.layouts import HERE
from reports.statements import Statement, balance_sheet, calendar_of, data_range, profit_and_loss

PLACES = {"ratio": Decimal("0.0001"), "eur": Decimal("0.01"), "days": Decimal("0.1")}
COLUMNS = ["code", "name", "unit", "value", "formula", "explanation", "range_text", "status"]
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.USub, ast.Constant, ast.Load, *_OPS)


@dataclass(frozen=True)
class RatioDef:
    """One ratio's definition, as written in ``ratios.csv``."""

    code: str
    name: str
    unit: str
    expression: str
    formula: str
    explanation: str
    ok_min: Decimal | None
    ok_max: Decimal | None
    warn_min: Decimal | None
    warn_max: Decimal | None

    def status(self, value: Decimal | None) -> str:
        """Traffic light of a value: 'bueno' in the healthy range, 'aviso' in the tolerable one, else 'riesgo'."""
        if value is None:
            return "indefinido"
        if self.ok_min is None and self.ok_max is None:
            return "sin_referencia"
        if _within(value, self.ok_min, self.ok_max):
            return "bueno"
        if (self.warn_min is not None or self.warn_max is not None) and _within(value, self.warn_min, self.warn_max):
            return "aviso"
        return "riesgo"

    @property
    def range_text(self) -> str:
        """The healthy range in Spanish ('entre 1,50 y 2,00', '≥ 0,05', '—')."""
        low, high = self.ok_min, self.ok_max
        places = 0 if self.unit == "days" else 2
        if low is not None and high is not None:
            return f"entre {number(low, places)} y {number(high, places)}"
        if low is not None:
            return f"≥ {number(low, places)}"
        if high is not None:
            return f"≤ {number(high, places)}"
        return "depende del sector"


def _within(value: Decimal, low: Decimal | None, high: Decimal | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _bound(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


@cache
def definitions() -> tuple[RatioDef, ...]:
    """Every ratio, read once from ``layouts/ratios.csv`` (expressions parsed and checked on load)."""
    with (HERE / "ratios.csv").open(encoding="utf-8", newline="") as fh:
        found = tuple(
            RatioDef(
                row["code"],
                row["name"],
                row["unit"],
                row["expression"],
                row["formula"],
                row["explanation"],
                _bound(row["ok_min"]),
                _bound(row["ok_max"]),
                _bound(row["warn_min"]),
                _bound(row["warn_max"]),
            )
            for row in csv.DictReader(fh)
        )
    for definition in found:
        _variables(ast.parse(definition.expression, mode="eval"))
        if definition.unit not in PLACES:
            raise ValueError(f"Unidad desconocida en el ratio {definition.code}: {definition.unit}")
    return found


def _variables(tree: ast.AST) -> set[str]:
    """The line variables of an expression; refuses anything but numbers, names and + − × ÷."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id[:1] not in "BPA" or not node.id[1:].isdigit():
                raise ValueError(f"Variable no válida en un ratio: {node.id}")
            names.add(node.id)
        elif not isinstance(node, _ALLOWED):
            raise ValueError(f"Expresión no permitida en un ratio: {ast.dump(node)}")
    return names


def _evaluate(node: ast.AST, values: dict[str, Decimal | None]) -> Decimal | None:
    """Exact Decimal arithmetic; None propagates and x / 0 is None (undefined)."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, values)
    if isinstance(node, ast.Constant):
        return Decimal(str(node.value))
    if isinstance(node, ast.Name):
        return values.get(node.id)
    if isinstance(node, ast.UnaryOp):
        inner = _evaluate(node.operand, values)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, values), _evaluate(node.right, values)
        if left is None or right is None or (isinstance(node.op, ast.Div) and right == 0):
            return None
        return _OPS[type(node.op)](left, right)
    raise ValueError(f"Expresión no permitida: {ast.dump(node)}")


def compute(balance: Statement, pnl: Statement, months: int = 12) -> pd.DataFrame:
    """Every ratio from a balance sheet (at the period's end) and the period's P&L."""
    factor = Decimal(12) / Decimal(max(1, months))
    values: dict[str, Decimal | None] = {}
    for row in balance.lines.itertuples():
        values[f"B{row.line_code}"] = row.amount
    for row in pnl.lines.itertuples():
        values[f"P{row.line_code}"] = row.amount
        values[f"A{row.line_code}"] = row.amount * factor
    rows = []
    for definition in definitions():
        raw = _evaluate(ast.parse(definition.expression, mode="eval"), values)
        value = None if raw is None else raw.quantize(PLACES[definition.unit], rounding=ROUND_HALF_UP)
        rows.append(
            [
                definition.code,
                definition.name,
                definition.unit,
                value,
                definition.formula,
                definition.explanation,
                definition.range_text,
                definition.status(value),
            ]
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def ratios(snapshot: Snapshot, period: periods.Period) -> pd.DataFrame:
    """The ratios of a period: balance sheet at its last day, P&L of the period (flows annualised)."""
    pnl = profit_and_loss(snapshot, period, compare=False)
    balance = balance_sheet(snapshot, period.end, compare=False)
    return compute(balance, pnl, period.months)


def ratios_of_year(snapshot: Snapshot, fiscal_year: int, *, until: date | None = None) -> pd.DataFrame:
    """Ratios of a fiscal year (up to ``until``, e.g. the last date with data, when the year is still open)."""
    calendar = calendar_of(snapshot)
    end = calendar.end(fiscal_year)
    if until is not None and until < end:
        return ratios(snapshot, periods.year_to_date(calendar, until))
    return ratios(snapshot, periods.fiscal_year(calendar, fiscal_year))


def ratio_trend(snapshot: Snapshot, fiscal_year: int, *, until: date | None = None) -> pd.DataFrame:
    """Each ratio at every month end of a fiscal year (year to date, flows annualised), for trend charts."""
    calendar = calendar_of(snapshot)
    start = calendar.start(fiscal_year)
    last = calendar.end(fiscal_year) if until is None else min(until, calendar.end(fiscal_year))
    rows = []
    step = 1
    while True:
        end = periods.add_months(start, step) - timedelta(days=1)
        if end > last:
            break
        period = periods.year_to_date(calendar, end)
        for item in ratios(snapshot, period).itertuples():
            rows.append([end, periods.month_label(end.year, end.month), item.code, item.value])
        step += 1
    return pd.DataFrame(rows, columns=["period_end", "label", "code", "value"])


def ratio_trend_by_year(snapshot: Snapshot, *, until: date | None = None) -> pd.DataFrame:
    """Each ratio at every fiscal year-end with data (balance at the year-end, the year's flows), for trend charts.

    The last year, when still open at ``until`` (default: the snapshot's last date), is taken up to that day with
    its flows annualised, as on the page. Years before the first date with data are left out; an undefined ratio
    stays None.
    """
    calendar = calendar_of(snapshot)
    first, last = data_range(snapshot)
    if first is None or last is None:
        return pd.DataFrame([], columns=["period_end", "label", "code", "value"])
    last = last if until is None else until
    rows = []
    for fiscal_year in range(calendar.year_of(first), calendar.year_of(last) + 1):
        end = calendar.end(fiscal_year)
        if last < end:
            period = periods.year_to_date(calendar, last)
            label = f"{calendar.year_label(fiscal_year)} (hasta el {date_es(last)})"
        else:
            period = periods.fiscal_year(calendar, fiscal_year)
            label = calendar.year_label(fiscal_year)
        for item in ratios(snapshot, period).itertuples():
            rows.append([period.end, label, item.code, item.value])
    return pd.DataFrame(rows, columns=["period_end", "label", "code", "value"])
