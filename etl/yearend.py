"""Year-end entries: classify regularización, cierre and apertura by the type column or by their effect."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import duckdb

from etl.problems import Problem
from etl.sources import CompanyInfo
from portal.fmt import date_es, number

YEAR_END_TYPES = ("apertura", "regularizacion", "cierre")
TYPE_LABELS = {"normal": "normal", "apertura": "apertura", "regularizacion": "regularización", "cierre": "cierre"}
RESULT_PREFIX = "129"  # Resultado del ejercicio: the counterpart of the regularización
MAX_ACCOUNTS_IN_MESSAGE = 3
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class EntryClass:
    """How one year-end entry was classified and why (shown to staff)."""

    fiscal_year: int
    entry: int
    date: date
    entry_type: str  # 'apertura', 'regularizacion' or 'cierre'
    method: str  # 'columna' (the export's type column) or 'efecto' (recognised by its effect)
    lines: int


def entry_label(fiscal_year: int, entry: int) -> str:
    """How messages name an entry: fiscal year / 6-digit number (``2025/000137``)."""
    return f"{fiscal_year}/{entry:06d}"


def is_pl_account(account: str) -> bool:
    """Groups 6 and 7: expenses and income, regularised against 129 at year end."""
    return account[:1] in ("6", "7")


def is_balance_account(account: str) -> bool:
    """Groups 1 to 5: the accounts the cierre zeroes and the apertura re-opens."""
    return account[:1] in ("1", "2", "3", "4", "5")


@dataclass
class _Entry:
    """One candidate entry (first or last day of its year, or marked as year-end), moves per account."""

    fiscal_year: int
    entry: int
    date: date
    marked: str | None = None  # the type column's value; None when the export left it empty
    lines: int = 0
    moves: dict[str, Decimal] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, int]:
        return (self.fiscal_year, self.entry)

    @property
    def label(self) -> str:
        return entry_label(self.fiscal_year, self.entry)


@dataclass
class _Books:
    """What the classification needs, aggregated in one pass over the journal."""

    totals: dict[int, dict[str, Decimal]]  # fiscal year -> account -> Σ(debit - credit) of the whole year
    last_day: dict[int, dict[str, Decimal]]  # fiscal year -> account -> Σ on the year's last day
    entries: dict[tuple[int, int], _Entry]  # the candidate entries


Decisions = dict[tuple[int, int], tuple[str, str]]  # (year, entry) -> (entry type, method)


def classify_year_end(con: duckdb.DuckDBPyConnection, company: CompanyInfo) -> tuple[list[EntryClass], list[Problem]]:
    """Classify the year-end entries of table ``journal`` and fill ``entry_type`` where it is NULL.

    NULL means "not marked by the export": entries on the first or last day of a fiscal year are then
    recognised by their effect (domain.md §1.9) and every other NULL becomes 'normal'. Marked entries
    keep their type; a marked regularización or cierre that does not zero what it should is warned about.
    Balances of groups 6/7 are taken within the fiscal year, those of groups 1-5 cumulatively.
    """
    books = _read_books(con, company)
    years = sorted(books.totals)
    decided: Decisions = {}
    problems: list[Problem] = []
    carried: dict[str, Decimal] = defaultdict(lambda: ZERO)  # groups 1-5: balance before the year
    closing: dict[int, dict[str, Decimal]] = {}  # year -> per-account movement of its cierre
    for year in years:
        first, last = company.fiscal_year_bounds(year)
        entries = sorted((e for e in books.entries.values() if e.fiscal_year == year), key=lambda e: e.entry)
        for item in entries:
            if item.marked in YEAR_END_TYPES:
                decided[item.key] = (item.marked, "columna")
        problems += _check_marked_dates(entries, first, last)
        last_entries = [e for e in entries if e.date == last]
        problems += _last_day(year, last_entries, books, carried, decided)
        closing[year] = _moves_of(last_entries, decided, "cierre")
        first_entries = [e for e in entries if e.date == first]
        _first_day(first_entries, closing.get(year - 1), year == years[0], decided)
        for account, total in books.totals[year].items():
            if is_balance_account(account):
                carried[account] += total
    classes = [
        EntryClass(item.fiscal_year, item.entry, item.date, kind, method, item.lines)
        for key, (kind, method) in sorted(decided.items())
        for item in [books.entries[key]]
    ]
    _write_types(con, classes)
    return classes, problems


def _read_books(con: duckdb.DuckDBPyConnection, company: CompanyInfo) -> _Books:
    """Totals per (year, account) and per-account moves of the candidate entries.

    Candidates are the unmarked or year-end-marked entries and every entry of a first or last day.
    """
    params = {"m": company.fiscal_year_start_month, "d": company.fiscal_year_start_day}
    usable = "date IS NOT NULL AND entry IS NOT NULL AND fiscal_year IS NOT NULL AND account IS NOT NULL"
    totals: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    last_day: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    rows = con.execute(
        f"SELECT fiscal_year, account, sum(debit - credit) FROM journal WHERE {usable} GROUP BY ALL"
    ).fetchall()
    for year, account, movement in rows:
        totals[year][account] += movement
    candidates = con.execute(
        f"""
        SELECT fiscal_year, entry, date, account, entry_type, sum(debit - credit), count(*),
               (month(date + 1) = $m AND day(date + 1) = $d) AS is_last
        FROM journal
        WHERE {usable} AND (entry_type IS NULL OR entry_type <> 'normal'
                            OR (month(date) = $m AND day(date) = $d) OR (month(date + 1) = $m AND day(date + 1) = $d))
        GROUP BY ALL ORDER BY ALL
        """,
        params,
    ).fetchall()
    entries: dict[tuple[int, int], _Entry] = {}
    for year, entry, day, account, entry_type, movement, count, is_last in candidates:
        item = entries.setdefault((year, entry), _Entry(year, entry, day))
        item.lines += count
        item.moves[account] = item.moves.get(account, ZERO) + movement
        if is_last:
            last_day[year][account] += movement
        if entry_type in YEAR_END_TYPES or (entry_type == "normal" and item.marked is None):
            item.marked = entry_type
    return _Books(totals, last_day, entries)


def _last_day(
    year: int, entries: list[_Entry], books: _Books, carried: dict[str, Decimal], decided: Decisions
) -> list[Problem]:
    """Regularización and cierre among the last day's entries, taken in entry-number order."""
    last_moves = books.last_day.get(year, {})
    running: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for account, total in books.totals[year].items():
        running[account] = total - last_moves.get(account, ZERO)
    for account, balance in carried.items():
        running[account] += balance
    pl_left = _left_at_year_end(books, year, carried, is_pl_account)
    balance_left = _left_at_year_end(books, year, carried, is_balance_account)
    problems: list[Problem] = []
    for kind, left in (("regularizacion", pl_left), ("cierre", balance_left)):
        marked = [e for e in entries if e.marked == kind]
        if marked and left:
            problems.append(_left_warning(marked[-1], kind, left))
    for item in entries:
        if item.marked in ("regularizacion", "cierre"):
            problems += _check_marked(item, running)
        elif item.marked is None:
            if not pl_left and _is_regularization(item, running):
                decided[item.key] = ("regularizacion", "efecto")
            elif not balance_left and _is_closing(item, running):
                decided[item.key] = ("cierre", "efecto")
        for account, movement in item.moves.items():
            running[account] += movement
    return problems


def _left_at_year_end(
    books: _Books, year: int, carried: dict[str, Decimal], wanted: Callable[[str], bool]
) -> list[tuple[str, Decimal]]:
    """Accounts of a kind still non-zero at the end of the year (groups 1-5 counted cumulatively)."""
    accounts = set(books.totals[year]) | ({a for a in carried if wanted(a)} if wanted is is_balance_account else set())
    left = []
    for account in sorted(a for a in accounts if wanted(a)):
        balance = books.totals[year].get(account, ZERO) + (
            carried.get(account, ZERO) if is_balance_account(account) else ZERO
        )
        if balance != 0:
            left.append((account, balance))
    return left


def _zeroes(item: _Entry, running: dict[str, Decimal], accounts: list[str]) -> bool:
    """Every given account is at zero after the entry, and the entry moves at least one of them."""
    moved = any(item.moves[a] != 0 for a in accounts)
    return moved and all(running[a] + item.moves[a] == 0 for a in accounts)


def _is_regularization(item: _Entry, running: dict[str, Decimal]) -> bool:
    """Only groups 6/7 plus 129 (present), zeroing every 6/7 account it touches."""
    results = [a for a in item.moves if is_pl_account(a)]
    others = [a for a in item.moves if not is_pl_account(a)]
    against_result = bool(others) and all(a.startswith(RESULT_PREFIX) for a in others)
    return bool(results) and against_result and _zeroes(item, running, results)


def _is_closing(item: _Entry, running: dict[str, Decimal]) -> bool:
    """Only groups 1-5, zeroing every account it touches against the balance just before it."""
    accounts = list(item.moves)
    return all(is_balance_account(a) for a in accounts) and _zeroes(item, running, accounts)


def _first_day(
    entries: list[_Entry], previous_closing: dict[str, Decimal] | None, first_year: bool, decided: Decisions
) -> None:
    """Apertura: re-opens the previous year's cierre, or is the very first entry of the journal's first year."""
    unmarked = [e for e in entries if e.marked is None and all(is_balance_account(a) for a in e.moves)]
    if previous_closing:
        for item in unmarked:
            reopens = all(item.moves[a] == -previous_closing.get(a, ZERO) for a in item.moves)
            if reopens and any(m != 0 for m in item.moves.values()):
                decided[item.key] = ("apertura", "efecto")
    elif first_year and unmarked and unmarked[0] is entries[0] and any(m != 0 for m in entries[0].moves.values()):
        decided[entries[0].key] = ("apertura", "efecto")


def _moves_of(entries: list[_Entry], decided: Decisions, kind: str) -> dict[str, Decimal]:
    """Per-account movement of the entries classified as ``kind``."""
    moves: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for item in entries:
        if decided.get(item.key, ("", ""))[0] == kind:
            for account, movement in item.moves.items():
                moves[account] += movement
    return dict(moves)


def _check_marked(item: _Entry, running: dict[str, Decimal]) -> list[Problem]:
    """Warnings when a marked regularización / cierre moves the wrong accounts or does not zero its own."""
    kind = item.marked or ""
    wanted = is_pl_account if kind == "regularizacion" else is_balance_account
    allowed = [a for a in item.moves if wanted(a) or (kind == "regularizacion" and a.startswith(RESULT_PREFIX))]
    unexpected = [a for a in item.moves if a not in allowed]
    problems = []
    if unexpected:
        problems.append(_warn(item, f"marcado como {TYPE_LABELS[kind]} mueve cuentas inesperadas: {_some(unexpected)}"))
    not_zeroed = [a for a in item.moves if wanted(a) and running[a] + item.moves[a] != 0]
    if not_zeroed:
        details = "; ".join(
            f"cuenta {a}: saldo antes {number(running[a])}, movimiento {number(item.moves[a])}"
            for a in not_zeroed[:MAX_ACCOUNTS_IN_MESSAGE]
        )
        problems.append(
            _warn(item, f"marcado como {TYPE_LABELS[kind]} no deja a cero {details}{_and_more(not_zeroed)}")
        )
    return problems


def _left_warning(item: _Entry, kind: str, left: list[tuple[str, Decimal]]) -> Problem:
    """Warning when, after the marked year-end entries, accounts they should have zeroed keep a balance."""
    details = "; ".join(f"{a} ({number(b)})" for a, b in left[:MAX_ACCOUNTS_IN_MESSAGE])
    group = "6 y 7" if kind == "regularizacion" else "1 a 5"
    return _warn(
        item,
        f"marcado como {TYPE_LABELS[kind]}, pero al final del ejercicio quedan cuentas de los grupos {group}"
        f" con saldo: {details}{_and_more(left)}",
    )


def _check_marked_dates(entries: list[_Entry], first: date, last: date) -> list[Problem]:
    """Warnings for entries marked as year-end but dated away from the year's first or last day."""
    problems = []
    for item in entries:
        if item.marked in ("regularizacion", "cierre") and item.date != last:
            problems.append(
                _warn(
                    item,
                    f"marcado como {TYPE_LABELS[item.marked]} con fecha {date_es(item.date)},"
                    f" que no es el último día del ejercicio ({date_es(last)})",
                )
            )
        if item.marked == "apertura" and item.date != first:
            problems.append(
                _warn(
                    item,
                    f"marcado como apertura con fecha {date_es(item.date)},"
                    f" que no es el primer día del ejercicio ({date_es(first)})",
                )
            )
    return problems


def _some(accounts: list[str]) -> str:
    return ", ".join(accounts[:MAX_ACCOUNTS_IN_MESSAGE]) + _and_more(accounts)


def _and_more(items: list) -> str:
    extra = len(items) - MAX_ACCOUNTS_IN_MESSAGE
    return f" y {extra} más" if extra > 0 else ""


def _warn(item: _Entry, text: str) -> Problem:
    """A year-end warning about one entry (it does not block the load)."""
    return Problem("year_end_effect", f"asiento {item.label} {text}", entry=item.label, severity="warning")


def _write_types(con: duckdb.DuckDBPyConnection, classes: list[EntryClass]) -> None:
    """Fill entry_type where NULL: the decided type of the entry, else 'normal' (touches only those lines)."""
    con.execute(
        """
        UPDATE journal SET entry_type = coalesce(
            (SELECT c.entry_type FROM (SELECT unnest($years) AS fiscal_year, unnest($entries) AS entry,
                                              unnest($types) AS entry_type) c
             WHERE c.fiscal_year = journal.fiscal_year AND c.entry = journal.entry), 'normal')
        WHERE entry_type IS NULL
        """,
        {
            "years": [c.fiscal_year for c in classes] or [0],
            "entries": [c.entry for c in classes] or [-1],
            "types": [c.entry_type for c in classes] or ["normal"],
        },
    )
