"""Labour tables of one company's snapshot (payroll, cost, headcount, moves, contracts ending, absence), pure.

Every function takes ``blocked``: the NIFs of employees whose data staff have blocked; they are left out of every
row and every total, as if they did not exist.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pandas as pd

from etl.store import Snapshot
from portal.fmt import sort_key

EMPLOYEES, PAYROLL, LEAVE = "labour_employees.parquet", "labour_payroll.parquet", "labour_leave.parquet"
PAYROLL_SUMS = ("gross", "ss_worker", "irpf", "other_deductions", "net", "ss_employer", "employer_cost")
KINDS = ("indefinido", "temporal")
WINDOWS = (30, 60, 90)
CENT = Decimal("0.01")


def has_labour(snapshot: Snapshot) -> bool:
    """True when the snapshot carries the labour tables."""
    return snapshot.has(EMPLOYEES) and snapshot.has(PAYROLL)


def _read(snapshot: Snapshot, name: str, blocked: frozenset[str], order: str) -> pd.DataFrame:
    """A labour table without the blocked employees' rows."""
    with duckdb.connect() as con:
        return con.execute(
            f"SELECT * FROM read_parquet(?) WHERE NOT list_contains(?, nif) ORDER BY {order}",  # order: internal
            [str(snapshot.file(name)), sorted(blocked)],
        ).df()


def employees(snapshot: Snapshot, blocked: frozenset[str]) -> pd.DataFrame:
    """The employees not blocked, by name in Spanish order («Álvarez» with the A, case ignored), then NIF."""
    frame = _read(snapshot, EMPLOYEES, blocked, "name, nif")
    order = sorted(range(len(frame)), key=lambda i: (sort_key(frame["name"].iat[i]), frame["nif"].iat[i]))
    return frame.iloc[order].reset_index(drop=True)


def payroll_years(snapshot: Snapshot, blocked: frozenset[str]) -> list[int]:
    """Years with payslips, newest first."""
    return sorted(set(_read(snapshot, PAYROLL, blocked, "year")["year"].astype(int)), reverse=True)


def _decimals(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    for column in columns:
        frame[column] = [Decimal(v).quantize(CENT) for v in frame[column]]
    return frame


def monthly_payroll(snapshot: Snapshot, blocked: frozenset[str], year: int | None = None) -> pd.DataFrame:
    """One row per month: payslips, gross, employee SS, IRPF, other deductions, net, employer SS, employer cost."""
    sums = ", ".join(f"sum({c}) AS {c}" for c in PAYROLL_SUMS)
    with duckdb.connect() as con:
        frame = con.execute(
            f"SELECT year, month, count(*) AS payslips, {sums} FROM read_parquet(?)"
            " WHERE NOT list_contains(?, nif) AND (? IS NULL OR year = ?) GROUP BY year, month ORDER BY year, month",
            [str(snapshot.file(PAYROLL)), sorted(blocked), year, year],
        ).df()
    return _decimals(frame, PAYROLL_SUMS)


def employer_cost(snapshot: Snapshot, blocked: frozenset[str], year: int | None = None) -> pd.DataFrame:
    """Employer cost per employee and month: gross, employer SS and their sum, by month then name."""
    frame = _read(snapshot, PAYROLL, blocked, "year, month, name, nif")
    if year is not None:
        frame = frame[frame["year"] == year].reset_index(drop=True)
    frame = frame[["year", "month", "nif", "name", "days", "gross", "ss_employer", "employer_cost"]].copy()
    return _decimals(frame, ("gross", "ss_employer", "employer_cost"))


def months(start: date, end: date) -> list[date]:
    """The first day of every month from ``start``'s to ``end``'s, both included."""
    found, current = [], start.replace(day=1)
    while current <= end:
        found.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return found


def month_end(first: date) -> date:
    """The last day of ``first``'s month."""
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def overlap(start: date, end: date | None, first: date, last: date) -> int:
    """Days of [start, end] (end None = still running) inside [first, last], both included."""
    low, high = max(start, first), min(end or last, last)
    return max((high - low).days + 1, 0)


def average_headcount(snapshot: Snapshot, blocked: frozenset[str], *, start: date, end: date) -> pd.DataFrame:
    """Average headcount per month, in persons and in full-time equivalents, by contract kind.

    Definition: for a month of D calendar days, each employee counts (days employed in the month) / D, where the
    days employed run from fecha_alta to fecha_baja, both included (TGSS «plantilla media»). The «equivalente a
    jornada completa» figure also multiplies by jornada / 100. Contract kind (indefinido / temporal) comes from the
    employee's TGSS contract key (first digit 1–3 indefinido, 4–5 temporal). Figures rounded to 2 decimals.
    """
    staff = employees(snapshot, blocked)
    rows = []
    for first in months(start, end):
        last = month_end(first)
        width = Decimal(last.day)
        row: dict = {"month": first}
        persons = {k: Decimal(0) for k in KINDS}
        fte = {k: Decimal(0) for k in KINDS}
        for e in staff.itertuples():
            days = overlap(_day(e.start_date), _day(e.end_date), first, last)
            persons[e.contract_kind] += Decimal(days) / width
            fte[e.contract_kind] += Decimal(days * int(e.jornada)) / (width * 100)
        for kind in KINDS:
            row[kind] = persons[kind].quantize(CENT)
        row["total"] = sum(persons.values(), Decimal(0)).quantize(CENT)
        for kind in KINDS:
            row[f"fte_{kind}"] = fte[kind].quantize(CENT)
        row["fte_total"] = sum(fte.values(), Decimal(0)).quantize(CENT)
        rows.append(row)
    columns = ["month", *KINDS, "total", *(f"fte_{k}" for k in KINDS), "fte_total"]
    return pd.DataFrame(rows, columns=columns)


def _day(value) -> date | None:
    """A DATE cell as a date (None for NaT/None)."""
    if value is None or pd.isna(value):
        return None
    return value.date() if hasattr(value, "date") else value


def headcount_on(snapshot: Snapshot, blocked: frozenset[str], day: date) -> int:
    """Employees not blocked who are employed on ``day`` (fecha_alta ≤ day ≤ fecha_baja, or no fecha_baja)."""
    return sum(
        1
        for e in employees(snapshot, blocked).itertuples()
        if _day(e.start_date) <= day and (_day(e.end_date) is None or day <= _day(e.end_date))
    )


def moves(snapshot: Snapshot, blocked: frozenset[str], *, start: date, end: date) -> pd.DataFrame:
    """Hires (alta) and leavers (baja) dated within [start, end]: date, kind, employee, contract and reason."""
    rows = []
    for e in employees(snapshot, blocked).itertuples():
        hired, left = _day(e.start_date), _day(e.end_date)
        if start <= hired <= end:
            rows.append((hired, "alta", e.nif, e.name, e.contract_code, e.contract_description, ""))
        if left is not None and start <= left <= end:
            rows.append((left, "baja", e.nif, e.name, e.contract_code, e.contract_description, e.leave_reason))
    columns = ["date", "kind", "nif", "name", "contract_code", "contract_description", "reason"]
    return pd.DataFrame(sorted(rows), columns=columns)


def monthly_moves(snapshot: Snapshot, blocked: frozenset[str], *, start: date, end: date) -> pd.DataFrame:
    """Per month of [start, end]: hires, leavers and the headcount (persons employed) on the month's last day."""
    detail = moves(snapshot, blocked, start=start, end=end)
    staff = employees(snapshot, blocked)
    rows = []
    for first in months(start, end):
        last = month_end(first)
        in_month = detail[[first <= d <= last for d in detail["date"]]] if len(detail) else detail
        at_end = sum(1 for e in staff.itertuples() if _day(e.start_date) <= last and (_day(e.end_date) or last) >= last)
        rows.append(
            {
                "month": first,
                "hires": int((in_month["kind"] == "alta").sum()),
                "leavers": int((in_month["kind"] == "baja").sum()),
                "headcount_at_end": at_end,
            }
        )
    return pd.DataFrame(rows, columns=["month", "hires", "leavers", "headcount_at_end"])


def contracts_ending(snapshot: Snapshot, blocked: frozenset[str], *, today: date, days: int = 90) -> pd.DataFrame:
    """Contracts of employees still employed whose planned end falls in [today, today + days], soonest first.

    ``window`` is the first of 30/60/90 days that holds the end (a contract ending in 12 days is in 30).
    """
    rows = []
    for e in employees(snapshot, blocked).itertuples():
        planned, left = _day(e.contract_end), _day(e.end_date)
        if planned is None or (left is not None and left < today):
            continue
        remaining = (planned - today).days
        if 0 <= remaining <= days:
            window = next((w for w in WINDOWS if remaining <= w), days)
            rows.append(
                (planned, e.nif, e.name, e.contract_code, e.contract_description, _day(e.start_date), remaining, window)
            )
    columns = ["contract_end", "nif", "name", "contract_code", "contract_description", "start_date", "days_left"]
    return pd.DataFrame(sorted(rows), columns=[*columns, "window"])


def leave_list(
    snapshot: Snapshot,
    blocked: frozenset[str],
    *,
    today: date,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Every sick-leave period (open ones with their days up to ``today``), newest first; with ``start`` and
    ``end`` only those with a day between them (a leave across the new year is listed in both years, with all its
    days)."""
    if not snapshot.has(LEAVE):
        return pd.DataFrame(columns=["nif", "name", "contingency", "start_date", "end_date", "days", "open"])
    frame = _read(snapshot, LEAVE, blocked, "start_date DESC, nif")
    last = min(today, end) if end is not None else today
    keep = [
        _day(s) <= last and (start is None or _day(e) is None or _day(e) >= start)
        for s, e in zip(frame["start_date"], frame["end_date"], strict=True)
    ]
    frame = frame[keep].reset_index(drop=True)
    frame["open"] = [_day(d) is None or _day(d) > today for d in frame["end_date"]]
    frame["days"] = [
        overlap(_day(s), _day(e), _day(s), today) for s, e in zip(frame["start_date"], frame["end_date"], strict=True)
    ]
    frame["start_date"] = [_day(d) for d in frame["start_date"]]
    frame["end_date"] = [_day(d) for d in frame["end_date"]]
    return frame[["nif", "name", "contingency", "start_date", "end_date", "days", "open"]]


def absence(snapshot: Snapshot, blocked: frozenset[str], *, start: date, end: date, today: date) -> pd.DataFrame:
    """Per month: sick-leave days, contract days and the absence rate = leave days / contract days.

    Contract days: Σ over employees of the calendar days employed in the month (not weighted by jornada). Leave
    days: calendar days of sick leave (fecha_baja to fecha_alta, both included) within the employee's contract.
    Both stop at ``today`` (an open leave runs until today; later days are not counted). Rate None when no
    contract days.
    """
    staff = employees(snapshot, blocked)
    leaves = _read(snapshot, LEAVE, blocked, "nif, start_date") if snapshot.has(LEAVE) else pd.DataFrame()
    contracts = {e.nif: (_day(e.start_date), _day(e.end_date)) for e in staff.itertuples()}
    rows = []
    for first in months(start, min(end, today)):
        last = min(month_end(first), today)
        contract_days = sum(overlap(s, e, first, last) for s, e in contracts.values())
        leave_days = 0
        for leave in leaves.itertuples():
            hired, left = contracts[leave.nif]
            low, high = max(first, hired), min(last, left or last)
            if low <= high:
                leave_days += overlap(_day(leave.start_date), _day(leave.end_date), low, high)
        rate = (Decimal(leave_days) / Decimal(contract_days)).quantize(Decimal("0.0001")) if contract_days else None
        rows.append({"month": first, "leave_days": leave_days, "contract_days": contract_days, "rate": rate})
    return pd.DataFrame(rows, columns=["month", "leave_days", "contract_days", "rate"])
