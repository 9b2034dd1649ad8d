"""The firm's monthly invoices to its clients: one plan shared by the clients' journals and the invoice module."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from random import Random

from etl.demo.model import FIRST_YEAR, Company, Employee, cents, month_end, pct, working_day, working_day_before

VAT_RATE = Decimal(21)
IRPF_RATE = Decimal(15)
PAYROLL_PRICE = cents("18.00")
HIRE_PRICE = cents("45.00")
LEAVE_PRICE = cents("55.00")

# Yearly services invoiced in a given month: (month, text, price in euros, who: "company" | "person" | "all").
YEARLY_SERVICES = (
    (1, "Modelos informativos anuales (390, 190, 180)", "95.00", "all"),
    (6, "Declaración anual de IRPF de la titular (modelo 100)", "140.00", "person"),
    (7, "Impuesto sobre Sociedades del ejercicio anterior (modelo 200)", "260.00", "company"),
    (7, "Formulación de cuentas anuales y depósito en el Registro Mercantil", "320.00", "company"),
)
# Clients that pay the firm by transfer, some days late, instead of by direct debit.
LATE_PAYERS = {"labrasa": (5, 35)}


@dataclass(frozen=True)
class FirmInvoice:
    """One invoice of the firm to a client (amounts in cents)."""

    number: str
    day: date
    lines: tuple[tuple[str, int, int], ...]  # description, quantity, unit price
    due: date
    paid: date  # may be after the demo's cut-off date (then still unpaid)
    method: str

    @property
    def base(self) -> int:
        """Taxable base: the sum of the lines."""
        return sum(quantity * price for _, quantity, price in self.lines)

    @property
    def vat(self) -> int:
        """VAT at 21 %."""
        return pct(self.base, VAT_RATE)

    @property
    def irpf(self) -> int:
        """IRPF withheld by the client at 15 %."""
        return pct(self.base, IRPF_RATE)

    @property
    def total(self) -> int:
        """Amount to pay: base + VAT − withholding."""
        return self.base + self.vat - self.irpf


def active(employee: Employee, year: int, month: int) -> bool:
    """Whether an employee is on the payroll at some point of a month."""
    first, last = date(year, month, 1), month_end(year, month)
    return employee.start <= last and (employee.end is None or employee.end >= first)


def plan_invoices(companies: tuple[Company, ...], until: date, seed: int) -> dict[str, list[FirmInvoice]]:
    """Every monthly invoice of the firm to each client up to ``until``, numbered in one firm-wide series."""
    rng = Random(f"{seed}:firm")
    plan: dict[str, list[FirmInvoice]] = {c.code: [] for c in companies}
    year, month, counter = FIRST_YEAR, 1, 0
    while (day := working_day_before(month_end(year, month))) <= until:
        counter = counter if month != 1 else 0
        for company in companies:
            counter += rng.randint(1, 6)  # the firm's other clients sit in between
            plan[company.code].append(_invoice(company, year, month, day, counter, rng))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return plan


def _invoice(company: Company, year: int, month: int, day: date, counter: int, rng: Random) -> FirmInvoice:
    lines = [(f"Iguala mensual {month:02d}/{year}: contabilidad y asesoramiento fiscal", 1, company.firm_fee)]
    payroll = sum(active(e, year, month) for e in company.employees)
    if payroll:
        lines.append((f"Confección de nóminas y seguros sociales {month:02d}/{year}", payroll, PAYROLL_PRICE))
    hires = sum(e.start.year == year and e.start.month == month for e in company.employees)
    if hires:
        lines.append(("Alta de trabajador, contrato y comunicación a Contrat@", hires, HIRE_PRICE))
    leaves = sum(e.end is not None and (e.end.year, e.end.month) == (year, month) for e in company.employees)
    if leaves:
        lines.append(("Baja de trabajador, finiquito y certificado de empresa", leaves, LEAVE_PRICE))
    who = "person" if company.is_person else "company"
    for service_month, text, price, target in YEARLY_SERVICES:
        if service_month == month and target in (who, "all"):
            lines.append((text, 1, cents(price)))
    due = working_day(day + timedelta(days=10))
    late = LATE_PAYERS.get(company.code)
    paid = working_day(due + timedelta(days=rng.randint(*late))) if late else due
    method = "transferencia" if late else "domiciliacion"
    return FirmInvoice(f"FD-{year}-{counter:04d}", day, tuple(lines), due, paid, method)
