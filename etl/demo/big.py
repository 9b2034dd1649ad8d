"""The very large demo company ``grancorp``: a journal of exactly N lines built with numpy and written by DuckDB."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from etl.demo.journal import loan_schedule, loan_split
from etl.demo.model import FIRST_YEAR, Loan, cif, iban, month_end
from etl.demo.writers import write_table

NAME = "Gran Corporación Demo SA"
NIF = cif("A", "2812345")
EPOCH = date(1970, 1, 1).toordinal()
MIN_LINES = 5_000
CUSTOMERS, SUPPLIERS, CREDITORS = 200, 60, 30
BANKS = ("5720001", "5720002", "5720003", "5720004")
BANK_NAMES = {
    "5720001": ("Banco Santander", iban("0049", "1500", "0512345678")),
    "5720002": ("BBVA", iban("0182", "2000", "0201234567")),
    "5720003": ("CaixaBank", iban("2100", "3000", "0212345678")),
    "5720004": ("Banco Sabadell", iban("0081", "4000", "0009876543")),
}
SALES_ACCOUNTS = tuple(f"700{i:04d}" for i in range(1, 9)) + tuple(f"705{i:04d}" for i in range(1, 5))
PURCHASE_ACCOUNTS = tuple(f"600{i:04d}" for i in range(1, 11))
EXPENSE_ACCOUNTS = ("6210000", "6220000", "6230000", "6240000", "6250000", "6270000", "6280000", "6290000")
FIXED_ACCOUNTS = {
    "1000000": "Capital social",
    "1120000": "Reserva legal",
    "1130000": "Reservas voluntarias",
    "1290000": "Resultado del ejercicio",
    "1700001": "Préstamo sindicado (largo plazo)",
    "2110000": "Construcciones",
    "2130000": "Maquinaria",
    "2180000": "Elementos de transporte",
    "2811000": "Amortización acumulada de construcciones",
    "2813000": "Amortización acumulada de maquinaria",
    "2818000": "Amortización acumulada de elementos de transporte",
    "4650000": "Remuneraciones pendientes de pago",
    "4700000": "Hacienda Pública, deudora por IVA",
    "4720000": "Hacienda Pública, IVA soportado",
    "4750000": "Hacienda Pública, acreedora por IVA",
    "4751000": "Hacienda Pública, acreedora por retenciones practicadas",
    "4752000": "Hacienda Pública, acreedora por impuesto sobre sociedades",
    "4760000": "Organismos de la Seguridad Social, acreedores",
    "4770000": "Hacienda Pública, IVA repercutido",
    "5200001": "Préstamo sindicado (corto plazo)",
    "6260000": "Servicios bancarios y similares",
    "6300000": "Impuesto corriente",
    "6400000": "Sueldos y salarios",
    "6420000": "Seguridad Social a cargo de la empresa",
    "6620000": "Intereses de deudas",
    "6690000": "Otros gastos financieros",
    "6810000": "Amortización del inmovilizado material",
}
LOAN = Loan("1700001", "5200001", "5720003", 200_000_000, date(2021, 6, 30), 120, Decimal("3.10"), "Préstamo sindicado")
OPENING = {
    "1000000": -300_000_000,
    "1120000": -60_000_000,
    "2110000": 450_000_000,
    "2811000": -90_000_000,
    "2130000": 220_000_000,
    "2813000": -80_000_000,
    "2180000": 90_000_000,
    "2818000": -30_000_000,
    "5720001": 120_000_000,
    "5720002": 40_000_000,
    "5720003": 15_000_000,
    "5720004": 8_000_000,
}
DEPRECIATION = {"2811000": 750_000, "2813000": 1_833_333, "2818000": 937_500}
PAYROLL_GROSS = 18_000_000  # monthly, cents
KIND_WORD = ("apertura", "normal", "regularizacion", "cierre")
# Bulk entry templates: concept codes used in the SQL that writes the file.
SALE, COLLECTION, PURCHASE, PAYMENT, FEE, FILLER_2, FILLER_3 = 1, 2, 3, 4, 5, 6, 7
CONCEPT_SQL = """CASE code
    WHEN 1 THEN 'Fra. emitida V' || doc::VARCHAR
    WHEN 2 THEN 'Cobro fra. V' || doc::VARCHAR
    WHEN 3 THEN 'Fra. recibida R' || doc::VARCHAR
    WHEN 4 THEN 'Pago fra. R' || doc::VARCHAR
    WHEN 5 THEN 'Comisiones bancarias'
    WHEN 6 THEN 'Traspaso entre cuentas ' || doc::VARCHAR
    ELSE 'Gastos de gestión de cobro ' || doc::VARCHAR END"""


def accounts() -> list[str]:
    """Every account of grancorp, sorted (a few hundred)."""
    parties = [f"430{i:04d}" for i in range(1, CUSTOMERS + 1)]
    parties += [f"400{i:04d}" for i in range(1, SUPPLIERS + 1)]
    parties += [f"410{i:04d}" for i in range(1, CREDITORS + 1)]
    return sorted({*parties, *BANKS, *SALES_ACCOUNTS, *PURCHASE_ACCOUNTS, *EXPENSE_ACCOUNTS, *FIXED_ACCOUNTS})


ACCOUNTS = accounts()
INDEX = {a: i for i, a in enumerate(ACCOUNTS)}
ACCOUNT_CODES = np.array([int(a) for a in ACCOUNTS], dtype=np.int64)


def account_name(account: str) -> str:
    """Chart description of an account."""
    if account in FIXED_ACCOUNTS:
        return FIXED_ACCOUNTS[account]
    if account in BANK_NAMES:
        return f"{BANK_NAMES[account][0]}, c/c {BANK_NAMES[account][1][-4:]}"
    prefixes = {
        "430": "Cliente",
        "400": "Proveedor",
        "410": "Acreedor",
        "700": "Ventas línea",
        "705": "Servicios línea",
    }
    prefixes |= {"600": "Compras familia"}
    if account[:3] in prefixes:
        return f"{prefixes[account[:3]]} {int(account[3:]):04d}"
    return {
        "6210000": "Arrendamientos y cánones",
        "6220000": "Reparaciones y conservación",
        "6230000": "Servicios de profesionales independientes",
        "6240000": "Transportes",
        "6250000": "Primas de seguros",
        "6270000": "Publicidad, propaganda y relaciones públicas",
        "6280000": "Suministros",
        "6290000": "Otros servicios",
    }[account]


@dataclass
class Lines:
    """Journal lines as parallel arrays; entries are numbered later."""

    day: list[np.ndarray] = field(default_factory=list)  # days since 1970-01-01
    entry: list[np.ndarray] = field(default_factory=list)  # entry id
    account: list[np.ndarray] = field(default_factory=list)  # index in ACCOUNTS
    debit: list[np.ndarray] = field(default_factory=list)
    credit: list[np.ndarray] = field(default_factory=list)
    code: list[np.ndarray] = field(default_factory=list)
    doc: list[np.ndarray] = field(default_factory=list)
    text: list[np.ndarray] = field(default_factory=list)  # index in texts, -1 for bulk lines
    kind: list[np.ndarray] = field(default_factory=list)  # index in KIND_WORD
    entries: int = 0
    texts: list[str] = field(default_factory=list)
    text_index: dict[str, int] = field(default_factory=dict)

    def count(self) -> int:
        """Lines so far."""
        return sum(len(a) for a in self.day)

    def new_entries(self, n: int) -> np.ndarray:
        """Ids for n new entries."""
        ids = np.arange(self.entries, self.entries + n, dtype=np.int32)
        self.entries += n
        return ids

    def add_template(
        self, day: np.ndarray, accounts: list[np.ndarray], amounts: list[np.ndarray], code: int, doc: np.ndarray
    ) -> None:
        """n entries of k lines: account and signed amount per line (debit > 0)."""
        n, k = len(day), len(accounts)
        ids = self.new_entries(n)
        signed = np.stack(amounts, axis=1).reshape(-1)
        self.day.append(np.repeat(day, k))
        self.entry.append(np.repeat(ids, k))
        self.account.append(np.stack(accounts, axis=1).reshape(-1).astype(np.int16))
        self.debit.append(np.where(signed > 0, signed, 0))
        self.credit.append(np.where(signed < 0, -signed, 0))
        self.code.append(np.full(n * k, code, dtype=np.int8))
        self.doc.append(np.repeat(doc.astype(np.int32), k))
        self.text.append(np.full(n * k, -1, dtype=np.int32))
        self.kind.append(np.full(n * k, 1, dtype=np.int8))

    def add_entry(self, day: date, concept: str, moves: list[tuple[str, int]], kind: int = 1) -> None:
        """One structural entry with a written concept; zero moves are dropped."""
        moves = [(a, v) for a, v in moves if v != 0]
        if not moves:
            return
        if sum(v for _, v in moves) != 0:
            raise ValueError(f"unbalanced {concept}")
        if concept not in self.text_index:
            self.text_index[concept] = len(self.texts)
            self.texts.append(concept)
        k = len(moves)
        (entry_id,) = self.new_entries(1)
        signed = np.array([v for _, v in moves], dtype=np.int64)
        self.day.append(np.full(k, day.toordinal() - EPOCH, dtype=np.int32))
        self.entry.append(np.full(k, entry_id, dtype=np.int32))
        self.account.append(np.array([INDEX[a] for a, _ in moves], dtype=np.int16))
        self.debit.append(np.where(signed > 0, signed, 0))
        self.credit.append(np.where(signed < 0, -signed, 0))
        self.code.append(np.zeros(k, dtype=np.int8))
        self.doc.append(np.zeros(k, dtype=np.int32))
        self.text.append(np.full(k, self.text_index[concept], dtype=np.int32))
        self.kind.append(np.full(k, kind, dtype=np.int8))

    def arrays(self) -> dict[str, np.ndarray]:
        """Concatenated columns (kept concatenated, so that later calls only append the new lines)."""
        names = ("day", "entry", "account", "debit", "credit", "code", "doc", "text", "kind")
        for name in names:
            setattr(self, name, [np.concatenate(getattr(self, name))])
        return {name: getattr(self, name)[0] for name in names}


def write_big_company(folder: Path, n_lines: int, *, until: date, seed: int) -> None:
    """Write grancorp: empresa.json, plan_cuentas.csv and a diario.csv of exactly ``n_lines`` lines."""
    if n_lines < MIN_LINES:
        raise ValueError(f"big_lines must be at least {MIN_LINES}")
    folder.mkdir(parents=True, exist_ok=True)
    lines = build(n_lines, until, np.random.default_rng([seed, 43]))
    write_journal(folder / "diario.csv", lines)
    write_table(folder / "plan_cuentas.csv", ("cuenta", "descripcion"), [(a, account_name(a)) for a in ACCOUNTS])
    info = {
        "nombre": NAME,
        "nif": NIF,
        "modelo_pgc": "abreviado",
        "inicio_ejercicio": "01-01",
        "ejercicios": list(range(FIRST_YEAR, until.year + 1)),
        "forma_juridica": "SA",
        "actividad": "Distribución mayorista (empresa de prueba de volumen)",
        "domicilio": "Paseo de la Castellana 200, 28046 Madrid",
        "cuentas_bancarias": [{"cuenta": a, "iban": BANK_NAMES[a][1], "banco": BANK_NAMES[a][0]} for a in BANKS],
    }
    (folder / "empresa.json").write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def build(n_lines: int, until: date, rng: np.random.Generator) -> Lines:
    """All lines: bulk operations, monthly and quarterly entries, year-end entries and fillers to exactly N."""
    closed = [y for y in range(FIRST_YEAR, until.year + 1) if date(y, 12, 31) < until]
    lines = Lines()
    opening(lines)
    base = lines.count()
    months = (until.year - FIRST_YEAR) * 12 + until.month
    bound = 24 * months + 12 * (until.year - FIRST_YEAR + 1) + len(closed) * (3 * len(ACCOUNTS) + 8)
    target = n_lines - base - bound - 4
    if target < 1_000:
        raise ValueError(f"big_lines must be at least {n_lines - target + 1_000} for this period")
    start = date(FIRST_YEAR, 1, 1).toordinal() - EPOCH
    end = until.toordinal() - EPOCH
    while (missing := target - (lines.count() - base)) > 200:
        bulk(lines, rng, start, end, missing)
    monthly(lines, until, quarterly_vat(lines.arrays(), until))
    year_ends(lines, closed, until)
    fill(lines, rng, n_lines - lines.count(), max(start, date(until.year, 1, 1).toordinal() - EPOCH), end)
    return lines


def opening(lines: Lines) -> None:
    """Apertura of 2023: declared balances, the loan split, reserves as the balancing figure."""
    balances = dict(OPENING)
    long_part, short_part = loan_split(LOAN, date(FIRST_YEAR - 1, 12, 31))
    balances[LOAN.long_account] = -long_part
    balances[LOAN.short_account] = -short_part
    balances["1130000"] = -sum(balances.values())
    lines.add_entry(
        date(FIRST_YEAR, 1, 1), f"Asiento de apertura del ejercicio {FIRST_YEAR}", sorted(balances.items()), 0
    )


def bulk(lines: Lines, rng: np.random.Generator, start: int, end: int, budget: int) -> None:
    """Sales, purchases (each with its settlement when it falls before the cut-off date) and bank fees."""
    n_sales = max(int(budget * 0.56 / 5), 1)
    n_buys = max(int(budget * 0.36 / 5), 1)
    n_fees = max(int(budget * 0.08 / 2), 1)
    bank_ix = np.array([INDEX[b] for b in BANKS])
    customer_ix = np.array([INDEX[a] for a in ACCOUNTS if a.startswith("430")])
    weights = 1 / np.arange(1, len(customer_ix) + 1) ** 1.1
    customers = rng.choice(customer_ix, n_sales, p=weights / weights.sum())
    day = rng.integers(start, end + 1, n_sales).astype(np.int32)
    base = np.round(rng.lognormal(11.2, 0.9, n_sales)).astype(np.int64) + 500
    vat = (base * 21 + 50) // 100
    total = base + vat
    doc = rng.integers(10**7, 10**8, n_sales)
    revenue = rng.choice(np.array([INDEX[a] for a in SALES_ACCOUNTS]), n_sales)
    lines.add_template(day, [customers, revenue, np.full(n_sales, INDEX["4770000"])], [total, -base, -vat], SALE, doc)
    paid = day + rng.integers(10, 91, n_sales).astype(np.int32)
    keep = paid <= end
    banks = rng.choice(bank_ix, n_sales, p=[0.55, 0.25, 0.15, 0.05])
    lines.add_template(paid[keep], [banks[keep], customers[keep]], [total[keep], -total[keep]], COLLECTION, doc[keep])
    payable_ix = np.array([INDEX[a] for a in ACCOUNTS if a[:3] in ("400", "410")])
    parties = rng.choice(payable_ix, n_buys)
    is_supplier = np.array([a.startswith("400") for a in ACCOUNTS])[parties]
    purchase = rng.choice(np.array([INDEX[a] for a in PURCHASE_ACCOUNTS]), n_buys)
    expense = rng.choice(np.array([INDEX[a] for a in EXPENSE_ACCOUNTS]), n_buys)
    cost = np.where(is_supplier, purchase, expense)
    day = rng.integers(start, end + 1, n_buys).astype(np.int32)
    base = np.round(rng.lognormal(10.9, 0.9, n_buys)).astype(np.int64) + 300
    vat = (base * 21 + 50) // 100
    total = base + vat
    doc = rng.integers(10**7, 10**8, n_buys)
    lines.add_template(day, [cost, np.full(n_buys, INDEX["4720000"]), parties], [base, vat, -total], PURCHASE, doc)
    paid = day + rng.integers(15, 91, n_buys).astype(np.int32)
    keep = paid <= end
    banks = rng.choice(bank_ix, n_buys, p=[0.45, 0.3, 0.15, 0.1])
    lines.add_template(paid[keep], [parties[keep], banks[keep]], [total[keep], -total[keep]], PAYMENT, doc[keep])
    day = rng.integers(start, end + 1, n_fees).astype(np.int32)
    fee = rng.integers(150, 6_000, n_fees).astype(np.int64)
    banks = rng.choice(bank_ix, n_fees)
    lines.add_template(day, [np.full(n_fees, INDEX["6260000"]), banks], [fee, -fee], FEE, np.zeros(n_fees, np.int32))


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since January of the first year, per day number (days since 1970-01-01)."""
    months_1970 = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months_1970 - (FIRST_YEAR - 1970) * 12


def quarterly_vat(data: dict[str, np.ndarray], until: date) -> tuple[np.ndarray, np.ndarray]:
    """Exact output (477 credits) and deductible (472 debits) VAT per quarter of the bulk lines."""
    quarter = month_index(data["day"]) // 3
    size = (until.year - FIRST_YEAR + 1) * 4
    sums = []
    for account, side in (("4770000", "credit"), ("4720000", "debit")):
        mask = data["account"] == INDEX[account]
        out = np.zeros(size, dtype=np.int64)
        np.add.at(out, quarter[mask], data[side][mask])
        sums.append(out)
    return sums[0], sums[1]


def monthly(lines: Lines, until: date, vat: tuple[np.ndarray, np.ndarray]) -> None:
    """Payroll, depreciation, loan instalments, quarterly VAT settlements and the related payments."""
    for pay_day, principal, interest in loan_schedule(LOAN):
        if date(FIRST_YEAR, 1, 1) <= pay_day <= until:
            moves = [(LOAN.short_account, principal), ("6620000", interest), (LOAN.bank, -(principal + interest))]
            lines.add_entry(pay_day, f"Cuota {LOAN.label} {pay_day:%m/%Y}", moves)
    year, month = FIRST_YEAR, 1
    while (last := month_end(year, month)) <= until:
        payroll(lines, year, month, until)
        moves = [("6810000", sum(DEPRECIATION.values()))] + [(a, -v) for a, v in DEPRECIATION.items()]
        lines.add_entry(last, f"Amortización del inmovilizado {month:02d}/{year}", moves)
        if month % 3 == 0:
            q = (year - FIRST_YEAR) * 4 + month // 3 - 1
            vat_settlement(lines, year, month // 3, int(vat[0][q]), int(vat[1][q]), until)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def payroll(lines: Lines, year: int, month: int, until: date) -> None:
    """Monthly payroll entry, net pay the same day, SS next month, IRPF with the quarterly 111."""
    last = month_end(year, month)
    monthly_gross = PAYROLL_GROSS + PAYROLL_GROSS * (year - FIRST_YEAR) * 3 // 100
    gross = monthly_gross * (2 if month in (6, 12) else 1)
    employer, worker, irpf = gross * 31 // 100, gross * 65 // 1000, gross * 15 // 100
    net = gross - worker - irpf
    period = f"{month:02d}/{year}"
    moves = [("6400000", gross), ("6420000", employer), ("4760000", -(employer + worker))]
    lines.add_entry(last, f"Nóminas {period}", [*moves, ("4751000", -irpf), ("4650000", -net)])
    lines.add_entry(last, f"Pago nóminas {period}", [("4650000", net), ("5720002", -net)])
    ss_day = month_end(year + month // 12, month % 12 + 1)
    if ss_day <= until:
        moves = [("4760000", employer + worker), ("5720002", -(employer + worker))]
        lines.add_entry(ss_day, f"Seguros sociales {period}", moves)
    if month % 3 == 0:
        pay_day = date(year + month // 12, month % 12 + 1, 20)
        quarter = sum(monthly_gross * (2 if m in (6, 12) else 1) * 15 // 100 for m in range(month - 2, month + 1))
        if pay_day <= until:
            lines.add_entry(
                pay_day, f"Pago modelo 111 {month // 3}T {year}", [("4751000", quarter), ("5720001", -quarter)]
            )


def vat_settlement(lines: Lines, year: int, quarter: int, output: int, deductible: int, until: date) -> None:
    """Quarterly VAT settlement (477 − 472) and its payment on the 20th (30 January for the 4T)."""
    result = output - deductible
    last = month_end(year, quarter * 3)
    moves = [("4770000", output), ("4720000", -deductible), ("4750000", -max(result, 0)), ("4700000", max(-result, 0))]
    lines.add_entry(last, f"Liquidación IVA {quarter}T {year}", moves)
    pay_day = date(year + 1, 1, 30) if quarter == 4 else date(year, quarter * 3 + 1, 20)
    if result > 0 and pay_day <= until:
        lines.add_entry(pay_day, f"Pago modelo 303 {quarter}T {year}", [("4750000", result), ("5720001", -result)])


def year_ends(lines: Lines, closed: list[int], until: date) -> None:
    """For each closed year: reclassification, tax, regularización, cierre, apertura, distribution, tax payment.

    Balances come from one exact integer aggregation of every line per (year, account) plus the entries added
    here, so the closing entries are computed without rescanning the journal.
    """
    data = lines.arrays()
    years = (until.year - FIRST_YEAR + 2, len(ACCOUNTS))
    movements = np.zeros(years, dtype=np.int64)
    np.add.at(movements, (month_index(data["day"]) // 12, data["account"]), data["debit"] - data["credit"])
    carried = np.zeros(len(ACCOUNTS), dtype=np.int64)
    is_balance = np.array([a[0] in "12345" for a in ACCOUNTS])
    for year in range(FIRST_YEAR, until.year + 1):
        y = year - FIRST_YEAR
        if year not in closed:
            break
        last = date(year, 12, 31)
        added: dict[str, int] = {}
        due = sum(p for d, p, _ in loan_schedule(LOAN) if last < d <= date(year + 1, 12, 31))
        _add(
            lines,
            added,
            last,
            f"Reclasificación a corto plazo {LOAN.label}",
            [(LOAN.long_account, due), (LOAN.short_account, -due)],
        )
        year_moves = movements[y].copy()
        for account, value in added.items():
            year_moves[INDEX[account]] += value
        results = {a: int(year_moves[i]) for i, a in enumerate(ACCOUNTS) if a[0] in "67" and year_moves[i] != 0}
        profit = -sum(results.values())
        tax = max(profit, 0) * 25 // 100
        _add(lines, added, last, f"Impuesto sobre Sociedades {year}", [("6300000", tax), ("4752000", -tax)])
        if tax:
            results["6300000"] = results.get("6300000", 0) + tax
        moves = [(a, -b) for a, b in sorted(results.items()) if b != 0]
        moves.append(("1290000", -sum(v for _, v in moves)))
        _add(lines, added, last, f"Regularización del ejercicio {year}", moves, kind=2)
        for account, value in added.items():
            if account[0] in "12345":
                movements[y][INDEX[account]] += value
        carried = carried + np.where(is_balance, movements[y], 0)
        closing = [(a, int(carried[i])) for i, a in enumerate(ACCOUNTS) if carried[i] != 0]
        lines.add_entry(last, f"Asiento de cierre del ejercicio {year}", [(a, -b) for a, b in closing], 3)
        lines.add_entry(date(year + 1, 1, 1), f"Asiento de apertura del ejercicio {year + 1}", closing, 0)
        later: dict[str, int] = {}
        net = profit - tax
        if date(year + 1, 6, 30) <= until and net != 0:
            legal = max(net, 0) // 10
            moves = [("1290000", net), ("1120000", -legal), ("1130000", -(net - legal))]
            _add(lines, later, date(year + 1, 6, 30), f"Aplicación del resultado {year}", moves)
        if date(year + 1, 7, 25) <= until:
            _add(
                lines,
                later,
                date(year + 1, 7, 25),
                f"Pago Impuesto sobre Sociedades {year}",
                [("4752000", tax), ("5720001", -tax)],
            )
        for account, value in later.items():
            movements[y + 1][INDEX[account]] += value


def _add(
    lines: Lines, added: dict[str, int], day: date, concept: str, moves: list[tuple[str, int]], kind: int = 1
) -> None:
    """Add a structural entry and remember its effect on the balances."""
    lines.add_entry(day, concept, moves, kind)
    for account, value in moves:
        added[account] = added.get(account, 0) + value


def fill(lines: Lines, rng: np.random.Generator, missing: int, start: int, end: int) -> None:
    """Bank transfers (2 lines) and collection fees (3 lines) in the open year, to reach exactly N lines."""
    if missing < 2:
        raise ValueError("internal: the line budget left no room for the filler entries")
    threes = missing % 2
    twos = (missing - 3 * threes) // 2
    bank_ix = np.array([INDEX[b] for b in BANKS])
    day = rng.integers(start, end + 1, twos).astype(np.int32)
    amount = rng.integers(100_000, 5_000_000, twos).astype(np.int64)
    source = rng.integers(0, len(BANKS), twos)
    target = (source + rng.integers(1, len(BANKS), twos)) % len(BANKS)
    doc = np.arange(1, twos + 1, dtype=np.int32)
    lines.add_template(day, [bank_ix[target], bank_ix[source]], [amount, -amount], FILLER_2, doc)
    if threes:
        day = np.array([end], dtype=np.int32)
        moves = [np.array([INDEX["6260000"]]), np.array([INDEX["6690000"]]), np.array([INDEX["5720001"]])]
        lines.add_template(day, moves, [np.array([1200]), np.array([350]), np.array([-1550])], FILLER_3, np.array([1]))


def numbered(lines: Lines) -> dict[str, np.ndarray]:
    """Lines sorted by entry (date, apertura first, cierre last) with entry numbers per fiscal year."""
    data = lines.arrays()
    n_entries = lines.entries
    entry_day = np.zeros(n_entries, dtype=np.int64)
    entry_kind = np.zeros(n_entries, dtype=np.int64)
    entry_day[data["entry"]] = data["day"]
    entry_kind[data["entry"]] = data["kind"]
    order = np.lexsort((np.arange(n_entries), entry_kind, entry_day))
    rank = np.empty(n_entries, dtype=np.int64)
    rank[order] = np.arange(n_entries)
    sorted_days = entry_day[order]
    year_start = np.array([date(y, 1, 1).toordinal() - EPOCH for y in range(FIRST_YEAR, 2200)])
    year_of_entry = np.searchsorted(year_start, sorted_days, side="right") - 1
    first_of_year = np.searchsorted(year_of_entry, year_of_entry, side="left")
    number = np.arange(n_entries) - first_of_year + 1
    line_order = np.lexsort((np.arange(len(data["entry"])), rank[data["entry"]]))
    result = {k: v[line_order] for k, v in data.items()}
    result["number"] = number[rank[result["entry"]]]
    return result


def write_journal(path: Path, lines: Lines) -> None:
    """diario.csv: ';', decimal comma, dd/mm/yyyy, UTF-8, tipo column; formatted and written by DuckDB."""
    data = numbered(lines)
    texts = pa.array(lines.texts or [""], type=pa.string())
    text_ix = pa.array(data["text"], mask=data["text"] < 0, type=pa.int32())
    table = pa.table(
        {
            "fecha": pa.array(data["day"].astype(np.int32)).cast(pa.date32()),
            "asiento": pa.array(data["number"].astype(np.int32)),
            "cuenta": pa.array(ACCOUNT_CODES[data["account"]]),
            "code": pa.array(data["code"]),
            "doc": pa.array(data["doc"]),
            "texto": pa.DictionaryArray.from_arrays(text_ix, texts),
            "debe": pa.array(data["debit"]),
            "haber": pa.array(data["credit"]),
            "tipo": pa.DictionaryArray.from_arrays(pa.array(data["kind"].astype(np.int32)), pa.array(KIND_WORD)),
        }
    )
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = true")
        con.register("lines", table)
        con.execute(
            f"""COPY (SELECT strftime(fecha, '%d/%m/%Y') AS fecha, asiento, cuenta::VARCHAR AS cuenta,
                       coalesce(texto, {CONCEPT_SQL}) AS concepto,
                       (debe // 100)::VARCHAR || ',' || lpad((debe % 100)::VARCHAR, 2, '0') AS debe,
                       (haber // 100)::VARCHAR || ',' || lpad((haber % 100)::VARCHAR, 2, '0') AS haber,
                       tipo::VARCHAR AS tipo
                FROM lines) TO '{path.as_posix()}' (DELIMITER ';', HEADER)"""
        )
    finally:
        con.close()
