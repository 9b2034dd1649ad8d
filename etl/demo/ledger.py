"""A tiny double-entry ledger in integer cents: balanced entries, running balances and year-end entries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

KINDS = ("normal", "apertura", "regularizacion", "cierre")


@dataclass
class Line:
    """One journal line; exactly one of debit and credit is non-zero."""

    account: str
    concept: str
    debit: int = 0
    credit: int = 0


@dataclass
class Entry:
    """One balanced journal entry on one date."""

    day: date
    lines: list[Line]
    kind: str = "normal"
    n43: str = "99"  # concepto común of the bank movements it causes
    number: int = 0


@dataclass
class Ledger:
    """Entries in posting order plus the running balance of every account (debit positive)."""

    entries: list[Entry] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def post(
        self,
        day: date,
        concept: str,
        *moves: tuple[str, int] | tuple[str, int, str],
        kind: str = "normal",
        n43: str = "99",
    ) -> Entry | None:
        """Post ``(account, signed amount[, concept])`` moves (debit > 0); zero moves are dropped."""
        lines = [_line(move, concept) for move in moves if move[1] != 0]
        if not lines:
            return None
        total = sum(line.debit - line.credit for line in lines)
        if total != 0:
            raise ValueError(f"unbalanced entry {concept!r} on {day}: {total}")
        entry = Entry(day, lines, kind, n43)
        self.entries.append(entry)
        for line in lines:
            self.balances[line.account] += line.debit - line.credit
        return entry

    def balance(self, account: str) -> int:
        """Running balance of one account (debit positive)."""
        return self.balances.get(account, 0)

    def group_balances(self, groups: str) -> list[tuple[str, int]]:
        """Non-zero balances of the accounts whose first digit is in ``groups``, sorted by account."""
        return sorted((a, b) for a, b in self.balances.items() if b != 0 and a[0] in groups)

    def regularize(self, day: date, year: int) -> None:
        """Move every group 6/7 balance to 129."""
        moves = [(account, -balance) for account, balance in self.group_balances("67")]
        result = sum(balance for _, balance in moves)
        self.post(day, f"Regularización del ejercicio {year}", *moves, ("1290000", -result), kind="regularizacion")

    def close(self, day: date, year: int) -> list[tuple[str, int]]:
        """Zero every group 1–5 account; returns the balances closed (for the next apertura)."""
        balances = self.group_balances("12345")
        self.post(day, f"Asiento de cierre del ejercicio {year}", *((a, -b) for a, b in balances), kind="cierre")
        return balances

    def open(self, day: date, balances: list[tuple[str, int]]) -> None:
        """Re-open balances on the first day of a year (the mirror of the cierre)."""
        self.post(day, f"Asiento de apertura del ejercicio {day.year}", *balances, kind="apertura")

    def number_entries(self) -> None:
        """Number the entries 1… per calendar fiscal year in posting order."""
        counters: dict[int, int] = defaultdict(int)
        for entry in self.entries:
            counters[entry.day.year] += 1
            entry.number = counters[entry.day.year]


def _line(move: tuple, default_concept: str) -> Line:
    account, amount = move[0], move[1]
    concept = move[2] if len(move) > 2 else default_concept
    return Line(account, concept, amount, 0) if amount > 0 else Line(account, concept, 0, -amount)
