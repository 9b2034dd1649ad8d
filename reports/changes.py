"""Qué ha cambiado: what a published snapshot brings over the one published before it, pure and per company.

- **Statement lines**: the P&L of the open fiscal year to date and the balance sheet at each snapshot's last date
  (the data's progress), and, for every fiscal year the older snapshot already had closed, that year's P&L and
  its year-end balance (a change there is a correction of figures already published). Lines whose amount differs,
  with both amounts and the difference.
- **Entries** by month: added, changed or removed, an entry being its fiscal year and number; it changed when any
  line's date, account, description, amounts or type differ (an order-independent fingerprint of its lines).
- **New invoices** of the firm, **new tax returns** and **new documents**: keys the older snapshot did not carry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from etl.store import Snapshot, Store, StoreError
from portal.fmt import integer
from reports import periods
from reports.journal import has_entries
from reports.statements import Statement, balance_sheet, calendar_of, data_range, profit_and_loss

ENTRY_CHANGES = ("added", "changed", "removed")
LINE_COLUMNS = ["statement", "period", "line_code", "label", "before", "after", "difference", "correction"]
ENTRY_COLUMNS = ["month", *ENTRY_CHANGES]
# Module tables compared by key: parquet file, key columns, columns shown.
NEW_ITEMS = {
    "invoices": ("invoices.parquet", ("number",), ("number", "issue_date", "concept", "total")),
    "returns": (
        "tax_filings.parquet",
        ("model", "year", "period"),
        ("model", "year", "period", "result_type", "amount"),
    ),
    "documents": ("documents.parquet", ("sha256",), ("title", "category", "doc_date")),
}

ENTRY_WORDS = {
    "added": ("asiento nuevo", "asientos nuevos"),
    "changed": ("asiento modificado", "asientos modificados"),
    "removed": ("asiento eliminado", "asientos eliminados"),
}
ITEM_WORDS = {  # kind -> (the module that shows it, one, many)
    "invoices": ("facturas", "factura nueva del despacho", "facturas nuevas del despacho"),
    "returns": ("impuestos", "declaración nueva", "declaraciones nuevas"),
    "documents": ("documentos", "documento nuevo", "documentos nuevos"),
}


@dataclass(frozen=True)
class Changes:
    """What ``new`` brings over ``old`` (both published snapshots of one company)."""

    new_id: str
    old_id: str
    old_until: date | None
    new_until: date | None
    lines: pd.DataFrame  # LINE_COLUMNS
    entries: pd.DataFrame  # ENTRY_COLUMNS, one row per month (first day) with a change
    items: dict[str, pd.DataFrame]  # NEW_ITEMS key -> its new rows

    def counts(self) -> dict[str, int]:
        """Plain counts (for Inicio's summary and the e-mail digest: no amounts)."""
        found = {kind: int(self.entries[kind].sum()) if len(self.entries) else 0 for kind in ENTRY_CHANGES}
        found["lines"] = len(self.lines)
        found["corrections"] = int(self.lines["correction"].sum()) if len(self.lines) else 0
        return found | {kind: len(frame) for kind, frame in self.items.items()}


def _counted(n: int, one: str, many: str) -> str:
    return f"{integer(n)} {one if n == 1 else many}"


def summary(counts: dict[str, int], modules: Iterable[str]) -> list[str]:
    """The counts a user may see (of the modules they hold), in words: «3 asientos nuevos», «1 declaración nueva»."""
    held = set(modules)
    parts = []
    if "contabilidad" in held:
        parts += [_counted(counts[kind], *words) for kind, words in ENTRY_WORDS.items() if counts[kind]]
        if counts["corrections"]:
            corrected = _counted(counts["corrections"], "partida corregida", "partidas corregidas")
            parts.append(f"{corrected} de ejercicios cerrados")
    for kind, (module, one, many) in ITEM_WORDS.items():
        if module in held and counts[kind]:
            parts.append(_counted(counts[kind], one, many))
    return parts


def previous_published(store: Store, company: str, current_id: str) -> Snapshot | None:
    """The snapshot published before ``current_id`` that retention has kept (None: the first publication)."""
    history = store.history(company)
    if current_id not in history:
        return None
    for snapshot_id in history[history.index(current_id) + 1 :]:
        try:
            return store.snapshot(company, snapshot_id)
        except StoreError:
            continue
    return None


def compare(new: Snapshot, old: Snapshot) -> Changes:
    """Everything ``new`` changes over ``old``."""
    _, old_until = data_range(old)
    _, new_until = data_range(new)
    return Changes(
        new_id=new.snapshot_id,
        old_id=old.snapshot_id,
        old_until=old_until,
        new_until=new_until,
        lines=statement_changes(new, old),
        entries=entry_changes(new, old),
        items={kind: new_items(new, old, kind) for kind in NEW_ITEMS},
    )


def _changed_lines(after: Statement, before: Statement, statement: str, period: str, correction: bool) -> list[list]:
    olds = dict(zip(before.lines["line_code"], before.lines["amount"], strict=True))
    rows = []
    for line in after.lines.itertuples():
        previous = olds.get(line.line_code)
        if previous is not None and previous != line.amount:
            rows.append(
                [
                    statement,
                    period,
                    line.line_code,
                    line.label,
                    previous,
                    line.amount,
                    line.amount - previous,
                    correction,
                ]
            )
    return rows


def statement_changes(new: Snapshot, old: Snapshot) -> pd.DataFrame:
    """Statement lines whose amount changed: the open year's progress and any correction of a closed year."""
    _, old_until = data_range(old)
    _, new_until = data_range(new)
    if old_until is None or new_until is None:
        return pd.DataFrame(columns=LINE_COLUMNS)
    calendar = calendar_of(new)
    rows: list[list] = []
    for year in range(calendar.year_of(data_range(old)[0] or old_until), calendar.year_of(old_until) + 1):
        end = calendar.end(year)
        if end > old_until:  # the older snapshot's open year: compared below, as progress
            continue
        period = periods.fiscal_year(calendar, year)
        label = periods.fiscal_year_label(calendar, year)
        rows += _changed_lines(
            profit_and_loss(new, period, compare=False),
            profit_and_loss(old, period, compare=False),
            "Pérdidas y ganancias",
            label,
            True,
        )
        rows += _changed_lines(
            balance_sheet(new, end, compare=False),
            balance_sheet(old, end, compare=False),
            "Balance",
            f"A {end:%d/%m/%Y}",
            True,
        )
    if new_until != old_until or calendar.end(calendar.year_of(old_until)) != old_until:  # else compared above
        after = periods.year_to_date(calendar, new_until)
        if calendar.year_of(old_until) == after.fiscal_year:
            before = periods.year_to_date(calendar, old_until)
            rows += _changed_lines(
                profit_and_loss(new, after, compare=False),
                profit_and_loss(old, before, compare=False),
                "Pérdidas y ganancias",
                f"{after.label} (antes, hasta el {old_until:%d/%m/%Y})",
                False,
            )
        rows += _changed_lines(
            balance_sheet(new, new_until, compare=False),
            balance_sheet(old, old_until, compare=False),
            "Balance",
            f"A {new_until:%d/%m/%Y} (antes, a {old_until:%d/%m/%Y})",
            False,
        )
    return pd.DataFrame(rows, columns=LINE_COLUMNS)


FINGERPRINT = "sum(hash(date, account, coalesce(description, ''), debit, credit, coalesce(entry_type, ''))::HUGEINT)"
ENTRY_SQL = f"""
WITH fresh AS (
    SELECT fiscal_year, entry, min(date) AS day, {FINGERPRINT} AS print
    FROM read_parquet($new) GROUP BY fiscal_year, entry
), stale AS (
    SELECT fiscal_year, entry, min(date) AS day, {FINGERPRINT} AS print
    FROM read_parquet($old) GROUP BY fiscal_year, entry
), compared AS (
    SELECT date_trunc('month', coalesce(fresh.day, stale.day))::DATE AS month,
           CASE WHEN stale.entry IS NULL THEN 'added' WHEN fresh.entry IS NULL THEN 'removed'
                WHEN fresh.print <> stale.print OR fresh.day <> stale.day THEN 'changed' END AS change
    FROM fresh FULL OUTER JOIN stale USING (fiscal_year, entry)
)
SELECT month,
       count(*) FILTER (WHERE change = 'added') AS added,
       count(*) FILTER (WHERE change = 'changed') AS changed,
       count(*) FILTER (WHERE change = 'removed') AS removed
FROM compared WHERE change IS NOT NULL GROUP BY month ORDER BY month
"""


def entry_changes(new: Snapshot, old: Snapshot) -> pd.DataFrame:
    """Entries added, changed and removed per month (the month of the entry's date; the old one when removed)."""
    if not new.has("journal.parquet") or not old.has("journal.parquet"):
        return pd.DataFrame(columns=ENTRY_COLUMNS)
    if not (has_entries(new) and has_entries(old)):  # sumas y saldos: one synthetic entry per period, not entries
        return pd.DataFrame(columns=ENTRY_COLUMNS)
    with duckdb.connect() as con:
        params = {"new": str(new.file("journal.parquet")), "old": str(old.file("journal.parquet"))}
        frame = con.execute(ENTRY_SQL, params).df()
    return frame.astype({kind: "int64" for kind in ENTRY_CHANGES})[ENTRY_COLUMNS]


def new_items(new: Snapshot, old: Snapshot, kind: str) -> pd.DataFrame:
    """Rows of a module table in ``new`` whose key ``old`` did not carry (all, when ``old`` has no such table)."""
    name, keys, shown = NEW_ITEMS[kind]
    if not new.has(name):
        return pd.DataFrame(columns=list(shown))
    key_list = ", ".join(keys)
    params = {"new": str(new.file(name))}
    where = ""
    if old.has(name):
        params["old"] = str(old.file(name))
        same = " AND ".join(f"o.{key} IS NOT DISTINCT FROM n.{key}" for key in keys)
        where = f" WHERE NOT EXISTS (SELECT 1 FROM read_parquet($old) AS o WHERE {same})"
    columns = ", ".join(f"n.{column}" for column in shown)
    with duckdb.connect() as con:
        return con.execute(f"SELECT {columns} FROM read_parquet($new) AS n{where} ORDER BY {key_list}", params).df()
