"""The module files of one demo company: journal, chart, taxes, labour, treasury, invoices, case files, documents."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from random import Random

from etl.demo.camt053 import camt053_statement
from etl.demo.companies import FIRM, FIRM_PARTY
from etl.demo.firm import IRPF_RATE, VAT_RATE
from etl.demo.journal import Books
from etl.demo.model import FIRST_YEAR, Company
from etl.demo.rates import CONTRACT_NAMES
from etl.demo.taxes import BOX_LABELS, COUNT_BOXES, write_aeat_files
from etl.demo.vat_books import write_vat_books
from etl.demo.writers import (
    JOURNAL_FORMATS,
    BankMovement,
    JournalRow,
    day_text,
    money,
    n43_statement,
    write_journal,
    write_pdf,
    write_table,
)
from etl.modules import cases as case_reader
from etl.modules import documents as document_reader
from etl.modules import invoices as invoice_reader
from etl.modules import labour as labour_reader
from etl.modules import taxes as tax_reader
from etl.modules import treasury as treasury_reader

ACCOUNT_NAMES = {
    "1000000": "Capital social",
    "1020000": "Capital",
    "1120000": "Reserva legal",
    "1130000": "Reservas voluntarias",
    "1210000": "Resultados negativos de ejercicios anteriores",
    "1290000": "Resultado del ejercicio",
    "2060000": "Aplicaciones informáticas",
    "2110000": "Construcciones",
    "2130000": "Maquinaria",
    "2150000": "Otras instalaciones",
    "2160000": "Mobiliario",
    "2170000": "Equipos para procesos de información",
    "2180000": "Elementos de transporte",
    "2180001": "Elementos de transporte: semirremolques",
    "2600000": "Fianzas constituidas a largo plazo",
    "2806000": "Amortización acumulada de aplicaciones informáticas",
    "2811000": "Amortización acumulada de construcciones",
    "2813000": "Amortización acumulada de maquinaria",
    "2815000": "Amortización acumulada de otras instalaciones",
    "2816000": "Amortización acumulada de mobiliario",
    "2817000": "Amortización acumulada de equipos para procesos de información",
    "2818000": "Amortización acumulada de elementos de transporte",
    "2818001": "Amortización acumulada de semirremolques",
    "3000000": "Mercaderías",
    "4600000": "Anticipos de remuneraciones",
    "4650000": "Remuneraciones pendientes de pago",
    "4700000": "Hacienda Pública, deudora por IVA",
    "4709000": "Hacienda Pública, deudora por devolución de impuestos",
    "4720000": "Hacienda Pública, IVA soportado",
    "4730000": "Hacienda Pública, retenciones y pagos a cuenta",
    "4750000": "Hacienda Pública, acreedora por IVA",
    "4751000": "Hacienda Pública, acreedora por retenciones practicadas (trabajo y profesionales)",
    "4751100": "Hacienda Pública, acreedora por retenciones practicadas (arrendamientos)",
    "4752000": "Hacienda Pública, acreedora por impuesto sobre sociedades",
    "4760000": "Organismos de la Seguridad Social, acreedores",
    "4770000": "Hacienda Pública, IVA repercutido",
    "5260000": "Dividendo activo a pagar",
    "5500000": "Titular de la explotación",
    "5700000": "Caja, euros",
    "6000000": "Compras de mercaderías",
    "6000001": "Compras de carnes",
    "6000002": "Compras de pescados y mariscos",
    "6000003": "Compras de frutas y verduras",
    "6000004": "Compras de pan",
    "6000005": "Compras de bebidas",
    "6000006": "Compras de lácteos y café",
    "6070000": "Trabajos realizados por otras empresas",
    "6100000": "Variación de existencias de mercaderías",
    "6210000": "Arrendamientos y cánones",
    "6220000": "Reparaciones y conservación",
    "6220001": "Reparaciones y conservación: neumáticos",
    "6230000": "Servicios de profesionales independientes",
    "6230001": "Servicios de gestoría de transporte",
    "6240000": "Transportes",
    "6250000": "Primas de seguros",
    "6260000": "Servicios bancarios y similares",
    "6270000": "Publicidad, propaganda y relaciones públicas",
    "6280000": "Suministros",
    "6280001": "Suministros: combustible",
    "6290000": "Otros servicios",
    "6290001": "Otros servicios: desplazamientos, peajes y comunicaciones",
    "6290002": "Cuotas de colegios profesionales",
    "6300000": "Impuesto corriente",
    "6310000": "Otros tributos",
    "6400000": "Sueldos y salarios",
    "6420000": "Seguridad Social a cargo de la empresa",
    "6620000": "Intereses de deudas",
    "6800000": "Amortización del inmovilizado intangible",
    "6810000": "Amortización del inmovilizado material",
    "7000000": "Ventas de mercaderías",
}
CATEGORIES = ("fiscal", "laboral", "contable", "societario", "otros")
RESPONSIBLE = {"Fiscal": 1, "Contable / mercantil": 0, "Laboral": 2, "Notificaciones": 1, "Subvenciones": 3}


def write_company(books: Books, folder: Path, seed: int) -> None:
    """Every file of one company folder."""
    folder.mkdir(parents=True, exist_ok=True)
    company = books.company
    write_empresa(folder, company, books.until)
    rows = journal_rows(books, Random(f"{seed}:{company.code}:order"))
    write_journal(folder, rows, JOURNAL_FORMATS[company.journal_format])
    if company.with_chart:
        names = account_names(company)
        used = sorted({row[2] for row in rows})
        write_table(folder / "plan_cuentas.csv", ("cuenta", "descripcion"), [(a, names[a]) for a in used])
    write_taxes(folder / "impuestos", books)
    write_vat_books(folder / "impuestos" / "libros", books)
    write_labour(folder / "laboral", books)
    write_treasury(folder / "tesoreria", books)
    write_invoices(folder / "facturas", books)
    rng = Random(f"{seed}:{company.code}:cases")
    write_cases(folder / "expedientes", books, rng)
    write_documents(folder / "documentos", books)


def write_empresa(folder: Path, company: Company, until: date) -> None:
    """empresa.json: identity, chart model, fiscal years and bank accounts."""
    data = {
        "nombre": company.name,
        "nif": company.nif,
        "modelo_pgc": company.model,
        "inicio_ejercicio": "01-01",
        "ejercicios": list(range(FIRST_YEAR, until.year + 1)),
        "forma_juridica": "Empresario individual" if company.is_person else company.form,
        "actividad": company.activity,
        "domicilio": company.address,
        "cuentas_bancarias": [{"cuenta": b.account, "iban": b.iban, "banco": b.name} for b in company.banks],
    }
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    (folder / "empresa.json").write_text(text, encoding="utf-8")


def journal_rows(books: Books, rng: Random) -> list[JournalRow]:
    """Every journal line in entry order; the lines of about 3 % of the entries are shuffled."""
    rows: list[JournalRow] = []
    for entry in books.ledger.entries:
        lines = list(entry.lines)
        if len(lines) >= 3 and rng.random() < 0.03:
            rng.shuffle(lines)
        for line in lines:
            rows.append((entry.day, entry.number, line.account, line.concept, line.debit, line.credit, entry.kind))
    return rows


def account_names(company: Company) -> dict[str, str]:
    """Description of every account the company can use."""
    names = dict(ACCOUNT_NAMES)
    for sales in company.sales:
        names.setdefault(sales.account, sales.label)
    names.setdefault("7050000", "Prestaciones de servicios")
    parties = [*company.customers, FIRM_PARTY]
    parties += [e.party for e in company.expenses if e.party is not None]
    parties += [a.supplier for a in company.assets if a.supplier is not None]
    names.update({p.account: p.name for p in parties})
    names.update({b.account: f"{b.name}, c/c {b.iban[-4:]}" for b in company.banks})
    for loan in company.loans:
        names[loan.long_account] = f"{loan.label} (largo plazo)"
        names[loan.short_account] = f"{loan.label} (corto plazo)"
    return names


# --- impuestos ------------------------------------------------------------------------------------------------


def box_text(modelo: str, box: str, value: int) -> str:
    """A box value: counts as integers, money with two decimals."""
    return str(value) if (modelo, box) in COUNT_BOXES else money(value)


def write_taxes(folder: Path, books: Books) -> None:
    """presentaciones.csv, casillas.csv, one receipt PDF per return presented and some AEAT files."""
    filings = sorted(books.filings, key=lambda f: (f.filed, f.modelo, f.period))
    write_table(
        folder / "presentaciones.csv",
        tax_reader.COLUMNS[tax_reader.FILINGS],
        [
            (f.modelo, f.year, f.period, day_text(f.filed), f.result_type, money(f.amount), f.receipt, f.code)
            for f in filings
        ],
    )
    write_table(
        folder / "casillas.csv",
        tax_reader.COLUMNS[tax_reader.BOXES],
        [
            (f.modelo, f.year, f.period, box, BOX_LABELS[f.modelo][box], box_text(f.modelo, box, value))
            for f in filings
            for box, value in f.boxes
        ],
    )
    company = books.company
    for f in filings:
        write_pdf(
            folder / "justificantes" / f"{f.receipt}.pdf",
            f"Justificante de presentación - Modelo {f.modelo}",
            ("Agencia Estatal de Administración Tributaria", "Sede electrónica - Presentación de declaraciones"),
            (
                ("Modelo", f.modelo),
                ("Ejercicio / periodo", f"{f.year} / {f.period}"),
                ("NIF / Razón social", f"{company.nif} / {company.name}"),
                ("Fecha de presentación", day_text(f.filed)),
                ("Resultado", f"{f.result_type} - {money(f.amount)} EUR"),
                ("Número de justificante", f.receipt),
                ("Código seguro de verificación", f.code),
                ("Presentado por", f"{FIRM.name} ({FIRM.nif}), colaborador social"),
            ),
            [("Casilla", "Descripción", "Importe")]
            + [(box, BOX_LABELS[f.modelo][box], box_text(f.modelo, box, v)) for box, v in f.boxes],
            (9, 68, 16),
            footer="Documento generado para la demostración del Portal del Cliente. Sin validez legal.",
        )
    write_aeat_files(folder, filings, company)


# --- laboral ---------------------------------------------------------------------------------------------------


def write_labour(folder: Path, books: Books) -> None:
    """empleados.csv, nominas.csv and bajas.csv."""
    company, until = books.company, books.until
    people = [e for e in company.employees if e.start <= until]
    write_table(
        folder / "empleados.csv",
        labour_reader.COLUMNS[labour_reader.EMPLOYEES],
        [
            (
                e.nif,
                e.naf,
                e.name.strip(),
                day_text(e.start),
                day_text(e.end if e.end and e.end <= until else None),
                e.reason if e.end and e.end <= until else "",
                e.contract,
                CONTRACT_NAMES[e.contract],
                e.category,
                e.group,
                e.jornada,
                day_text(e.planned_end),
            )
            for e in sorted(people, key=lambda e: (e.start, e.nif))
        ],
    )
    write_table(
        folder / "nominas.csv",
        labour_reader.COLUMNS[labour_reader.PAYROLL],
        [
            (
                s.year,
                s.month,
                s.employee.nif,
                s.employee.name.strip(),
                s.days,
                money(s.gross),
                money(s.base),
                money(s.ss_worker),
                money(int(s.irpf_rate * 100)),
                money(s.irpf),
                money(s.other),
                money(s.net),
                money(s.ss_employer),
                money(s.cost),
            )
            for s in books.payslips
        ],
    )
    write_table(
        folder / "bajas.csv",
        labour_reader.COLUMNS[labour_reader.LEAVE],
        [
            (e.nif, e.name.strip(), kind, day_text(start), day_text(end), (end - start).days + 1 if end else "")
            for e, kind, start, end in books.sick_leaves
        ],
    )


# --- tesorería -------------------------------------------------------------------------------------------------

CAMT053_BANKS = {("mediterraneo", "5720002")}  # (company, 572 sub-account) whose statements are camt.053, not Norma 43


def write_treasury(folder: Path, books: Books) -> None:
    """efectos.csv (cartera de cobros y pagos) and one Norma 43 file per bank account and year (camt.053 for the
    accounts of CAMT053_BANKS: <IBAN>_<año>.xml, one Stmt per month)."""
    until = books.until
    write_table(
        folder / "efectos.csv",
        treasury_reader.COLUMNS,
        [
            (
                e.number,
                e.kind,
                e.party.name,
                e.party.nif,
                e.party.account,
                e.document,
                day_text(e.issued),
                day_text(e.due),
                money(e.amount),
                e.method,
                e.state(until),
                day_text(e.settled),
            )
            for e in sorted(books.efectos, key=lambda e: (e.issued, e.number))
        ],
    )
    for bank in books.company.banks:
        for year, (opening, movements) in bank_years(books, bank.account).items():
            end = min(date(year, 12, 31), until)
            write = camt053_statement if (books.company.code, bank.account) in CAMT053_BANKS else n43_statement
            data = write(bank.iban, books.company.name, date(year, 1, 1), end, opening, movements)
            path = folder / f"{bank.iban}_{year}.{'xml' if write is camt053_statement else 'n43'}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def bank_years(books: Books, account: str) -> dict[int, tuple[int, list[BankMovement]]]:
    """Per year: the opening balance of a bank account and its movements (every non-closing journal line)."""
    years: dict[int, tuple[int, list[BankMovement]]] = {}
    balance = 0
    for entry in books.ledger.entries:
        year = entry.day.year
        if year not in years:
            years[year] = (balance, [])
        for line in entry.lines:
            if line.account != account:
                continue
            if entry.kind == "apertura" and year == FIRST_YEAR:
                balance += line.debit - line.credit
                years[year] = (balance, years[year][1])
            elif entry.kind == "normal":
                amount = line.debit - line.credit
                balance += amount
                movements = years[year][1]
                movements.append(BankMovement(entry.day, amount, entry.n43, line.concept, len(movements) + 1))
    return years


# --- facturas del despacho -------------------------------------------------------------------------------------


def write_invoices(folder: Path, books: Books) -> None:
    """facturas.csv, lineas.csv and one PDF per invoice of the firm to the client."""
    until, company = books.until, books.company
    invoices = books.firm_invoices
    write_table(
        folder / "facturas.csv",
        invoice_reader.INVOICE_COLUMNS,
        [
            (
                i.number,
                day_text(i.day),
                f"Honorarios profesionales {i.day:%m/%Y}",
                money(i.base),
                money(int(VAT_RATE * 100)),
                money(i.vat),
                money(int(IRPF_RATE * 100)),
                money(i.irpf),
                money(i.total),
                day_text(i.due),
                i.method,
                day_text(i.paid if i.paid <= until else None),
            )
            for i in invoices
        ],
    )
    write_table(
        folder / "lineas.csv",
        invoice_reader.LINE_COLUMNS,
        [
            (i.number, n, text, quantity, money(price), money(quantity * price))
            for i in invoices
            for n, (text, quantity, price) in enumerate(i.lines, start=1)
        ],
    )
    for i in invoices:
        lines = [(text, str(q), money(p), money(q * p)) for text, q, p in i.lines]
        totals = [
            ("", "", "Base imponible", money(i.base)),
            ("", "", "IVA 21 %", money(i.vat)),
            ("", "", "Retención IRPF 15 %", "-" + money(i.irpf)),
            ("", "", "Total a pagar", money(i.total)),
        ]
        write_pdf(
            folder / "pdf" / f"{i.number}.pdf",
            f"Factura {i.number}",
            (FIRM.name, f"NIF {FIRM.nif}", FIRM.address),
            (
                ("Fecha", day_text(i.day)),
                ("Cliente", company.name),
                ("NIF", company.nif),
                ("Domicilio", company.address),
                ("Vencimiento", day_text(i.due)),
                ("Forma de pago", i.method + ("" if i.method != "transferencia" else f" a {FIRM.iban}")),
            ),
            [("Descripción", "Cantidad", "Precio", "Importe"), *lines, *totals],
            (58, 10, 12, 14),
            footer="Sociedad civil profesional en régimen de atribución de rentas: factura sujeta a retención de IRPF.",
        )


# --- expedientes --------------------------------------------------------------------------------------------------

# Case-file templates: type, title, and the steps (day offset, state or "", kind, text, shared).
CASE_TEMPLATES = {
    "cierre": (
        "Contable / mercantil",
        "Cierre contable y cuentas anuales {year}",
        (
            (0, "abierto", "hito", "Apertura del expediente de cierre del ejercicio {year}", "s"),
            (3, "pendiente_documentacion_cliente", "hito", "Solicitud al cliente de inventario y extractos", "s"),
            (24, "en_tramite", "hito", "Documentación recibida completa", "s"),
            (30, "", "nota", "Revisar amortizaciones y periodificaciones antes de formular", "n"),
            (70, "", "plazo", "Formulación de cuentas: vence el 31/03/{next}", "s"),
            (75, "presentado", "hito", "Cuentas anuales formuladas y firmadas por el órgano de administración", "s"),
            (160, "", "hito", "Junta general ordinaria: aprobación de las cuentas", "s"),
            (190, "cerrado", "hito", "Depósito de cuentas en el Registro Mercantil inscrito", "s"),
        ),
    ),
    "libros": (
        "Contable / mercantil",
        "Legalización de libros del ejercicio {year}",
        (
            (20, "abierto", "hito", "Preparación de los libros para su legalización", "s"),
            (60, "presentado", "hito", "Libros presentados telemáticamente en el Registro Mercantil", "s"),
            (75, "cerrado", "hito", "Certificado de legalización recibido", "s"),
        ),
    ),
    "requerimiento": (
        "Fiscal",
        "Requerimiento AEAT: justificación de gastos del IVA {year}",
        (
            (0, "abierto", "hito", "Notificación recibida en la DEHú: requerimiento de información", "s"),
            (
                2,
                "pendiente_documentacion_cliente",
                "hito",
                "Solicitamos copia de las facturas recibidas del periodo",
                "s",
            ),
            (4, "", "plazo", "Plazo de contestación: 10 días hábiles", "s"),
            (9, "en_tramite", "hito", "Facturas recibidas; preparando la contestación", "s"),
            (11, "", "nota", "Ojo: dos facturas sin NIF del proveedor, pedir duplicado", "n"),
            (13, "presentado", "hito", "Contestación presentada por registro electrónico", "s"),
            (13, "pendiente_resolucion", "hito", "Pendiente de resolución de la AEAT", "s"),
            (58, "resuelto_favorable", "hito", "La AEAT archiva el procedimiento sin regularización", "s"),
            (60, "cerrado", "hito", "Expediente cerrado", "s"),
        ),
    ),
    "contratacion": (
        "Laboral",
        "Contratación de {name}",
        (
            (-12, "abierto", "hito", "Solicitud de alta recibida del cliente", "s"),
            (-10, "pendiente_documentacion_cliente", "hito", "Pendiente: DNI/NIE, número de afiliación y cuenta", "s"),
            (-4, "en_tramite", "hito", "Documentación recibida", "s"),
            (-2, "presentado", "hito", "Alta en Seguridad Social (Sistema RED) y contrato comunicado a Contrat@", "s"),
            (-1, "", "nota", "Aplicar convenio provincial, revisar categoría", "n"),
            (5, "cerrado", "hito", "Contrato firmado y archivado", "s"),
        ),
    ),
    "baja": (
        "Laboral",
        "Baja y finiquito de {name}",
        (
            (-15, "abierto", "hito", "Comunicación de la baja por el cliente", "s"),
            (0, "en_tramite", "hito", "Cálculo del finiquito y liquidación de vacaciones", "s"),
            (2, "presentado", "hito", "Baja en Seguridad Social y certificado de empresa (Certific@2)", "s"),
            (10, "cerrado", "hito", "Finiquito firmado", "s"),
        ),
    ),
    "renta": (
        "Fiscal",
        "Declaración de la renta {year} de la titular",
        (
            (95, "abierto", "hito", "Inicio de la campaña de renta {year}", "s"),
            (100, "pendiente_documentacion_cliente", "hito", "Solicitud de certificados bancarios y donativos", "s"),
            (130, "en_tramite", "hito", "Borrador revisado con los rendimientos de la actividad", "s"),
            (150, "presentado", "hito", "Declaración presentada (modelo 100)", "s"),
            (152, "cerrado", "hito", "Expediente cerrado", "s"),
        ),
    ),
    "kitdigital": (
        "Subvenciones",
        "Solicitud de ayuda Kit Digital",
        (
            (0, "abierto", "hito", "Valoración de la convocatoria Kit Digital para el cliente", "s"),
            (10, "en_tramite", "hito", "Test de diagnóstico digital completado", "s"),
            (12, "", "nota", "Agente digitalizador propuesto por el cliente, comprobar adhesión", "n"),
            (25, "presentado", "hito", "Solicitud presentada en la sede de Red.es", "s"),
            (25, "pendiente_resolucion", "hito", "Pendiente de resolución", "s"),
        ),
    ),
}


def case_plan(books: Books) -> list[tuple[str, date, dict[str, str]]]:
    """Which case files a company has: (template, start date, text fields)."""
    company, until = books.company, books.until
    plan: list[tuple[str, date, dict[str, str]]] = []
    for year in range(FIRST_YEAR - 1, until.year):
        fields = {"year": str(year), "next": str(year + 1)}
        if company.is_person:
            plan.append(("renta", date(year + 1, 1, 1), fields))
        else:
            plan.append(("cierre", date(year + 1, 1, 15), fields))
            plan.append(("libros", date(year + 1, 1, 10), fields))
    for employee in company.employees:
        name = {"name": employee.name.strip()}
        if employee.start.year >= FIRST_YEAR:
            plan.append(("contratacion", employee.start, name))
        if employee.end and employee.end.year >= FIRST_YEAR:
            plan.append(("baja", employee.end, name))
    plan.append(("requerimiento", date(2025, 3, 4), {"year": "2024"}))
    if company.code in ("labrasa", "levante"):
        plan.append(("kitdigital", date(2026, 9, 14), {}))
    return sorted((p for p in plan if p[1] + timedelta(days=CASE_TEMPLATES[p[0]][2][0][0]) <= until), key=_case_key)


def _case_key(item: tuple[str, date, dict[str, str]]) -> tuple[date, str]:
    return item[1] + timedelta(days=CASE_TEMPLATES[item[0]][2][0][0]), item[0]


def write_cases(folder: Path, books: Books, rng: Random) -> None:
    """expedientes.csv and hitos.csv; states and milestones are those reached by the cut-off date."""
    until = books.until
    cases, milestones = [], []
    counters: dict[int, int] = defaultdict(int)
    for template, start, fields in case_plan(books):
        kind, title, steps = CASE_TEMPLATES[template]
        reached = [(start + timedelta(days=o), state, k, text, shared) for o, state, k, text, shared in steps]
        reached = [step for step in reached if step[0] <= until]
        opened = reached[0][0]
        counters[opened.year] += 1
        code = f"EXP-{opened.year}-{counters[opened.year]:03d}"
        states = [step for step in reached if step[1]]
        state = states[-1][1]
        closed = states[-1][0] if state == "cerrado" else None
        responsible = FIRM.staff[RESPONSIBLE[kind]]
        shared = "n" if rng.random() < 0.1 else "s"
        cases.append(
            (code, kind, title.format(**fields), day_text(opened), day_text(closed), state, responsible, shared)
        )
        for day, step_state, step_kind, text, step_shared in reached:
            milestones.append((code, day_text(day), step_kind, step_state, text.format(**fields), step_shared))
    write_table(
        folder / "expedientes.csv",
        case_reader.CASE_COLUMNS,
        cases,
    )
    write_table(folder / "hitos.csv", case_reader.EVENT_COLUMNS, milestones)


# --- documentos ---------------------------------------------------------------------------------------------------


def slug(text: str) -> str:
    """File-name form of a title: ascii, lower case, dashes."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def document_plan(books: Books) -> list[tuple[str, str, date, str]]:
    """(category, title, date, body) of every document shared with the company up to the cut-off date."""
    company, until = books.company, books.until
    docs: list[tuple[str, str, date, str]] = []
    for year in range(FIRST_YEAR, until.year + 1):
        docs.append(
            (
                "fiscal",
                f"Certificado de estar al corriente de obligaciones tributarias {year}",
                date(year, 3, 8),
                "La AEAT certifica que el obligado tributario está al corriente de sus obligaciones tributarias.",
            )
        )
        docs.append(
            (
                "laboral",
                f"Certificado de estar al corriente con la Seguridad Social {year}",
                date(year, 3, 9),
                "La TGSS certifica que la empresa no tiene deudas con la Seguridad Social.",
            )
        )
        if company.employees:
            docs.append(
                (
                    "laboral",
                    f"Calendario laboral {year}",
                    date(year, 1, 12),
                    "Calendario laboral del centro de trabajo con las fiestas nacionales, autonómicas y locales.",
                )
            )
        docs.append(
            (
                "otros",
                f"Póliza de seguro {year}",
                date(year, 1, 20),
                "Condiciones particulares de la póliza de seguro de la actividad.",
            )
        )
        if year < until.year:
            docs.append(
                (
                    "contable",
                    f"Balance de sumas y saldos a 31-12-{year}",
                    date(year + 1, 2, 15),
                    "Balance de comprobación de sumas y saldos al cierre del ejercicio.",
                )
            )
            if company.is_person:
                docs.append(
                    (
                        "contable",
                        f"Libro registro de ingresos y gastos {year}",
                        date(year + 1, 1, 25),
                        "Libros registro de la actividad económica (estimación directa).",
                    )
                )
            else:
                docs.append(
                    (
                        "contable",
                        f"Cuentas anuales {year}",
                        date(year + 1, 3, 28),
                        "Cuentas anuales formuladas por el órgano de administración.",
                    )
                )
                docs.append(
                    (
                        "societario",
                        f"Acta de la junta general ordinaria {year}",
                        date(year + 1, 6, 30),
                        "La junta aprueba las cuentas anuales y la aplicación del resultado.",
                    )
                )
                docs.append(
                    (
                        "contable",
                        f"Libro diario {year} legalizado",
                        date(year + 1, 4, 20),
                        "Certificado de legalización de libros del Registro Mercantil.",
                    )
                )
    for employee in company.employees:
        if employee.start.year >= FIRST_YEAR:
            docs.append(
                (
                    "laboral",
                    f"Contrato de trabajo {employee.name.strip()}",
                    employee.start,
                    f"Contrato {employee.contract}: {CONTRACT_NAMES[employee.contract]}.",
                )
            )
    if company.is_person:
        docs.append(
            (
                "fiscal",
                "Declaración censal de alta (modelo 036)",
                date(2016, 2, 1),
                "Alta en el censo de empresarios y profesionales.",
            )
        )
    else:
        docs.append(
            (
                "societario",
                "Escritura de constitución",
                date(2012, 5, 14),
                "Escritura pública de constitución de la sociedad y estatutos sociales.",
            )
        )
        docs.append(
            (
                "societario",
                "Certificado de titularidad real",
                date(2025, 7, 10),
                "Declaración de titularidad real presentada con el depósito de cuentas.",
            )
        )
    docs.append(
        (
            "fiscal",
            "Notificación AEAT: requerimiento de información IVA 2024",
            date(2025, 3, 4),
            "Requerimiento de justificación de las cuotas de IVA soportado deducidas.",
        )
    )
    return sorted((d for d in docs if d[2] <= until), key=lambda d: (d[2], d[0], d[1]))


def write_documents(folder: Path, books: Books) -> None:
    """documentos/<categoria>/<año>/<nombre>.pdf and documentos/indice.csv."""
    company = books.company
    index = []
    for category, title, day, body in document_plan(books):
        relative = f"{category}/{day.year}/{slug(title)}.pdf"
        fields = [("Empresa", f"{company.name} ({company.nif})"), ("Fecha", day_text(day)), ("Contenido", body)]
        table: list[tuple[str, ...]] = []
        if title.startswith("Cuentas anuales"):
            table = annual_summary(books, int(title[-4:]))
        write_pdf(
            folder / relative,
            title,
            (FIRM.name, "Documento compartido a través del Portal del Cliente"),
            fields,
            table,
            (40, 16) if table else (),
            footer="Copia para el cliente generada por el despacho de demostración.",
        )
        index.append((title, category, day_text(day), relative))
    write_table(folder / "indice.csv", document_reader.COLUMNS, index)


def annual_summary(books: Books, year: int) -> list[tuple[str, ...]]:
    """Income, expenses and result of a closed year (before regularización), for the annual accounts PDF."""
    income = expenses = 0
    for entry in books.ledger.entries:
        if entry.day.year != year or entry.kind != "normal":
            continue
        for line in entry.lines:
            if line.account[0] == "7":
                income += line.credit - line.debit
            elif line.account[0] == "6":
                expenses += line.debit - line.credit
    return [
        ("Cuenta de pérdidas y ganancias", "Importe EUR"),
        ("Ingresos (grupo 7)", money(income)),
        ("Gastos (grupo 6)", money(expenses)),
        ("Resultado del ejercicio", money(income - expenses)),
    ]
