"""The vocabulary the demo companies are written in: dataclasses, identifiers and money helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from schwifty import IBAN
from stdnum.es import cif as es_cif
from stdnum.es import dni as es_dni
from stdnum.es import nie as es_nie

ALL_MONTHS = tuple(range(1, 13))
FIRST_YEAR = 2023


def cents(euros: str) -> int:
    """'1234.56' → 123456 (exact)."""
    return int((Decimal(euros) * 100).to_integral_value(ROUND_HALF_UP))


def pct(amount: int, rate: Decimal | int) -> int:
    """``rate`` per cent of an amount in cents, rounded half up to the cent."""
    return int((Decimal(amount) * Decimal(rate) / 100).to_integral_value(ROUND_HALF_UP))


def cif(letter: str, number: str) -> str:
    """An entity NIF (letter + 7 digits) with its control digit."""
    return f"{letter}{number}{es_cif.calc_check_digits(letter + number)[0]}"


def dni(number: str) -> str:
    """A person's NIF (8 digits) with its control letter."""
    return number + es_dni.calc_check_digit(number)


def nie(number: str) -> str:
    """A foreigner's NIE (X/Y/Z + 7 digits) with its control letter."""
    return number + es_nie.calc_check_digit(number)


def iban(bank: str, branch: str, account: str) -> str:
    """A Spanish IBAN (compact) with both the CCC and the IBAN check digits computed."""
    return IBAN.generate("ES", bank_code=bank, branch_code=branch, account_code=account).compact


def naf(province: str, number: str) -> str:
    """A Social Security number (NAF): province, 8 digits and the mod-97 control."""
    body = province + number
    return f"{body}{int(body) % 97:02d}"


def month_end(year: int, month: int) -> date:
    """Last day of a month."""
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def working_day(day: date) -> date:
    """The day itself or the next Monday when it falls on a weekend."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def working_day_before(day: date) -> date:
    """The day itself or the Friday before when it falls on a weekend."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class Bank:
    """A bank account of the company and the ledger sub-account it is booked to."""

    account: str
    iban: str
    name: str
    target: int | None = None  # monthly top-up from the main account up to this balance (cents)


@dataclass(frozen=True)
class Party:
    """A customer (430…), supplier (400…) or creditor (410…) and how it pays or is paid."""

    account: str
    name: str
    nif: str
    days: int = 30
    method: str = "transferencia"  # transferencia | domiciliacion | recibo | pagare | confirming
    late: int = 0  # at most this many days late (transfers only)
    weight: int = 1
    withholds: bool = False  # the customer withholds 15 % IRPF on our invoices
    bank: str = ""  # our bank account used; empty = the main one
    defaults_from: date | None = None  # from this date its invoices are never collected
    returns: bool = False  # some of its direct debits are returned


@dataclass(frozen=True)
class Sales:
    """A line of business invoiced to customers."""

    account: str
    vat: Decimal
    per_month: tuple[int, int]
    amount: tuple[int, int]  # base in cents
    label: str
    series: str = "A"


@dataclass(frozen=True)
class Expense:
    """A recurring purchase or expense: who, which account, VAT, withholding, how often and how paid."""

    party: Party | None
    account: str
    vat: Decimal
    amount: tuple[int, int]
    label: str
    per_month: tuple[int, int] = (1, 1)
    day: int = 0  # fixed day of the month; 0 = any working day
    months: tuple[int, ...] = ALL_MONTHS
    withholding: Decimal = Decimal(0)
    withholding_account: str = "4751000"
    paid_from: str = ""  # bank sub-account or 5700000 (cash); empty = main bank
    direct: bool = False  # paid on the spot (no supplier account)
    n43: str = "03"


@dataclass(frozen=True)
class Employee:
    """An employee: identity, contract and pay."""

    nif: str
    naf: str
    name: str
    start: date
    contract: str
    category: str
    group: int
    salary: int  # annual gross (14 payments) in the first year, cents
    irpf: Decimal
    jornada: int = 100
    end: date | None = None
    planned_end: date | None = None
    reason: str = ""  # motivo de la baja


@dataclass(frozen=True)
class Asset:
    """A fixed asset: cost, depreciation and, when bought in the demo period, who sold it."""

    account: str
    amort_account: str
    label: str
    cost: int
    acquired: date
    life_years: int
    supplier: Party | None = None
    paid_from: str = ""


@dataclass(frozen=True)
class Loan:
    """A bank loan repaid monthly (French method)."""

    long_account: str
    short_account: str
    bank: str
    principal: int
    start: date
    months: int
    rate: Decimal  # annual %
    label: str


@dataclass(frozen=True)
class Restaurant:
    """Daily counter sales: takings range, share paid by card and the card fee."""

    daily: tuple[int, int]
    card_share: Decimal
    card_fee: Decimal
    closed_weekday: int = 0
    cash_float: int = 30000


@dataclass(frozen=True)
class Company:
    """One client company of the firm, as data."""

    code: str
    name: str
    nif: str
    form: str  # SL, SA or autonomo
    activity: str
    address: str
    model: str
    journal_format: str
    banks: tuple[Bank, ...]
    opening: dict[str, int]
    customers: tuple[Party, ...] = ()
    sales: tuple[Sales, ...] = ()
    expenses: tuple[Expense, ...] = ()
    employees: tuple[Employee, ...] = ()
    assets: tuple[Asset, ...] = ()
    loans: tuple[Loan, ...] = ()
    restaurant: Restaurant | None = None
    closing_stock: dict[int, int] = field(default_factory=dict)
    tax_rate: Decimal | None = Decimal(25)
    prior_tax: tuple[int, int] = (0, 0)  # corporate tax of the two years before the demo
    dividend_share: Decimal = Decimal(0)  # share of the profit paid out as dividends
    growth: dict[int, Decimal] = field(default_factory=dict)
    seasonality: tuple[Decimal, ...] = (Decimal(1),) * 12
    owner_draw: int = 0
    reta: int = 0
    tax_payment: str = "ingreso"  # ingreso | domiciliacion
    with_chart: bool = False
    firm_fee: int = 15000  # monthly retainer charged by the firm, cents
    at_rate: Decimal = Decimal("1.50")  # accident insurance (AT/EP) employer rate
    shares: int = 100000  # share capital, cents (for the legal reserve limit)

    @property
    def main_bank(self) -> str:
        """The ledger account of the main bank."""
        return self.banks[0].account

    @property
    def is_person(self) -> bool:
        """A self-employed person (no corporate tax, owner's account 550)."""
        return self.form == "autonomo"
