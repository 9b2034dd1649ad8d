"""Legal thresholds (umbrales legales) as dated data: the company-law, VAT and labour duties a company reaches.

``layouts/umbrales.csv`` holds one row per limit: the rule it belongs to, how the rule reads its limits (``kind``),
whom it applies to (``sociedad`` — companies, ``persona`` — individuals and entities taxed through their members,
``todas``), the measure (``assets`` total assets at the year end, ``turnover`` net turnover of the year,
``headcount`` average headcount of the year, ``date``), the comparison, the limit, the date from which that limit is
in force (a change of law is a new row with a later ``valid_from``), the Spanish texts, the legal source and
whether the figure was checked against a published text. The rule-level columns are written on a rule's first row.

Kinds: ``two_of_three`` — the company law's «two of the three limits at the close of two consecutive years» (the
state changes only when two consecutive years agree; the first year in the books decides alone, as the first
fiscal year does in the law); ``above`` / ``at_least`` — one limit on the last closed year; ``from_date`` — a duty
that starts on a date.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache

from etl.store import Snapshot
from portal.fmt import date_es
from reports import labour, periods
from reports.layouts import HERE
from reports.statements import balance_sheet, calendar_of, data_range, profit_and_loss

MEASURES = {
    "assets": "Activo total al cierre",
    "turnover": "Importe neto de la cifra de negocios",
    "headcount": "Plantilla media",
}
COMPARISONS = {"le": "≤", "gt": ">", "ge": "≥"}
KINDS = ("two_of_three", "above", "at_least", "from_date")
HOLDERS = ("sociedad", "persona")
# First letters of a NIF held by an individual (DNI digits, K/L/M, NIE X/Y/Z) or by an entity whose income is
# taxed through its members (E: comunidades de bienes): the IRPF side of the law.
PERSON_NIF_START = set("0123456789KLMXYZE")
ASSETS_LINE, TURNOVER_LINE = "10000", "40100"  # TOTAL ACTIVO; 1. Importe neto de la cifra de negocios (both models)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Limit:
    """One row of ``umbrales.csv``: a limit of a rule, in force from ``valid_from``."""

    rule: str
    order: int
    kind: str
    applies_to: str  # 'sociedad', 'persona' or 'todas'
    measure: str  # a key of MEASURES, or 'date'
    comparison: str  # a key of COMPARISONS ('' for from_date)
    limit: Decimal | date
    valid_from: date


@dataclass(frozen=True)
class Rule:
    """A rule's texts and source (from its first row) and every limit it has ever had."""

    code: str
    order: int
    title: str
    kind: str
    met_text: str  # when the condition holds: within two of three limits, above the limit, the date has come
    unmet_text: str
    source: str
    verified: bool
    note: str
    limits: tuple[Limit, ...]


@dataclass(frozen=True)
class YearFigures:
    """A fiscal year's figures; None when unknown (no payroll in the snapshot, no access to the labour module)."""

    fiscal_year: int
    label: str  # '2025', or '2026 (hasta 30/11/2026)' for the open year
    closed: bool
    assets: Decimal | None
    turnover: Decimal | None
    headcount: Decimal | None

    def value(self, measure: str) -> Decimal | None:
        return getattr(self, measure)


@dataclass
class Assessment:
    """One rule applied to a company: its state, the sentence to show, the years it rests on, each limit's margin."""

    rule: Rule
    state: str  # 'met', 'unmet', 'unknown' (missing figures) or 'not_applicable'
    text: str
    basis: str  # 'Ejercicios 2024 y 2025', 'Ejercicio 2025', ''
    margins: list[dict] = field(default_factory=list)  # measure, comparison, limit, values per year label


@cache
def rules() -> tuple[Rule, ...]:
    """Every rule of ``umbrales.csv`` in display order (checked: known kinds, measures, holders and comparisons)."""
    grouped: dict[str, list[dict]] = {}
    with (HERE / "umbrales.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            grouped.setdefault(row["rule"], []).append(row)
    found = []
    for code, rows in grouped.items():
        head = rows[0]
        limits = tuple(_limit(code, row) for row in rows)
        if any(item.kind != head["kind"] for item in limits) or head["kind"] not in KINDS:
            raise ValueError(f"umbrales.csv: rule {code} mixes or misspells its kind")
        if not head["source"] or head["verified"] not in ("s", "n"):
            raise ValueError(f"umbrales.csv: rule {code} needs a source and verified s/n on its first row")
        found.append(
            Rule(
                code=code,
                order=int(head["order"]),
                title=head["title"],
                kind=head["kind"],
                met_text=head["met_text"],
                unmet_text=head["unmet_text"],
                source=head["source"],
                verified=head["verified"] == "s",
                note=head["note"],
                limits=limits,
            )
        )
    return tuple(sorted(found, key=lambda r: r.order))


def _limit(code: str, row: dict) -> Limit:
    measure, comparison = row["measure"], row["comparison"]
    if row["applies_to"] not in (*HOLDERS, "todas"):
        raise ValueError(f"umbrales.csv: rule {code}: unknown applies_to {row['applies_to']!r}")
    if measure == "date":
        value: Decimal | date = date.fromisoformat(row["limit"])
    elif measure in MEASURES and comparison in COMPARISONS:
        value = Decimal(row["limit"])
    else:
        raise ValueError(f"umbrales.csv: rule {code}: unknown measure or comparison {measure!r} {comparison!r}")
    return Limit(
        code,
        int(row["order"]),
        row["kind"],
        row["applies_to"],
        measure,
        comparison,
        value,
        date.fromisoformat(row["valid_from"]),
    )


def holder_of(nif: str) -> str:
    """'persona' for an individual's NIF (or a comunidad de bienes), else 'sociedad' (also when the NIF is unknown)."""
    nif = (nif or "").strip().upper()
    return "persona" if nif[:1] in PERSON_NIF_START else "sociedad"


def in_force(rule: Rule, holder: str, on: date) -> list[Limit]:
    """The rule's limits for this holder in force on a date: per measure, the row with the latest valid_from."""
    latest: dict[str, Limit] = {}
    for item in rule.limits:
        if item.applies_to in (holder, "todas") and item.valid_from <= on:
            current = latest.get(item.measure)
            if current is None or item.valid_from > current.valid_from:
                latest[item.measure] = item
    return list(latest.values())


def meets(item: Limit, value: Decimal | None) -> bool | None:
    """Whether a figure satisfies a limit's comparison; None when the figure is unknown."""
    if value is None:
        return None
    limit = item.limit
    assert isinstance(limit, Decimal)
    return {"le": value <= limit, "gt": value > limit, "ge": value >= limit}[item.comparison]


def two_of_three(limits: list[Limit], year: YearFigures) -> bool | None:
    """At least two limits met this year: True; two can no longer be met: False; else unknown (missing figures)."""
    results = [meets(item, year.value(item.measure)) for item in limits]
    met, unknown = results.count(True), results.count(None)
    if met >= 2:
        return True
    return None if met + unknown >= 2 else False


def _year_end(year: YearFigures, year_ends: dict[int, date]) -> date:
    return year_ends[year.fiscal_year]


def assess(
    figures: list[YearFigures], holder: str, year_ends: dict[int, date], today: date, *, sii: bool | None = None
) -> list[Assessment]:
    """Every rule applied to a company's yearly figures (closed years decide; the open year is shown as a margin).

    ``sii`` says whether the company keeps its VAT books in the SII (None: not known, then the large-company rule's
    own estimate is used for VERI*FACTU).
    """
    closed = [y for y in sorted(figures, key=lambda y: y.fiscal_year) if y.closed]
    found: list[Assessment] = []
    for rule in rules():
        if not any(item.applies_to in (holder, "todas") for item in rule.limits):
            text = "No aplica a empresarios individuales" if holder == "persona" else "No aplica a sociedades"
            found.append(Assessment(rule, "not_applicable", text, ""))
            continue
        if rule.kind == "from_date":
            found.append(_from_date(rule, holder, today, sii, found))
            continue
        if not closed:
            text = "Aún no hay ningún ejercicio cerrado; abajo, las cifras del ejercicio en curso"
            latest = in_force(rule, holder, max(year_ends.values(), default=today))
            found.append(Assessment(rule, "unknown", text, "", _margins(latest, figures)))
            continue
        if rule.kind == "two_of_three":
            state, basis = _two_years(rule, holder, closed, year_ends)
        else:
            last = closed[-1]
            [item] = in_force(rule, holder, _year_end(last, year_ends))
            result = meets(item, last.value(item.measure))
            state, basis = _state(result), f"Ejercicio {last.label}"
        text = {"met": rule.met_text, "unmet": rule.unmet_text}.get(state, "Faltan datos para saberlo")
        latest = in_force(rule, holder, _year_end(closed[-1], year_ends))
        found.append(Assessment(rule, state, text, basis, _margins(latest, figures)))
    return found


def _state(result: bool | None) -> str:
    return "unknown" if result is None else "met" if result else "unmet"


def _two_years(rule: Rule, holder: str, closed: list[YearFigures], year_ends: dict[int, date]) -> tuple[str, str]:
    """The company-law state after walking the closed years: it changes only when two consecutive years agree."""
    results = [two_of_three(in_force(rule, holder, _year_end(y, year_ends)), y) for y in closed]
    state, basis = results[0], f"Ejercicio {closed[0].label} (primer ejercicio con datos)"
    for index in range(1, len(results)):
        if results[index] is not None and results[index] == results[index - 1]:
            state, basis = results[index], f"Ejercicios {closed[index - 1].label} y {closed[index].label}"
        elif state is None:
            state = results[index]
    if len(results) > 1 and results[-1] != results[-2]:
        basis += f"; en {closed[-1].label} cambió, falta un segundo ejercicio igual para que cambie la situación"
    return _state(state), basis


def _from_date(rule: Rule, holder: str, today: date, sii: bool | None, earlier: list[Assessment]) -> Assessment:
    [item] = in_force(rule, holder, today)
    start = item.limit
    assert isinstance(start, date)
    if sii is None:
        large = next((a for a in earlier if a.rule.code == "gran_empresa_sii"), None)
        sii = large is not None and large.state == "met"
    if sii:
        return Assessment(rule, "not_applicable", "No le afecta: lleva los libros de IVA en el SII", "")
    days = (start - today).days
    when = start.strftime("%d/%m/%Y")
    if days > 0:
        return Assessment(rule, "unmet", f"{rule.met_text} desde el {when} (faltan {days} días)", f"Desde el {when}")
    return Assessment(rule, "met", f"{rule.met_text} desde el {when}", f"Desde el {when}")


def _margins(limits: list[Limit], figures: list[YearFigures]) -> list[dict]:
    """Per limit: its figure in every year and the distance to it (limit − figure; negative: beyond the limit)."""
    rows = []
    for item in sorted(limits, key=lambda i: list(MEASURES).index(i.measure)):
        assert isinstance(item.limit, Decimal)
        years = [
            {
                "label": y.label,
                "value": y.value(item.measure),
                "distance": None if y.value(item.measure) is None else item.limit - y.value(item.measure),
                "meets": meets(item, y.value(item.measure)),
            }
            for y in sorted(figures, key=lambda y: y.fiscal_year)
        ]
        rows.append({"measure": item.measure, "comparison": item.comparison, "limit": item.limit, "years": years})
    return rows


def company_figures(snapshot: Snapshot, blocked: frozenset[str] | None) -> tuple[list[YearFigures], dict[int, date]]:
    """Assets, turnover and average headcount of every fiscal year with data (the open year up to its last date).

    ``blocked`` is the set of employees staff have hidden from clients (left out of the headcount, like every labour
    figure), or None when the reader may not see the labour module: the headcount is then unknown.
    """
    calendar = calendar_of(snapshot)
    first, last = data_range(snapshot)
    if first is None or last is None:
        return [], {}
    staffed = blocked is not None and labour.has_labour(snapshot)
    payroll_years = set(labour.payroll_years(snapshot, blocked)) if staffed and blocked is not None else set()
    found, year_ends = [], {}
    for year in range(calendar.year_of(first), calendar.year_of(last) + 1):
        end = calendar.end(year)
        closed = end <= last
        period = periods.fiscal_year(calendar, year) if closed else periods.year_to_date(calendar, last)
        label = calendar.year_label(year) if closed else f"{calendar.year_label(year)} (hasta {date_es(last)})"
        assets = balance_sheet(snapshot, period.end, compare=False).amount(ASSETS_LINE)
        turnover = profit_and_loss(snapshot, period, compare=False).amount(TURNOVER_LINE)
        headcount = None
        if year in payroll_years and blocked is not None:
            months = labour.average_headcount(snapshot, blocked, start=period.start, end=period.end)
            headcount = (sum(months["total"], Decimal(0)) / len(months)).quantize(CENT) if len(months) else None
        found.append(YearFigures(year, label, closed, assets, turnover, headcount))
        year_ends[year] = period.end
    return found, year_ends
