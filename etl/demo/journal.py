"""Posting logic: simulates a company's bookkeeping day by day and keeps what the other modules export."""

from __future__ import annotations

import heapq
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from random import Random

from etl.demo import rates
from etl.demo.companies import DIVIDEND_PAYEE, FIRM_PARTY
from etl.demo.firm import VAT_RATE, FirmInvoice, active
from etl.demo.ledger import Ledger
from etl.demo.model import (
    FIRST_YEAR,
    Asset,
    Company,
    Employee,
    Expense,
    Loan,
    Party,
    Sales,
    cif,
    month_end,
    pct,
    working_day,
    working_day_before,
)
from etl.demo.taxes import Filing, deadline, filing_day, receipt_number, result_type, secure_code

# Priorities of the events of one day: opening first, then operations, payroll, year-end adjustments, closing.
P_OPEN, P_ADMIN, P_TRANSFER, P_OPS, P_PAYROLL, P_PAY, P_ADJUST, P_VAT, P_TAX, P_REG, P_CLOSE = range(11)

# Companies whose VAT return of one quarter deliberately leaves out the last sales invoice (see docs/sources.md).
VAT_ANOMALY = {"norte": (2024, 3)}
CONSUMERS = "VENTAS A CONSUMIDOR FINAL"  # the AEAT's name for simplified invoices with no recipient
RETURN_FEE = 450  # bank fee for a returned direct debit, cents
SALES_VAT = "4770000"
INPUT_VAT = "4720000"
VAT_RATES_BOXES = ((Decimal(4), "01", "03"), (Decimal(10), "04", "06"), (Decimal(21), "07", "09"))
ANNUAL_VAT_BOXES = ((Decimal(4), "01", "02"), (Decimal(10), "03", "04"), (Decimal(21), "05", "06"))


@dataclass
class Efecto:
    """A receivable or payable item of the cartera de efectos."""

    number: str
    kind: str  # cobro | pago
    party: Party
    document: str
    issued: date
    due: date
    amount: int
    method: str
    settled: date | None = None
    returned: date | None = None
    remittance: date | None = None
    defaulted: bool = False

    def state(self, until: date) -> str:
        """pendiente / remesado / cobrado / pagado / impagado / devuelto at the cut-off date."""
        if self.settled is not None:
            return "cobrado" if self.kind == "cobro" else "pagado"
        if self.defaulted:
            return "impagado"
        if self.returned is not None:
            return "devuelto"
        if self.remittance is not None and self.remittance <= until:
            return "remesado"
        return "pendiente"


@dataclass(frozen=True)
class Payslip:
    """One employee's payroll of one month (cents)."""

    year: int
    month: int
    employee: Employee
    days: int
    gross: int
    base: int
    ss_worker: int
    irpf_rate: Decimal
    irpf: int
    other: int
    ss_employer: int

    @property
    def net(self) -> int:
        """Líquido: gross − worker SS − IRPF − other deductions."""
        return self.gross - self.ss_worker - self.irpf - self.other

    @property
    def cost(self) -> int:
        """Coste empresa: gross + employer SS."""
        return self.gross + self.ss_employer


@dataclass
class VatBook:
    """VAT of one quarter as booked: output by rate, deductible current and capital goods."""

    output: dict[Decimal, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    current: list[int] = field(default_factory=lambda: [0, 0])
    capital: list[int] = field(default_factory=lambda: [0, 0])
    last_sale: tuple[Decimal, int, int, str] | None = None


@dataclass(frozen=True)
class BookedInvoice:
    """An invoice with VAT as booked, for the VAT record books (etl/demo/vat_books.py)."""

    book: str  # issued | received
    day: date
    number: str
    nif: str  # empty for a daily summary of tickets (no recipient)
    name: str
    base: int
    rate: Decimal
    vat: int
    withheld: int = 0
    capital: bool = False  # a capital good (bien de inversión)
    kind: str = "F1"  # F1 invoice; F4 a day's summary of simplified invoices (tickets)


@dataclass
class Withholdings:
    """Withholdings of one quarter for the 111 (work, professionals) and the 115 (rents)."""

    workers: set[str] = field(default_factory=set)
    work: list[int] = field(default_factory=lambda: [0, 0])
    professionals: set[str] = field(default_factory=set)
    fees: list[int] = field(default_factory=lambda: [0, 0])
    landlords: set[str] = field(default_factory=set)
    rents: list[int] = field(default_factory=lambda: [0, 0])


@dataclass
class Books:
    """Everything the simulation of one company produced."""

    company: Company
    until: date
    ledger: Ledger
    efectos: list[Efecto]
    payslips: list[Payslip]
    filings: list[Filing]
    firm_invoices: list[FirmInvoice]
    omitted_invoice: str | None
    sick_leaves: list[tuple[Employee, str, date, date | None]]
    invoices: list[BookedInvoice] = field(default_factory=list)  # every invoice with VAT, in booking order


class Simulator:
    """Books one company from 1 January 2023 to ``until`` through a queue of dated events."""

    def __init__(self, company: Company, until: date, seed: int, firm_invoices: list[FirmInvoice]) -> None:
        self.c = company
        self.until = until
        self.rng = Random(f"{seed}:{company.code}")
        self.ledger = Ledger()
        self.queue: list[tuple[date, int, int, Callable[..., None], tuple]] = []
        self.seq = 0
        self.efectos: list[Efecto] = []
        self.payslips: list[Payslip] = []
        self.filings: list[Filing] = []
        self.firm_invoices = [i for i in firm_invoices if i.day <= until]
        self.vat: dict[tuple[int, int], VatBook] = defaultdict(VatBook)
        self.withholdings: dict[tuple[int, int], Withholdings] = defaultdict(Withholdings)
        self.withheld_by_clients: dict[int, int] = defaultdict(int)
        self.instalments_130: dict[int, int] = defaultdict(int)
        self.vat_carry = 0
        self.tax_of: dict[int, int] = {FIRST_YEAR - 2: company.prior_tax[0], FIRST_YEAR - 1: company.prior_tax[1]}
        self.counters: dict[str, int] = defaultdict(int)
        self.advances: dict[str, int] = defaultdict(int)
        self.depreciated: dict[int, int] = {}
        self.omitted: str | None = None
        self.prepared: list[Filing] = []
        self.invoices: list[BookedInvoice] = []
        self.tax_figures: dict[int, tuple[int, int, int]] = {}
        self._today = date(FIRST_YEAR, 1, 1)
        self.customer_weights = [p.weight for p in company.customers]

    # --- the event queue ---------------------------------------------------------------------------------------

    def at(self, day: date, priority: int, action: Callable[..., None], *args: object) -> None:
        """Schedule an action; actions after the cut-off date never happen."""
        if day <= self.until:
            self.seq += 1
            heapq.heappush(self.queue, (day, priority, self.seq, action, args))

    def run(self) -> Books:
        """Run every event up to the cut-off date and return the books."""
        self.at(date(FIRST_YEAR, 1, 1), P_OPEN, self.first_opening)
        self.at(date(FIRST_YEAR, 1, 1), P_ADMIN, self.month, FIRST_YEAR, 1)
        for invoice in self.firm_invoices:
            self.at(invoice.day, P_OPS, self.firm_invoice, invoice)
        for asset in self.c.assets:
            if asset.supplier is not None:
                self.at(asset.acquired, P_OPS, self.buy_asset, asset)
        while self.queue:
            self._today, _, _, action, args = heapq.heappop(self.queue)
            action(*args)
        self.ledger.number_entries()
        return Books(
            self.c,
            self.until,
            self.ledger,
            self.efectos,
            self.payslips,
            self.filings,
            self.firm_invoices,
            self.omitted,
            self.sick_leaves(),
            self.invoices,
        )

    def post(self, day: date, concept: str, *moves: tuple, n43: str = "99") -> None:
        """Post a normal entry."""
        self.ledger.post(day, concept, *moves, n43=n43)

    def bank(self, account: str = "") -> str:
        """A bank sub-account, the main one by default."""
        return account or self.c.main_bank

    # --- opening -----------------------------------------------------------------------------------------------

    def first_opening(self) -> None:
        """Opening entry of 2023: declared balances, fixed assets, loans, open items of December 2022."""
        day = date(FIRST_YEAR, 1, 1)
        balances: dict[str, int] = defaultdict(int, self.c.opening)
        for index, asset in enumerate(self.c.assets):
            if asset.supplier is None:
                balances[asset.account] += asset.cost
                self.depreciated[index] = depreciation_until(asset, date(FIRST_YEAR - 1, 12, 31))
                balances[asset.amort_account] -= self.depreciated[index]
        for loan in self.c.loans:
            long_part, short_part = loan_split(loan, date(FIRST_YEAR - 1, 12, 31))
            balances[loan.long_account] -= long_part
            balances[loan.short_account] -= short_part
            for pay_day, principal, interest in loan_schedule(loan):
                if pay_day >= day:
                    self.at(pay_day, P_OPS, self.loan_payment, loan, pay_day, principal, interest)
        for account, amount in self.opening_items(day).items():
            balances[account] += amount
        equity = "1020000" if self.c.is_person else "1130000"
        balances[equity] -= sum(balances.values())
        self.ledger.open(day, sorted((a, b) for a, b in balances.items() if b != 0))
        self.settle_opening_liabilities()

    def opening_items(self, day: date) -> dict[str, int]:
        """Invoices of December 2022 still open on 1 January 2023 (customers, suppliers and creditors)."""
        totals: dict[str, int] = defaultdict(int)
        for customer in self.c.customers[: max(3, len(self.c.customers) * 2 // 3)]:
            if customer.defaults_from is not None or customer.days == 0:
                continue
            issued = day - timedelta(days=self.rng.randint(3, min(customer.days, 28)))
            amount = self.rng.randint(*self.c.sales[0].amount) * 121 // 100 if self.c.sales else 0
            if amount:
                self.counters["opening"] += 1
                number = f"{self.c.sales[0].series}-2022/{9000 + self.counters['opening']}"
                self.receivable(issued, customer, number, amount)
                totals[customer.account] += amount
        for expense in self.c.expenses:
            party = expense.party
            if party is None or party.days < 20 or party.account in totals:
                continue
            issued = day - timedelta(days=self.rng.randint(2, 15))
            base = self.rng.randint(*expense.amount)
            amount = base + pct(base, expense.vat) - pct(base, expense.withholding)
            number = f"{party.account[-2:]}-22/{self.rng.randint(1000, 9999)}"
            self.payable(issued, party, number, amount, self.bank(expense.paid_from or party.bank), "04")
            totals[party.account] -= amount
        return totals

    def settle_opening_liabilities(self) -> None:
        """Tax and Social Security debts of 2022 are paid in January (and the corporate tax in July) 2023."""
        payments = (
            ("4751000", date(FIRST_YEAR, 1, 20), "Pago retenciones 4T 2022 (modelo 111)"),
            ("4751100", date(FIRST_YEAR, 1, 20), "Pago retenciones alquileres 4T 2022 (modelo 115)"),
            ("4750000", date(FIRST_YEAR, 1, 30), "Pago IVA 4T 2022 (modelo 303)"),
            ("4760000", date(FIRST_YEAR, 1, 31), "Seguros sociales 12/2022"),
            ("4752000", date(FIRST_YEAR, 7, 25), "Pago Impuesto sobre Sociedades 2022 (modelo 200)"),
        )
        for account, day, concept in payments:
            amount = -self.c.opening.get(account, 0)
            if amount:
                n43 = "15" if account == "4760000" else "99"
                self.at(working_day(day), P_OPS, self.pay_debt_from, account, amount, concept, self.bank(), n43)
        if self.c.opening.get("1290000"):
            self.at(date(FIRST_YEAR, 6, 30), P_OPS, self.distribute, FIRST_YEAR - 1)

    @property
    def today(self) -> date:
        """The date of the event being processed."""
        return self._today

    # --- the month -----------------------------------------------------------------------------------------------

    def month(self, year: int, month: int) -> None:
        """Plan a month: invoices, expenses, payroll, depreciation, transfers and tax events."""
        factor = self.c.growth.get(year, Decimal(1)) * self.c.seasonality[month - 1]
        last = month_end(year, month)
        for sales in self.c.sales:
            for _ in range(scaled(self.rng.randint(*sales.per_month), factor)):
                self.at(self.random_day(year, month), P_OPS, self.sale, sales)
        if self.c.restaurant:
            for day in days_of(year, month):
                if day.weekday() != self.c.restaurant.closed_weekday:
                    self.at(day, P_OPS, self.restaurant_day, day, factor)
        for expense in self.c.expenses:
            if month in expense.months:
                count = self.rng.randint(*expense.per_month)
                if expense.per_month[0] != expense.per_month[1]:
                    count = scaled(count, self.c.seasonality[month - 1])
                for _ in range(count):
                    day = date(year, month, min(expense.day, last.day)) if expense.day else self.random_day(year, month)
                    self.at(day, P_OPS, self.expense, expense)
        self.at(date(year, month, 1), P_TRANSFER, self.top_up)
        if self.c.employees:
            if self.rng.random() < 0.25:
                self.at(working_day(date(year, month, 14)), P_OPS, self.advance, year, month)
            self.at(last, P_PAYROLL, self.payroll, year, month)
        self.at(last, P_PAYROLL, self.depreciate, year, month)
        if self.c.is_person:
            self.at(working_day(date(year, month, 5)), P_OPS, self.owner_draw)
            self.at(working_day_before(last), P_OPS, self.reta, year, month)
        if month in (4, 10, 12) and not self.c.is_person:
            self.instalment_202(year, {4: "1P", 10: "2P", 12: "3P"}[month])
        if month == 7 and not self.c.is_person and year > FIRST_YEAR and self.closed(year - 1):
            self.return_200(year - 1)
        if month == 6 and not self.c.is_person and year > FIRST_YEAR and self.closed(year - 1):
            self.at(date(year, 6, 30), P_OPS, self.distribute, year - 1)
        if month % 3 == 0:
            self.at(last, P_VAT, self.quarter, year, month // 3)
        if month == 12 and self.closed(year):
            self.plan_year_end(year)
        nxt = (year + 1, 1) if month == 12 else (year, month + 1)
        self.at(date(nxt[0], nxt[1], 1), P_ADMIN, self.month, *nxt)

    def closed(self, year: int) -> bool:
        """A fiscal year is closed when the cut-off date is past its last day."""
        return date(year, 12, 31) < self.until

    def random_day(self, year: int, month: int) -> date:
        """A random working day of a month."""
        return self.rng.choice([d for d in days_of(year, month) if d.weekday() < 5])

    def amount(self, bounds: tuple[int, int]) -> int:
        """A random amount in cents within bounds."""
        return self.rng.randint(*bounds)

    # --- sales and purchases ---------------------------------------------------------------------------------------

    def next_number(self, series: str, year: int) -> str:
        """Next invoice number of a series in a year."""
        key = f"{series}{year}"
        self.counters[key] += 1
        return f"{series}-{year}/{self.counters[key]:04d}"

    def sale(self, sales: Sales) -> None:
        """An invoice to a customer (430 / 700-705 / 477, 473 when the customer withholds IRPF)."""
        day = self.today
        weights = [0 if lost(p, day) else w for p, w in zip(self.c.customers, self.customer_weights, strict=True)]
        customer = self.rng.choices(self.c.customers, weights=weights)[0]
        base = self.amount(sales.amount)
        vat = pct(base, sales.vat)
        withheld = pct(base, 15) if customer.withholds else 0
        total = base + vat - withheld
        number = self.next_number(sales.series, day.year)
        self.post(
            day,
            f"Fra. {number} {customer.name}",
            (customer.account, total),
            ("4730000", withheld),
            (sales.account, -base),
            (SALES_VAT, -vat),
        )
        book = self.vat_book(day)
        book.output[sales.vat][0] += base
        book.output[sales.vat][1] += vat
        book.last_sale = (sales.vat, base, vat, number)
        self.invoices.append(
            BookedInvoice("issued", day, number, customer.nif, customer.name, base, sales.vat, vat, withheld)
        )
        self.withheld_by_clients[day.year] += withheld
        self.receivable(day, customer, number, total)

    def receivable(self, day: date, customer: Party, document: str, amount: int) -> None:
        """Open a receivable and schedule its collection (or its return, or nothing for a defaulter)."""
        due = day + timedelta(days=customer.days)
        self.counters["efecto"] += 1
        item = Efecto(f"C{self.counters['efecto']:06d}", "cobro", customer, document, day, due, amount, customer.method)
        self.efectos.append(item)
        if customer.defaults_from is not None and day >= customer.defaults_from:
            item.defaulted = True
            return
        bank = self.bank(customer.bank)
        if customer.method == "domiciliacion":
            item.remittance = working_day_before(due - timedelta(days=5))
            collect_day = working_day(due)
            self.at(collect_day, P_OPS, self.collect, item, bank, "06")
            if customer.returns and self.rng.random() < 0.12:
                self.at(collect_day + timedelta(days=3), P_OPS, self.return_debit, item, bank)
                later = working_day(collect_day + timedelta(days=self.rng.randint(15, 40)))
                self.at(later, P_OPS, self.collect, item, bank, "02")
        else:
            collect_day = working_day(due + timedelta(days=self.rng.randint(0, customer.late)))
            self.at(collect_day, P_OPS, self.collect, item, bank, "02")

    def collect(self, item: Efecto, bank: str, n43: str) -> None:
        """Collection of a receivable through the bank."""
        what = "Cobro remesa" if n43 == "06" else "Cobro"
        self.post(
            self.today,
            f"{what} fra. {item.document} {item.party.name}",
            (bank, item.amount),
            (item.party.account, -item.amount),
            n43=n43,
        )
        item.settled = self.today

    def return_debit(self, item: Efecto, bank: str) -> None:
        """The customer's bank returns a direct debit: the receivable is open again, plus a fee."""
        self.post(
            self.today,
            f"Devolución recibo fra. {item.document} {item.party.name}",
            (item.party.account, item.amount),
            (bank, -item.amount),
            n43="14",
        )
        self.post(self.today, "Comisión devolución de recibo", ("6260000", RETURN_FEE), (bank, -RETURN_FEE), n43="17")
        item.settled = None
        item.returned = self.today

    def expense(self, expense: Expense) -> None:
        """A purchase or expense invoice (6xx / 472 / 400-410, withholding 4751 when due) or a direct payment."""
        day = self.today
        base = self.amount(expense.amount)
        if expense.amount[0] != expense.amount[1]:
            base = scaled(base, self.c.growth.get(day.year, Decimal(1)))
        if base == 0:
            return
        vat = pct(base, expense.vat)
        withheld = pct(base, expense.withholding)
        total = base + vat - withheld
        if vat:
            self.vat_book(day).current[0] += base
            self.vat_book(day).current[1] += vat
        if expense.direct or expense.party is None:
            moves = ((expense.account, base), (INPUT_VAT, vat), (self.bank(expense.paid_from), -total))
            self.post(day, f"{expense.label} {day:%d/%m/%Y}", *moves, n43=expense.n43)
            if vat:
                self.counters["ticket"] += 1
                nif, name = ticket_issuer(expense)
                number = f"T{day:%y%m%d}-{self.counters['ticket']:05d}"
                self.invoices.append(BookedInvoice("received", day, number, nif, name, base, expense.vat, vat))
            return
        party = expense.party
        self.counters[party.account] += 1
        document = f"{party.account[-3:]}/{day:%y}-{self.counters[party.account]:04d}"
        self.post(
            day,
            f"Fra. {document} {party.name} – {expense.label}",
            (expense.account, base),
            (INPUT_VAT, vat),
            (expense.withholding_account, -withheld),
            (party.account, -total),
        )
        if withheld:
            self.record_withholding(day, expense.withholding_account, party.nif, base, withheld)
        if vat:
            self.invoices.append(
                BookedInvoice("received", day, document, party.nif, party.name, base, expense.vat, vat, withheld)
            )
        self.payable(day, party, document, total, self.bank(expense.paid_from or party.bank), expense.n43)

    def record_withholding(self, day: date, account: str, nif: str, base: int, withheld: int) -> None:
        """Keep a professional's or landlord's withholding for the 111 / 115."""
        book = self.withholdings[(day.year, quarter_of(day))]
        if account == "4751100":
            book.landlords.add(nif)
            book.rents[0] += base
            book.rents[1] += withheld
        else:
            book.professionals.add(nif)
            book.fees[0] += base
            book.fees[1] += withheld

    def payable(
        self, day: date, party: Party, document: str, amount: int, bank: str, n43: str, paid: date | None = None
    ) -> None:
        """Open a payable and schedule its payment."""
        due = day + timedelta(days=party.days)
        self.counters["efecto"] += 1
        item = Efecto(f"P{self.counters['efecto']:06d}", "pago", party, document, day, due, amount, party.method)
        self.efectos.append(item)
        if paid is None:
            late = self.rng.randint(0, 6) if party.method == "transferencia" else 0
            paid = working_day(due + timedelta(days=late))
        self.at(paid, P_OPS, self.pay, item, bank, n43)

    def pay(self, item: Efecto, bank: str, n43: str) -> None:
        """Payment of a payable through the bank."""
        what = "Recibo" if item.method == "domiciliacion" else "Pago"
        self.post(
            self.today,
            f"{what} fra. {item.document} {item.party.name}",
            (item.party.account, item.amount),
            (bank, -item.amount),
            n43=n43 if item.method == "transferencia" else "03",
        )
        item.settled = self.today

    def firm_invoice(self, invoice: FirmInvoice) -> None:
        """The firm's monthly invoice (623 / 472 / 4751 / 410) and its payment on the planned day."""
        day = self.today
        party = FIRM_PARTY
        self.post(
            day,
            f"Fra. {invoice.number} {party.name} – honorarios {day:%m/%Y}",
            ("6230000", invoice.base),
            (INPUT_VAT, invoice.vat),
            ("4751000", -invoice.irpf),
            (party.account, -invoice.total),
        )
        self.vat_book(day).current[0] += invoice.base
        self.vat_book(day).current[1] += invoice.vat
        self.record_withholding(day, "4751000", party.nif, invoice.base, invoice.irpf)
        received = BookedInvoice(
            "received", day, invoice.number, party.nif, party.name, invoice.base, VAT_RATE, invoice.vat, invoice.irpf
        )
        self.invoices.append(received)
        item = Efecto(invoice.number, "pago", party, invoice.number, day, invoice.due, invoice.total, invoice.method)
        self.efectos.append(item)
        self.at(invoice.paid, P_OPS, self.pay, item, self.bank(), "04")

    def buy_asset(self, asset: Asset) -> None:
        """Purchase of a fixed asset (2xx / 472 / 523) paid the same day."""
        assert asset.supplier is not None
        day = self.today
        vat = pct(asset.cost, 21)
        supplier = asset.supplier
        self.post(
            day,
            f"Fra. {supplier.name} – {asset.label}",
            (asset.account, asset.cost),
            (INPUT_VAT, vat),
            (supplier.account, -(asset.cost + vat)),
        )
        self.vat_book(day).capital[0] += asset.cost
        self.vat_book(day).capital[1] += vat
        self.counters[f"asset:{supplier.account}"] += (
            1  # its own counter: the supplier's expense numbers stay as they were
        )
        document = f"I{supplier.account[-3:]}/{day:%y}-{self.counters[f'asset:{supplier.account}']:04d}"
        self.invoices.append(
            BookedInvoice(
                "received", day, document, supplier.nif, supplier.name, asset.cost, Decimal(21), vat, capital=True
            )
        )
        self.post(
            day,
            f"Pago {asset.label} a {supplier.name}",
            (supplier.account, asset.cost + vat),
            (self.bank(asset.paid_from), -(asset.cost + vat)),
            n43="04",
        )

    # --- restaurant ---------------------------------------------------------------------------------------------

    def restaurant_day(self, day: date, factor: Decimal) -> None:
        """Counter sales of a day: cash (570) and card (572 net of the fee) at 10 % VAT; cash banked on Tuesdays."""
        r = self.c.restaurant
        assert r is not None
        if day.weekday() == 1:
            cash = self.ledger.balance("5700000") - r.cash_float
            cash -= cash % 5000
            if cash > 0:
                self.post(day, "Ingreso de efectivo en cuenta", (self.bank(), cash), ("5700000", -cash), n43="02")
        weekday_factor = (
            Decimal("0.8"),
            Decimal("0.8"),
            Decimal("0.85"),
            Decimal("0.95"),
            Decimal("1.3"),
            Decimal("1.45"),
            Decimal("1.2"),
        )
        takings = scaled(self.amount(r.daily), factor * weekday_factor[day.weekday()])
        card = int((Decimal(takings) * r.card_share).to_integral_value(ROUND_HALF_UP))
        book = self.vat_book(day)
        for part, label in ((takings - card, "contado"), (card, "con tarjeta (TPV)")):
            base = int((Decimal(part) * 100 / 110).to_integral_value(ROUND_HALF_UP))
            vat = part - base
            book.output[Decimal(10)][0] += base
            book.output[Decimal(10)][1] += vat
            if part:
                number = f"{'C' if label == 'contado' else 'T'}{day:%Y%m%d}"
                summary = BookedInvoice("issued", day, number, "", CONSUMERS, base, Decimal(10), vat, kind="F4")
                self.invoices.append(summary)
            concept = f"Ventas {label} {day:%d/%m/%Y}"
            if label == "contado":
                self.post(day, concept, ("5700000", part), ("7000000", -base), (SALES_VAT, -vat))
            else:
                fee = pct(part, r.card_fee)
                moves = ((self.bank(), part - fee), ("6260000", fee), ("7000000", -base), (SALES_VAT, -vat))
                self.post(day, concept, *moves, n43="12")

    # --- payroll ------------------------------------------------------------------------------------------------

    def advance(self, year: int, month: int) -> None:
        """An advance on the month's pay to one employee (460), recovered in the payroll."""
        people = [e for e in self.c.employees if active(e, year, month) and (e.end is None or e.end >= self.today)]
        if not people:
            return
        employee = self.rng.choice(people)
        amount = self.rng.choice((20000, 30000, 40000, 50000))
        self.post(
            self.today, f"Anticipo de nómina {employee.name}", ("4600000", amount), (self.bank(), -amount), n43="04"
        )
        self.advances[employee.nif] += amount

    def payroll(self, year: int, month: int) -> None:
        """The month's payroll entry (640 / 642 / 476 / 4751 / 460 / 465), the net pay and next month's SS payment."""
        slips = [self.payslip(e, year, month) for e in self.c.employees if active(e, year, month)]
        if not slips:
            return
        day = month_end(year, month)
        period = f"{month:02d}/{year}"
        ss = sum(s.ss_worker + s.ss_employer for s in slips)
        self.post(
            day,
            f"Nóminas {period}",
            *((("6400000", s.gross, f"Nómina {period} {s.employee.name.strip()}")) for s in slips),
            ("6420000", sum(s.ss_employer for s in slips), f"Seguridad Social empresa {period}"),
            ("4760000", -ss, f"Seguridad Social {period}"),
            ("4751000", -sum(s.irpf for s in slips), f"Retenciones IRPF nóminas {period}"),
            ("4600000", -sum(s.other for s in slips), f"Anticipos descontados {period}"),
            *((("4650000", -s.net, f"Líquido nómina {period} {s.employee.name.strip()}")) for s in slips),
        )
        self.payslips.extend(slips)
        book = self.withholdings[(year, quarter_of(day))]
        book.workers.update(s.employee.nif for s in slips)
        book.work[0] += sum(s.gross for s in slips)
        book.work[1] += sum(s.irpf for s in slips)
        net = sum(s.net for s in slips)
        payroll_bank = self.payroll_bank()
        self.at(day, P_PAY, self.pay_debt_from, "4650000", net, f"Pago nóminas {period}", payroll_bank, "15")
        ss_day = working_day_before(month_end(year + month // 12, month % 12 + 1))
        self.at(
            ss_day, P_OPS, self.pay_debt_from, "4760000", ss, f"Seguros sociales {period} (RLC)", payroll_bank, "15"
        )

    def payroll_bank(self) -> str:
        """Payroll and Social Security go through the second account when the company has a topped-up one."""
        topped = [b.account for b in self.c.banks if b.target and b.account != "5720003"]
        return topped[0] if topped else self.bank()

    def pay_debt_from(self, account: str, amount: int, concept: str, bank: str, n43: str) -> None:
        """Pay a liability (debit it) from a bank: payroll, Social Security, taxes, dividends."""
        self.post(self.today, concept, (account, amount), (bank, -amount), n43=n43)

    def payslip(self, employee: Employee, year: int, month: int) -> Payslip:
        """One employee's pay of one month (14 payments: double pay in June and December)."""
        days = days_worked(employee, year, month)
        annual = salary_of(employee, year) * employee.jornada // 100
        monthly = annual // 14
        gross = monthly * (2 if month in (6, 12) else 1) * days // 30
        limit_low = rates.of_year(rates.SS_MIN_BASE, year) * employee.jornada // 100 * days // 30
        base = min(max(annual // 12 * days // 30, limit_low), rates.of_year(rates.SS_MAX_BASE, year))
        kind = "temporal" if employee.contract in rates.TEMPORARY_CONTRACTS else "indefinido"
        mei = rates.of_year(rates.SS_MEI, year)
        unemployment = rates.SS_UNEMPLOYMENT[kind]
        worker_rate = rates.SS_COMMON["worker"] + unemployment["worker"] + rates.SS_TRAINING["worker"] + mei["worker"]
        employer_rate = (
            rates.SS_COMMON["employer"]
            + unemployment["employer"]
            + rates.SS_FOGASA
            + rates.SS_TRAINING["employer"]
            + mei["employer"]
            + self.c.at_rate
        )
        other = self.advances.pop(employee.nif, 0)
        return Payslip(
            year=year,
            month=month,
            employee=employee,
            days=days,
            gross=gross,
            base=base,
            ss_worker=pct(base, worker_rate),
            irpf_rate=employee.irpf,
            irpf=pct(gross, employee.irpf),
            other=other,
            ss_employer=pct(base, employer_rate),
        )

    # --- fixed assets, loans, transfers, owner --------------------------------------------------------------------

    def depreciate(self, year: int, month: int) -> None:
        """Monthly depreciation (681 / 680 against 281 / 280) of every asset in service."""
        last = month_end(year, month)
        moves: dict[str, int] = defaultdict(int)
        for index, asset in enumerate(self.c.assets):
            if asset.acquired > last:
                continue
            done = self.depreciated.get(index, 0)
            amount = min(monthly_depreciation(asset), asset.cost - done)
            if amount <= 0:
                continue
            self.depreciated[index] = done + amount
            moves["6800000" if asset.account.startswith("20") else "6810000"] += amount
            moves[asset.amort_account] -= amount
        self.post(last, f"Amortización del inmovilizado {month:02d}/{year}", *sorted(moves.items()))

    def loan_payment(self, loan: Loan, day: date, principal: int, interest: int) -> None:
        """A monthly loan instalment: principal from 520, interest to 662."""
        self.post(
            day,
            f"Cuota {loan.label} {day:%m/%Y}",
            (loan.short_account, principal),
            ("6620000", interest),
            (loan.bank, -(principal + interest)),
            n43="05",
        )

    def top_up(self) -> None:
        """Transfers from the main account to the accounts kept at a target balance."""
        for bank in self.c.banks[1:]:
            if bank.target is None:
                continue
            missing = bank.target - self.ledger.balance(bank.account)
            if missing > 0:
                self.post(
                    self.today,
                    f"Traspaso desde {self.c.banks[0].name} a {bank.name}",
                    (bank.account, missing),
                    (self.bank(), -missing),
                    n43="04",
                )

    def owner_draw(self) -> None:
        """The self-employed owner's monthly withdrawal (550)."""
        amount = self.c.owner_draw
        self.post(
            self.today, "Disposición de fondos de la titular", ("5500000", amount), (self.bank(), -amount), n43="04"
        )

    def reta(self, year: int, month: int) -> None:
        """The owner's own Social Security contribution (RETA), charged by the TGSS."""
        amount = self.c.reta
        for y in range(FIRST_YEAR + 1, year + 1):
            amount = amount + pct(amount, rates.of_year(rates.RETA_RISE, y))
        self.post(self.today, f"Cuota RETA {month:02d}/{year}", ("6420000", amount), (self.bank(), -amount), n43="15")

    # --- taxes --------------------------------------------------------------------------------------------------

    def vat_book(self, day: date) -> VatBook:
        """The VAT book of the quarter of a date."""
        return self.vat[(day.year, quarter_of(day))]

    def quarter(self, year: int, quarter: int) -> None:
        """Quarter end: VAT settlement and return (303), withholding returns (111, 115), 130 and annual summaries."""
        self.vat_return(year, quarter)
        self.withholding_returns(year, quarter)
        if self.c.is_person:
            self.instalment_130(year, quarter)
        if quarter == 4:
            self.annual_returns(year)

    def vat_return(self, year: int, quarter: int) -> None:
        """Settle 477 against 472 (4750 to pay, 4700 to offset or refund) as filed in the 303."""
        book = self.vat[(year, quarter)]
        output = {rate: list(values) for rate, values in book.output.items()}
        if VAT_ANOMALY.get(self.c.code) == (year, quarter) and book.last_sale:
            rate, base, vat, number = book.last_sale
            output[rate][0] -= base
            output[rate][1] -= vat
            self.omitted = number
        c27 = sum(v[1] for v in output.values())
        c45 = book.current[1] + book.capital[1]
        c46 = c27 - c45
        c110 = self.vat_carry
        c78 = c110 if quarter == 4 else min(c110, max(c46, 0))
        c71 = c46 - c78
        self.vat_carry = 0 if quarter == 4 else c110 - c78 + max(-c71, 0)
        day = month_end(year, quarter * 3)
        period = f"{quarter}T"
        self.post(
            day,
            f"Liquidación IVA {period} {year}",
            (SALES_VAT, c27),
            (INPUT_VAT, -c45),
            ("4700000", max(-c71, 0) - c78),
            ("4750000", -max(c71, 0)),
        )
        boxes = []
        for rate, base_box, vat_box in VAT_RATES_BOXES:
            if rate in output:
                boxes += [(base_box, output[rate][0]), (vat_box, output[rate][1])]
        boxes += [("27", c27), ("28", book.current[0]), ("29", book.current[1])]
        if book.capital[0]:
            boxes += [("30", book.capital[0]), ("31", book.capital[1])]
        boxes += [("45", c45), ("46", c46), ("66", c46), ("110", c110), ("78", c78), ("87", c110 - c78)]
        boxes += [("69", c71), ("71", c71)]
        self.file("303", year, period, c71, boxes, "4750000", refund_account="4700000")

    def withholding_returns(self, year: int, quarter: int) -> None:
        """111 (work and professionals) and 115 (rents) of a quarter, paid on the deadline day."""
        book = self.withholdings[(year, quarter)]
        period = f"{quarter}T"
        total = book.work[1] + book.fees[1]
        if book.workers or book.professionals:
            boxes = [
                ("01", len(book.workers)),
                ("02", book.work[0]),
                ("03", book.work[1]),
                ("07", len(book.professionals)),
                ("08", book.fees[0]),
                ("09", book.fees[1]),
                ("28", total),
                ("30", total),
            ]
            self.file("111", year, period, total, boxes, "4751000", payment="ingreso")
        if book.landlords:
            boxes = [("01", len(book.landlords)), ("02", book.rents[0]), ("03", book.rents[1]), ("05", book.rents[1])]
            self.file("115", year, period, book.rents[1], boxes, "4751100", payment="ingreso")

    def instalment_130(self, year: int, quarter: int) -> None:
        """The self-employed owner's quarterly IRPF instalment (20 % of the year-to-date net income)."""
        income = -sum(b for a, b in self.ledger.group_balances("7"))
        expenses = sum(b for a, b in self.ledger.group_balances("6"))
        net = income - expenses
        c04 = pct(max(net, 0), 20)
        c05 = self.instalments_130[year]
        c06 = self.withheld_by_clients[year]
        c07 = c04 - c05 - c06
        boxes = [("01", income), ("02", expenses), ("03", net), ("04", c04), ("05", c05), ("06", c06), ("07", c07)]
        result = max(c07, 0)
        boxes.append(("19", result))
        self.instalments_130[year] += result
        self.file("130", year, f"{quarter}T", result, boxes, "4730000")

    def annual_returns(self, year: int) -> None:
        """390 (sum of the 303s), 190 (sum of the 111s) and 180 (sum of the 115s) of a year."""
        vat = [f for f in self.prepared if f.modelo == "303" and f.year == year]
        if len(vat) == 4:
            self.file("390", year, "0A", 0, annual_vat_boxes(vat), "", informative=True)
        books = [self.withholdings[(year, q)] for q in range(1, 5)]
        workers = set().union(*(b.workers for b in books)) | set().union(*(b.professionals for b in books))
        if workers:
            base = sum(b.work[0] + b.fees[0] for b in books)
            withheld = sum(b.work[1] + b.fees[1] for b in books)
            self.file(
                "190", year, "0A", 0, [("01", len(workers)), ("02", base), ("03", withheld)], "", informative=True
            )
        landlords = set().union(*(b.landlords for b in books))
        if landlords:
            boxes = [
                ("01", len(landlords)),
                ("02", sum(b.rents[0] for b in books)),
                ("03", sum(b.rents[1] for b in books)),
            ]
            self.file("180", year, "0A", 0, boxes, "", informative=True)

    def file(
        self,
        modelo: str,
        year: int,
        period: str,
        amount: int,
        boxes: list[tuple[str, int]],
        account: str,
        *,
        payment: str | None = None,
        refund_account: str = "",
        informative: bool = False,
    ) -> None:
        """Prepare a return: its filing day, receipt and the bank movement it causes."""
        last = deadline(modelo, year, period)
        kind = result_type(amount, period, payment or self.c.tax_payment, informative=informative)
        filed = filing_day(last, kind, self.rng)
        filing = Filing(
            modelo, year, period, filed, kind, amount, receipt_number(modelo, self.rng), secure_code(self.rng), boxes
        )
        self.prepared.append(filing)
        self.at(filed, P_OPS, self.present, filing)
        label = f"{period} {year}" if period != "0A" else str(year)
        if kind in ("ingreso", "domiciliacion"):
            charged = filed if kind == "ingreso" else last
            filing.charged = charged
            n43 = "03" if kind == "domiciliacion" else "99"
            self.at(
                charged, P_OPS, self.pay_debt_from, account, amount, f"Pago modelo {modelo} {label}", self.bank(), n43
            )
        elif kind == "devolucion" and refund_account:
            refund_day = working_day(filed + timedelta(days=self.rng.randint(45, 110)))
            filing.charged = refund_day
            self.at(refund_day, P_OPS, self.refund, f"Devolución modelo {modelo} {label}", refund_account, -amount)

    def present(self, filing: Filing) -> None:
        """The return is presented (it becomes part of the export)."""
        self.filings.append(filing)

    def refund(self, concept: str, account: str, amount: int) -> None:
        """The tax agency refunds a return."""
        self.post(self.today, concept, (self.bank(), amount), (account, -amount), n43="99")

    def instalment_202(self, year: int, period: str) -> None:
        """Corporate tax instalment: 18 % of the last corporate tax return filed."""
        basis_year = year - 2 if period == "1P" else year - 1
        basis = self.tax_of.get(basis_year, 0)
        amount = pct(basis, 18)
        if amount > 0:
            self.file(
                "202",
                year,
                period,
                amount,
                [("01", basis), ("03", amount), ("06", amount)],
                "4730000",
                payment="ingreso",
            )

    def return_200(self, year: int) -> None:
        """Corporate tax return of the previous year, filed in July."""
        profit, tax, paid = self.tax_figures[year]
        diff = tax - paid
        boxes = [
            ("00500", profit),
            ("00552", max(profit, 0)),
            ("00558", int(self.c.tax_rate or 0) * 100),
            ("00562", tax),
            ("00592", tax),
            ("00601", paid),
            ("00611", diff),
        ]
        self.file("200", year, "0A", diff, boxes, "4752000", payment="ingreso", refund_account="4709000")

    # --- year end -------------------------------------------------------------------------------------------------

    def plan_year_end(self, year: int) -> None:
        """Schedule the year-end adjustments, corporate tax, regularización, cierre and next apertura."""
        last = date(year, 12, 31)
        self.at(last, P_ADJUST, self.adjust, year)
        if not self.c.is_person:
            self.at(last, P_TAX, self.corporate_tax, year)
        self.at(last, P_REG, self.ledger_regularize, year)
        self.at(last, P_CLOSE, self.close_and_reopen, year)

    def adjust(self, year: int) -> None:
        """Inventory variation, loan reclassification and, for the owner, prepaid IRPF to her account."""
        last = date(year, 12, 31)
        if year in self.c.closing_stock:
            opening = self.ledger.balance("3000000")
            self.post(last, f"Existencias iniciales {year}", ("6100000", opening), ("3000000", -opening))
            closing = self.c.closing_stock[year]
            self.post(last, f"Existencias finales {year}", ("3000000", closing), ("6100000", -closing))
        for loan in self.c.loans:
            due = sum(p for d, p, _ in loan_schedule(loan) if last < d <= date(year + 1, 12, 31))
            self.post(
                last,
                f"Reclasificación a corto plazo {loan.label}",
                (loan.long_account, due),
                (loan.short_account, -due),
            )
        if self.c.is_person:
            prepaid = self.ledger.balance("4730000")
            self.post(
                last,
                f"Retenciones y pagos fraccionados IRPF {year} a cuenta de la titular",
                ("5500000", prepaid),
                ("4730000", -prepaid),
            )

    def corporate_tax(self, year: int) -> None:
        """Corporate tax: 630 against the instalments (473) and the balance to pay (4752) or to refund (4709)."""
        profit = -sum(b for _, b in self.ledger.group_balances("67"))
        tax = pct(max(profit, 0), self.c.tax_rate or 0)
        paid = self.ledger.balance("4730000")
        diff = tax - paid
        self.post(
            date(year, 12, 31),
            f"Impuesto sobre Sociedades {year}",
            ("6300000", tax),
            ("4730000", -paid),
            ("4752000", -max(diff, 0)),
            ("4709000", max(-diff, 0)),
        )
        self.tax_of[year] = tax
        self.tax_figures[year] = (profit, tax, paid)

    def ledger_regularize(self, year: int) -> None:
        """Regularización: groups 6 and 7 to 129."""
        self.ledger.regularize(date(year, 12, 31), year)

    def close_and_reopen(self, year: int) -> None:
        """Cierre on 31 December and apertura on 1 January (plus the owner's result to capital)."""
        balances = self.ledger.close(date(year, 12, 31), year)
        first = date(year + 1, 1, 1)
        self.at(first, P_OPEN, self.ledger.open, first, balances)
        if self.c.is_person:
            self.at(first, P_ADMIN, self.owner_result, year)

    def owner_result(self, year: int) -> None:
        """The self-employed owner's result and withdrawals go to her capital account (102)."""
        result = self.ledger.balance("1290000")
        drawn = self.ledger.balance("5500000")
        self.post(
            date(year + 1, 1, 1),
            f"Resultado {year} y cuenta de la titular a capital",
            ("1290000", -result),
            ("5500000", -drawn),
            ("1020000", result + drawn),
        )

    def distribute(self, year: int) -> None:
        """Approval of the accounts: the result of ``year`` to reserves (legal first) and dividends, or to 121."""
        profit = -self.ledger.balance("1290000")
        day = self.today
        if profit <= 0:
            self.post(day, f"Aplicación del resultado {year}", ("1210000", -profit), ("1290000", profit))
            return
        offset = min(self.ledger.balance("1210000"), profit)
        rest = profit - offset
        legal_room = max(self.c.shares // 5 + self.ledger.balance("1120000"), 0)
        legal = min(pct(rest, 10), legal_room)
        dividends = pct(rest - legal, self.c.dividend_share * 100)
        self.post(
            day,
            f"Aplicación del resultado {year}",
            ("1290000", profit),
            ("1210000", -offset),
            ("1120000", -legal),
            ("5260000", -dividends),
            ("1130000", -(rest - legal - dividends)),
        )
        if dividends:
            payee = DIVIDEND_PAYEE.get(self.c.code, ("los socios", ""))[0]
            pay_day = working_day(date(day.year, 7, 15))
            self.at(
                pay_day,
                P_OPS,
                self.pay_debt_from,
                "5260000",
                dividends,
                f"Pago dividendo {year} a {payee}",
                self.bank(),
                "04",
            )

    # --- labour extras --------------------------------------------------------------------------------------------

    def sick_leaves(self) -> list[tuple[Employee, str, date, date | None]]:
        """A few sick leaves per year and company (not reflected in the pay: a simplification)."""
        rng = Random(f"{self.c.code}:bajas")
        leaves: list[tuple[Employee, str, date, date | None]] = []
        kinds = ("Enfermedad común", "Enfermedad común", "Accidente no laboral", "Accidente de trabajo")
        for year in range(FIRST_YEAR, self.until.year + 1):
            for _ in range(len(self.c.employees) // 3 + 1):
                if not self.c.employees:
                    break
                employee = rng.choice(self.c.employees)
                start = date(year, 1, 1) + timedelta(days=rng.randint(0, 360))
                if not (employee.start <= start and (employee.end is None or start < employee.end)):
                    continue
                if start > self.until:
                    continue
                end = start + timedelta(days=rng.choice((2, 4, 6, 9, 14, 21, 35, 60)))
                leaves.append((employee, rng.choice(kinds), start, end if end <= self.until else None))
        return sorted(leaves, key=lambda leave: (leave[2], leave[0].nif))


# --- pure helpers ----------------------------------------------------------------------------------------------


def ticket_issuer(expense: Expense) -> tuple[str, str]:
    """NIF and name of the shop behind a purchase paid on the spot: the label's first part and a made-up NIF fixed by
    it (the demo's companies name no supplier for these)."""
    name = expense.label.split(" – ")[0]
    digits = f"{zlib.crc32(name.encode()) % 10**7:07d}"
    return cif("B", digits), name


def lost(customer: Party, day: date) -> bool:
    """A customer that stopped paying gets no new invoices two months later."""
    return customer.defaults_from is not None and day > customer.defaults_from + timedelta(days=60)


def quarter_of(day: date) -> int:
    """Quarter (1–4) of a date."""
    return (day.month - 1) // 3 + 1


def scaled(value: int, factor: Decimal) -> int:
    """An integer scaled by a decimal factor, rounded half up."""
    return int((Decimal(value) * factor).to_integral_value(ROUND_HALF_UP))


def days_of(year: int, month: int) -> list[date]:
    """Every day of a month."""
    return [date(year, month, d) for d in range(1, month_end(year, month).day + 1)]


def days_worked(employee: Employee, year: int, month: int) -> int:
    """Days of a month on the payroll, 30 for a full month (commercial month)."""
    first, last = date(year, month, 1), month_end(year, month)
    start = max(first, employee.start)
    end = min(last, employee.end) if employee.end else last
    if start == first and end == last:
        return 30
    return min((end - start).days + 1, 30)


def salary_of(employee: Employee, year: int) -> int:
    """Annual full-time salary of a year after the collective-agreement rises."""
    salary = employee.salary
    for y in range(FIRST_YEAR + 1, year + 1):
        salary += pct(salary, rates.of_year(rates.PAY_RISE, y))
    return salary


def monthly_depreciation(asset: Asset) -> int:
    """Straight-line monthly depreciation."""
    return int((Decimal(asset.cost) / (asset.life_years * 12)).to_integral_value(ROUND_HALF_UP))


def depreciation_until(asset: Asset, day: date) -> int:
    """Accumulated depreciation of an asset at a date (full months from the month after its purchase)."""
    months = (day.year - asset.acquired.year) * 12 + day.month - asset.acquired.month
    return min(max(months, 0) * monthly_depreciation(asset), asset.cost)


def loan_schedule(loan: Loan) -> list[tuple[date, int, int]]:
    """French-method instalments: (date, principal, interest) in cents; the last one clears the loan."""
    rate = loan.rate / Decimal(1200)
    payment = Decimal(loan.principal) * rate / (1 - (1 + rate) ** -loan.months)
    payment_cents = int(payment.to_integral_value(ROUND_HALF_UP))
    outstanding = loan.principal
    rows = []
    for k in range(1, loan.months + 1):
        month_index = loan.start.month - 1 + k
        year, month = loan.start.year + month_index // 12, month_index % 12 + 1
        day = working_day(date(year, month, min(loan.start.day, month_end(year, month).day)))
        interest = int((Decimal(outstanding) * rate).to_integral_value(ROUND_HALF_UP))
        principal = outstanding if k == loan.months else payment_cents - interest
        outstanding -= principal
        rows.append((day, principal, interest))
    return rows


def loan_split(loan: Loan, day: date) -> tuple[int, int]:
    """(long-term, short-term) principal outstanding at a date: the next 12 months' principal is short-term."""
    schedule = loan_schedule(loan)
    outstanding = loan.principal - sum(p for d, p, _ in schedule if d <= day)
    short = sum(p for d, p, _ in schedule if day < d <= date(day.year + 1, day.month, day.day))
    return outstanding - short, short


def annual_vat_boxes(returns: list[Filing]) -> list[tuple[str, int]]:
    """Key boxes of the 390 as the sum of the year's four 303s."""

    def total(box: str) -> int:
        return sum(dict(f.boxes).get(box, 0) for f in returns)

    boxes: list[tuple[str, int]] = []
    for (_, base_303, vat_303), (_, base_390, vat_390) in zip(VAT_RATES_BOXES, ANNUAL_VAT_BOXES, strict=True):
        if any(base_303 in dict(f.boxes) for f in returns):
            boxes += [(base_390, total(base_303)), (vat_390, total(vat_303))]
    last = max(returns, key=lambda f: f.period)
    results = [dict(f.boxes)["71"] for f in returns]
    boxes += [
        ("47", total("27")),
        ("48", total("28")),
        ("49", total("29")),
        ("56", total("30")),
        ("57", total("31")),
        ("64", total("45")),
        ("65", total("46")),
        ("84", total("46")),
        ("95", sum(r for r in results if r > 0)),
        ("97", 0),
        ("98", -dict(last.boxes)["71"] if dict(last.boxes)["71"] < 0 else 0),
        ("108", sum(total(b) for _, b, _ in VAT_RATES_BOXES)),
    ]
    return boxes
