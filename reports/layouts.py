"""PGC statement layouts as data: lines, subtotals and account-prefix mappings with sign rules, loaded once from CSV.

``layouts/statements.csv`` names the four statements (balance and P&L of the abreviado and PYMES models) and the
account groups each one covers; ``layouts/pgc.csv`` lists their rows as domain.md §1.4–§1.7 writes them
(``statement,line_code,line_label,account_prefixes,sign_rule,note``), plus rows noted ``ext:`` that place the
sub-accounts the models leave out (so that every account of a covered group lands somewhere). Rows sharing a line
code add up; a prefix in parentheses is a contra account (matched without the parentheses: its sign comes out of
the balance itself); ``=161`` matches the account ``161`` only, never ``1613…``.

Sign rules, applied per account to ``b = debit - credit``: ``D`` → b; ``C`` and ``PL`` → -b; ``D+`` → b when
b > 0; ``C+`` → -b when b < 0; ``SUM`` → the sum of the listed line codes; ``RECLASS_D``/``RECLASS_C`` → a
conditional line with no accounts of its own (stays at zero). Every account of a covered group must match exactly
one row, or exactly one ``D+`` and one ``C+`` row (two-sided accounts such as 57x overdrafts): ``check_chart``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent / "layouts"
ZERO = Decimal("0.00")
ACCOUNT_RULES = ("D", "C", "D+", "C+", "PL")
TWO_SIDED = ("D+", "C+")
MODELS = ("pymes", "abreviado")
KINDS = ("balance", "pyg")


class LayoutError(ValueError):
    """The layout files are inconsistent (a bug in the data, caught by the tests)."""


@dataclass(frozen=True)
class Rule:
    """One account prefix of a line with its sign rule; ``contra`` when the model writes it in parentheses.

    A prefix written ``=161`` matches only the account ``161`` itself (a firm posting to a 3-digit account whose
    4-digit sub-accounts go to different lines), never ``1613…``.
    """

    line_code: str
    prefix: str
    sign_rule: str
    contra: bool


@dataclass(frozen=True)
class Line:
    """One line of a statement in display order: ``terms`` are the line codes a subtotal adds."""

    code: str
    label: str
    kind: str  # 'accounts', 'total' (SUM of terms) or 'conditional' (RECLASS: no accounts of its own)
    terms: tuple[str, ...]
    parent: str | None  # the subtotal that adds this line (None for the top totals)
    depth: int  # number of subtotals above it
    order: int  # position in the statement


@dataclass(frozen=True)
class Layout:
    """A statement model: its lines in order and the per-prefix rules mapping accounts to lines."""

    statement: str  # BAL_ABR, BAL_PYMES, PYG_ABR, PYG_PYMES
    kind: str  # 'balance' or 'pyg'
    model: str  # 'abreviado' or 'pymes'
    title: str
    account_groups: str  # first digits of the accounts the statement covers, e.g. '67'
    lines: tuple[Line, ...]
    rules: tuple[Rule, ...]
    _by_prefix: dict[str, tuple[Rule, ...]] = field(repr=False, compare=False, default_factory=dict)
    _memo: dict[str, tuple[Rule, ...]] = field(repr=False, compare=False, default_factory=dict)
    _lines_by_code: dict[str, Line] = field(repr=False, compare=False, default_factory=dict)

    @property
    def codes(self) -> tuple[str, ...]:
        """The line codes in display order."""
        return tuple(line.code for line in self.lines)

    def line(self, code: str) -> Line:
        """One line by its 5-digit code (KeyError when the statement has no such line)."""
        if not self._lines_by_code:
            self._lines_by_code.update({line.code: line for line in self.lines})
        return self._lines_by_code[code]

    def covers(self, account: str) -> bool:
        """Whether the account's group belongs to this statement (P&L: groups 6 and 7)."""
        return account[:1] in self.account_groups

    def rules_for(self, account: str) -> tuple[Rule, ...]:
        """Every rule whose prefix starts the account code (one, or a D+/C+ pair when the layout is sound)."""
        known = self._memo.get(account)
        if known is not None:
            return known
        found: list[Rule] = list(self._by_prefix.get("=" + account, ()))
        for size in range(1, len(account) + 1):
            found.extend(self._by_prefix.get(account[:size], ()))
        if len(self._memo) < 100_000:  # account codes of the companies served: bounded in practice
            self._memo[account] = tuple(found)
        return tuple(found)

    def contributions(self, account: str, balance: Decimal) -> list[tuple[str, Decimal]]:
        """(line code, amount) the account adds to its line(s), given its balance debit − credit."""
        if not self.covers(account):
            return []
        return [(rule.line_code, contribution(rule.sign_rule, balance)) for rule in self.rules_for(account)]

    def lines_of_account(self, account: str, balance: Decimal | None = None) -> list[str]:
        """The line code(s) an account feeds; with a balance, only the side of a two-sided account it lands on."""
        codes = []
        for rule in self.rules_for(account) if self.covers(account) else ():
            if balance is None or rule.sign_rule not in TWO_SIDED or contribution(rule.sign_rule, balance) != 0:
                codes.append(rule.line_code)
        return codes

    def evaluate(self, balances: Iterable[tuple[str, Decimal]]) -> tuple[dict[str, Decimal], list[str]]:
        """Amount of every line from (account, debit − credit) pairs, subtotals resolved; and unmapped accounts.

        An account of a covered group with a non-zero balance and no line is returned in the second list (it
        would otherwise vanish from the statement and break the balance check).
        """
        amounts = {line.code: ZERO for line in self.lines}
        unmapped = []
        for account, balance in balances:
            if not self.covers(account):
                continue
            found = self.contributions(account, balance)
            if not found and balance != 0:
                unmapped.append(account)
            for code, amount in found:
                amounts[code] += amount
        for line in self.lines:
            if line.kind == "total":
                amounts[line.code] = self._total(line.code, amounts, set())
        return amounts, sorted(unmapped)

    def _total(self, code: str, amounts: Mapping[str, Decimal], seen: set[str]) -> Decimal:
        line = self.line(code)
        if line.kind != "total":
            return amounts[code]
        if code in seen:
            raise LayoutError(f"{self.statement}: subtotal circular en {code}")
        return sum((self._total(term, amounts, seen | {code}) for term in line.terms), ZERO)


def contribution(sign_rule: str, balance: Decimal) -> Decimal:
    """What an account with balance ``balance`` (debit − credit) adds to a line under ``sign_rule``."""
    if sign_rule == "D":
        return balance
    if sign_rule in ("C", "PL"):
        return -balance
    if sign_rule == "D+":
        return balance if balance > 0 else ZERO
    if sign_rule == "C+":
        return -balance if balance < 0 else ZERO
    raise LayoutError(f"Regla de signo desconocida: {sign_rule}")


def _read(name: str) -> list[dict[str, str]]:
    with (HERE / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _build(head: dict[str, str], rows: list[dict[str, str]]) -> Layout:
    """One statement from its rows: lines in first-appearance order, rules, parents and depths."""
    statement = head["statement"]
    labels: dict[str, str] = {}
    kinds: dict[str, str] = {}
    terms: dict[str, tuple[str, ...]] = {}
    rules: list[Rule] = []
    for row in rows:
        code, rule = row["line_code"], row["sign_rule"]
        labels.setdefault(code, row["line_label"])
        if rule == "SUM":
            kind = "total"
            terms[code] = tuple(row["account_prefixes"].split("+"))
        elif rule.startswith("RECLASS"):
            kind = "conditional"
        elif rule in ACCOUNT_RULES:
            kind = "accounts"
            for raw in filter(None, row["account_prefixes"].split(";")):
                contra = raw.startswith("(") and raw.endswith(")")
                prefix = raw.strip("()")
                if not prefix.removeprefix("=").isdigit():
                    raise LayoutError(f"{statement} {code}: prefijo no válido {raw!r}")
                rules.append(Rule(code, prefix, rule, contra))
        else:
            raise LayoutError(f"{statement} {code}: regla de signo desconocida {rule!r}")
        if kinds.setdefault(code, kind) != kind:
            raise LayoutError(f"{statement} {code}: mezcla subtotal y cuentas")
    parents: dict[str, str] = {}
    for total, parts in terms.items():
        for part in parts:
            if part not in labels:
                raise LayoutError(f"{statement} {total}: suma una línea inexistente {part}")
            if part in parents:
                raise LayoutError(f"{statement} {part}: está en dos subtotales ({parents[part]} y {total})")
            parents[part] = total

    def depth(code: str) -> int:
        return 0 if code not in parents else 1 + depth(parents[code])

    lines = tuple(
        Line(code, labels[code], kinds[code], terms.get(code, ()), parents.get(code), depth(code), order)
        for order, code in enumerate(labels)
    )
    by_prefix: dict[str, list[Rule]] = {}
    for rule in rules:
        by_prefix.setdefault(rule.prefix, []).append(rule)
    return Layout(
        statement=statement,
        kind=head["kind"],
        model=head["model"],
        title=head["title"],
        account_groups=head["account_groups"],
        lines=lines,
        rules=tuple(rules),
        _by_prefix={prefix: tuple(found) for prefix, found in by_prefix.items()},
    )


@cache
def all_layouts() -> dict[str, Layout]:
    """Every statement layout by its statement id, read once from ``reports/layouts/``."""
    rows = _read("pgc.csv")
    layouts = {}
    for head in _read("statements.csv"):
        mine = [row for row in rows if row["statement"] == head["statement"]]
        if not mine:
            raise LayoutError(f"{head['statement']}: sin líneas")
        layouts[head["statement"]] = _build(head, mine)
    unknown = {row["statement"] for row in rows} - set(layouts)
    if unknown:
        raise LayoutError(f"Estados sin declarar en statements.csv: {sorted(unknown)}")
    return layouts


def layout(kind: str, model: str) -> Layout:
    """The layout of a statement kind ('balance' or 'pyg') for a PGC model ('pymes' or 'abreviado')."""
    for found in all_layouts().values():
        if found.kind == kind and found.model == model:
            return found
    raise LayoutError(f"No hay modelo de {kind} para el plan {model!r}")


def check_account(found: Layout, account: str) -> str | None:
    """Why an account does not map to exactly one line of the statement (None when it does or is out of it)."""
    if not found.covers(account):
        return None
    rules = found.rules_for(account)
    signs = sorted(rule.sign_rule for rule in rules)
    if len(rules) == 1 and signs[0] not in TWO_SIDED:
        return None
    if signs == ["C+", "D+"]:
        return None
    if not rules:
        return f"{found.statement}: la cuenta {account} no está en ninguna línea"
    where = ", ".join(f"{rule.line_code} ({rule.prefix} {rule.sign_rule})" for rule in rules)
    return f"{found.statement}: la cuenta {account} está en varias líneas: {where}"


def check_chart(accounts: Iterable[str]) -> list[str]:
    """Every problem of every layout over a list of account codes (empty when each maps to exactly one line)."""
    problems = []
    for found in all_layouts().values():
        for account in accounts:
            problem = check_account(found, account)
            if problem:
                problems.append(problem)
    return problems
