"""The demo firm generator: determinism, identifiers, and the accounting facts every export must satisfy."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from csb43.aeb43 import read_batch
from csb43.aeb43.record.context import Aeb43Context
from openpyxl import load_workbook
from schwifty import IBAN
from stdnum.es import nif as es_nif

from etl.demo import generate
from etl.demo.model import cents
from etl.demo.modules import CAMT053_BANKS

UNTIL = date(2026, 3, 15)
BIG_LINES = 20_000
COMPANIES = ["levante", "norte", "labrasa", "mgarcia", "mediterraneo"]  # the companies that export a journal
TRIAL_BALANCE_ONLY = ["olivo"]  # sumas y saldos workbooks, no journal (tests/test_trial_balance_input.py)
PACKAGES = ["ebro", "duero"]  # ContaPlus and a3ECO journals (tests/test_journal_packages.py)
CLOSED_YEARS = [2023, 2024, 2025]
PENDING = {"pendiente", "remesado", "impagado", "devuelto"}
AMOUNT_COMMA = re.compile(r"^\d{1,3}(\.\d{3})*,\d{2}$|^\d+,\d{2}$")
AMOUNT_POINT = re.compile(r"^\d+\.\d{2}$")
KINDS = {"N": "normal", "A": "apertura", "R": "regularizacion", "C": "cierre"}
KINDS |= {v: v for v in KINDS.values()}


@dataclass(frozen=True)
class Row:
    """One journal line as parsed by the test's own reader."""

    day: date
    number: int
    account: str
    concept: str
    debit: int
    credit: int
    kind: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("demo")
    messages: list[str] = []
    codes = generate(dest, until=UNTIL, big_lines=BIG_LINES, progress=messages.append)
    assert codes == [*COMPANIES, *TRIAL_BALANCE_ONLY, *PACKAGES, "grancorp"]
    assert len(messages) == 9
    return dest


@pytest.fixture(scope="module")
def journals(demo: Path) -> dict[str, list[Row]]:
    return {code: read_journal(demo / code, code) for code in COMPANIES}


# --- an independent reader of the five journal formats ----------------------------------------------------------


def money_cents(text: str, decimal: str) -> int:
    pattern = AMOUNT_COMMA if decimal == "," else AMOUNT_POINT
    assert pattern.match(text), f"amount not written with two decimals: {text!r}"
    plain = text.replace(".", "").replace(",", ".") if decimal == "," else text
    return int(Decimal(plain) * 100)


def kind_of(concept: str, tipo: str | None) -> str:
    if tipo is not None:
        return KINDS[tipo]
    for prefix, kind in (("Asiento de apertura", "apertura"), ("Regularización del", "regularizacion")):
        if concept.startswith(prefix):
            return kind
    return "cierre" if concept.startswith("Asiento de cierre") else "normal"


def read_csv_journal(path: Path, encoding: str, delimiter: str, decimal: str, iso: bool) -> list[Row]:
    raw = path.read_bytes()
    text = raw.decode(encoding)
    with path.open(encoding=encoding, newline="") as fh:
        records = list(csv.reader(fh, delimiter=delimiter))
    header, body = records[0], records[1:]
    assert len(header) in (6, 7)
    rows = []
    for record in body:
        day = date.fromisoformat(record[0]) if iso else datetime.strptime(record[0], "%d/%m/%Y").date()
        tipo = record[6] if len(header) == 7 else None
        debit, credit = money_cents(record[4], decimal), money_cents(record[5], decimal)
        rows.append(Row(day, int(record[1]), record[2], record[3], debit, credit, kind_of(record[3], tipo)))
    assert text  # decodes in its declared encoding
    return rows


def read_xlsx_journal(path: Path) -> list[Row]:
    book = load_workbook(path, read_only=True, data_only=True)
    values = list(book.worksheets[0].iter_rows(values_only=True))
    assert values[0] == ("fecha", "asiento", "cuenta", "concepto", "debe", "haber", "tipo")
    rows = []
    for day, number, account, concept, debit, credit, tipo in values[1:]:
        assert isinstance(day, datetime) and isinstance(number, int) and isinstance(debit, (int, float))
        rows.append(
            Row(day.date(), number, account, concept, cents(str(debit)), cents(str(credit)), kind_of(concept, tipo))
        )
    return rows


def read_journal(folder: Path, code: str) -> list[Row]:
    if code == "levante":
        raw = (folder / "diario.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b";tipo\r\n" in raw[:80]
        return read_csv_journal(folder / "diario.csv", "utf-8-sig", ";", ",", iso=False)
    if code == "norte":
        files = sorted(folder.glob("diario_*.csv"))
        assert [f.name for f in files] == [f"diario_{y}.csv" for y in (*CLOSED_YEARS, UNTIL.year)]
        raw = b"".join(f.read_bytes() for f in files)
        assert b"\x80" in raw and "ñ".encode("cp1252") in raw  # € and ñ in Windows-1252
        assert b"tipo" not in raw[:60]
        return [row for f in files for row in read_csv_journal(f, "cp1252", ";", ",", iso=False)]
    if code == "labrasa":
        return read_xlsx_journal(folder / "diario.xlsx")
    if code == "mgarcia":
        raw = (folder / "diario.csv").read_bytes()
        assert raw.startswith(b"date,entry,account,description,debit,credit\n") and b"\r" not in raw
        return read_csv_journal(folder / "diario.csv", "utf-8", ",", ".", iso=True)
    raw = (folder / "diario.csv").read_bytes()
    assert raw.startswith(b"fecha\tasiento\tcuenta\tconcepto\tdebe\thaber\ttipo\n")
    return read_csv_journal(folder / "diario.csv", "utf-8", "\t", ",", iso=False)


def entries(rows: list[Row]) -> dict[tuple[int, int], list[Row]]:
    grouped: dict[tuple[int, int], list[Row]] = defaultdict(list)
    for row in rows:
        grouped[(row.day.year, row.number)].append(row)
    return dict(sorted(grouped.items()))


def read_table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def euros(text: str) -> int:
    return int(Decimal(text.replace(",", ".")) * 100)


# --- determinism and identifiers ------------------------------------------------------------------------------------


def test_the_trial_balance_company_has_only_balances(demo: Path) -> None:
    files = sorted(p.name for p in (demo / "olivo").iterdir())
    # closed years at their 31/12 (before closing), the open year at each month end up to UNTIL (15/03/2026)
    assert files == [
        "empresa.json",
        "sumas_y_saldos_2023.xlsx",
        "sumas_y_saldos_2024.xlsx",
        "sumas_y_saldos_2025.xlsx",
        "sumas_y_saldos_2026-01.xlsx",
        "sumas_y_saldos_2026-02.xlsx",
    ]


@pytest.mark.slow
def test_a_second_run_writes_identical_bytes(demo: Path, tmp_path: Path) -> None:
    generate(tmp_path, until=UNTIL, big_lines=BIG_LINES)
    first = {p.relative_to(demo): p.read_bytes() for p in demo.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
    assert len(first) > 500


def test_company_identifiers_are_valid(demo: Path) -> None:
    for code in [*COMPANIES, *TRIAL_BALANCE_ONLY, *PACKAGES, "grancorp"]:
        info = json.loads((demo / code / "empresa.json").read_text(encoding="utf-8"))
        assert es_nif.is_valid(info["nif"]), code
        assert info["ejercicios"] == [2023, 2024, 2025, 2026]
        assert info["inicio_ejercicio"] == "01-01"
        assert info["cuentas_bancarias"]
        for bank in info["cuentas_bancarias"]:
            assert IBAN(bank["iban"]).country_code == "ES"
            assert re.fullmatch(r"572\d{4}", bank["cuenta"])
    models = {code: json.loads((demo / code / "empresa.json").read_text())["modelo_pgc"] for code in COMPANIES}
    assert models["mediterraneo"] == "abreviado" and models["levante"] == "pymes"
    person = json.loads((demo / "mgarcia" / "empresa.json").read_text(encoding="utf-8"))["nif"]
    assert person[0].isdigit() and not es_nif.is_valid(person[:-1] + ("A" if person[-1] != "A" else "B"))


def test_every_third_party_and_employee_nif_is_valid(demo: Path) -> None:
    for code in COMPANIES:
        people = read_table(demo / code / "laboral" / "empleados.csv")
        parties = read_table(demo / code / "tesoreria" / "efectos.csv")
        assert all(es_nif.is_valid(p["nif"]) for p in people), code
        assert all(es_nif.is_valid(p["nif"]) for p in parties), code
        assert all(re.fullmatch(r"\d{12}", p["naf"]) and int(p["naf"][:10]) % 97 == int(p["naf"][10:]) for p in people)
    assert any(
        p["nif"][0] in "XYZ" for code in COMPANIES for p in read_table(demo / code / "laboral" / "empleados.csv")
    )


# --- the journal ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", COMPANIES)
def test_every_entry_balances_on_one_date(journals: dict[str, list[Row]], code: str) -> None:
    grouped = entries(journals[code])
    for (year, number), lines in grouped.items():
        assert sum(r.debit for r in lines) == sum(r.credit for r in lines), (code, year, number)
        assert len({r.day for r in lines}) == 1 and len({r.kind for r in lines}) == 1
        assert all((r.debit == 0) != (r.credit == 0) for r in lines), (code, year, number)
        assert all(re.fullmatch(r"\d{3,}", r.account) for r in lines)
    for year in (*CLOSED_YEARS, UNTIL.year):
        numbers = [n for y, n in grouped if y == year]
        assert numbers == list(range(1, len(numbers) + 1)), (code, year)
    assert 2_000 < len(journals[code]) < 60_000


@pytest.mark.parametrize("code", COMPANIES)
def test_year_end_entries_close_and_reopen(journals: dict[str, list[Row]], code: str) -> None:
    balances: dict[str, int] = defaultdict(int)
    closings: dict[int, list[tuple[str, int, int]]] = {}
    kinds_seen = defaultdict(list)
    for (year, _), lines in entries(journals[code]).items():
        kind = lines[0].kind
        kinds_seen[year].append(kind)
        for r in lines:
            balances[r.account] += r.debit - r.credit
        if kind == "regularizacion":
            assert all(b == 0 for a, b in balances.items() if a[0] in "67"), (code, year)
            assert lines[0].day == date(year, 12, 31)
        if kind == "cierre":
            assert all(b == 0 for b in balances.values()), (code, year)
            closings[year] = sorted((r.account, r.debit, r.credit) for r in lines)
        if kind == "apertura" and year - 1 in closings:
            assert sorted((r.account, r.credit, r.debit) for r in lines) == closings[year - 1]
    assert sorted(closings) == CLOSED_YEARS
    for year in CLOSED_YEARS:
        assert kinds_seen[year][0] == "apertura" and kinds_seen[year][-2:] == ["regularizacion", "cierre"]
    assert "cierre" not in kinds_seen[UNTIL.year] and kinds_seen[UNTIL.year][0] == "apertura"
    assert entries(journals[code])[(2023, 1)][0].kind == "apertura"


@pytest.mark.parametrize("code", ["levante", "mediterraneo", "norte"])
def test_the_chart_lists_every_journal_account(demo: Path, journals: dict[str, list[Row]], code: str) -> None:
    chart = {r["cuenta"]: r["descripcion"] for r in read_table(demo / code / "plan_cuentas.csv")}
    assert {r.account for r in journals[code]} <= set(chart)
    assert all(chart.values())


def test_the_larger_company_has_a_loan_assets_and_an_overdraft(journals: dict[str, list[Row]]) -> None:
    rows = journals["mediterraneo"]
    accounts = {r.account[:3] for r in rows}
    assert {"170", "520", "662", "681", "281", "526"} <= accounts
    before_closing = sum(
        r.debit - r.credit
        for r in rows
        if r.account == "5720002" and r.day <= date(2024, 12, 31) and r.kind != "cierre"
    )
    assert before_closing < 0
    reclass = [r for r in rows if r.concept.startswith("Reclasificación") and r.account == "1700001"]
    assert len(reclass) == 3 and all(r.debit > 0 for r in reclass)


def test_each_company_books_its_own_kind_of_business(journals: dict[str, list[Row]]) -> None:
    def accounts(code: str) -> set[str]:
        return {r.account for r in journals[code]}

    assert {"3000000", "6100000", "7000000"} <= accounts("levante")
    assert {"6210000", "4751100"} <= accounts("norte")
    assert "5700000" in accounts("labrasa") and len([r for r in journals["labrasa"] if r.account == "5700000"]) > 500
    assert {"4730000", "5500000", "1020000"} <= accounts("mgarcia") and "6300000" not in accounts("mgarcia")
    assert "6300000" in accounts("levante")
    shuffled = [
        lines for lines in entries(journals["levante"]).values() if lines[0].debit == 0 and lines[0].kind == "normal"
    ]
    assert shuffled, "some entries start with a credit line (shuffled lines)"


# --- payroll --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["levante", "norte", "labrasa", "mediterraneo"])
def test_payroll_lines_add_up_and_match_the_journal(demo: Path, journals: dict[str, list[Row]], code: str) -> None:
    slips = read_table(demo / code / "laboral" / "nominas.csv")
    assert slips
    totals: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for s in slips:
        gross, net = euros(s["bruto"]), euros(s["liquido"])
        deductions = euros(s["ss_trabajador"]) + euros(s["irpf"]) + euros(s["otras_deducciones"])
        assert gross - deductions == net
        assert euros(s["coste_empresa"]) == gross + euros(s["ss_empresa"])
        month = totals[(int(s["ejercicio"]), int(s["mes"]))]
        month["640"] += gross
        month["642"] += euros(s["ss_empresa"])
        month["476"] += euros(s["ss_trabajador"]) + euros(s["ss_empresa"])
        month["4751"] += euros(s["irpf"])
        month["465"] += net
    payroll_entries = [
        lines
        for lines in entries(journals[code]).values()
        if lines[0].kind == "normal" and any(r.account == "6400000" for r in lines)
    ]
    assert len(payroll_entries) == len(totals)
    for lines in payroll_entries:
        day = lines[0].day
        expected = totals[(day.year, day.month)]
        booked = {
            "640": sum(r.debit for r in lines if r.account == "6400000"),
            "642": sum(r.debit for r in lines if r.account == "6420000"),
            "476": sum(r.credit for r in lines if r.account == "4760000"),
            "4751": sum(r.credit for r in lines if r.account == "4751000"),
            "465": sum(r.credit for r in lines if r.account == "4650000"),
        }
        assert booked == dict(expected), day


# --- treasury -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", COMPANIES)
def test_pending_items_equal_the_customer_and_supplier_balances(
    demo: Path, journals: dict[str, list[Row]], code: str
) -> None:
    items = read_table(demo / code / "tesoreria" / "efectos.csv")
    pending = defaultdict(int)
    for item in items:
        assert item["estado"] in PENDING | {"cobrado", "pagado"}
        if item["estado"] in PENDING:
            pending[item["tipo"]] += euros(item["importe"])
        else:
            assert item["fecha_cobro_pago"]
    rows = journals[code]
    receivable = sum(r.debit - r.credit for r in rows if r.account.startswith("430"))
    payable = sum(r.credit - r.debit for r in rows if r.account[:3] in ("400", "410"))
    assert pending["cobro"] == receivable
    assert pending["pago"] == payable
    assert receivable > 0 and payable > 0


def test_the_cartera_uses_every_state_somewhere(demo: Path) -> None:
    states = {i["estado"] for code in COMPANIES for i in read_table(demo / code / "tesoreria" / "efectos.csv")}
    assert states == PENDING | {"cobrado", "pagado"}


@pytest.mark.parametrize("code", COMPANIES)
def test_norma43_files_parse_roll_forward_and_match_the_banks(
    demo: Path, journals: dict[str, list[Row]], code: str
) -> None:
    info = json.loads((demo / code / "empresa.json").read_text(encoding="utf-8"))
    rows = journals[code]
    files = sorted((demo / code / "tesoreria").glob("*.n43"))
    camt = {account for company, account in CAMT053_BANKS if company == code}  # tests/test_camt053.py checks these
    assert len(files) == 4 * len([b for b in info["cuentas_bancarias"] if b["cuenta"] not in camt])
    for bank in info["cuentas_bancarias"]:
        if bank["cuenta"] in camt:
            written = sorted(p.name for p in (demo / code / "tesoreria").glob(f"{bank['iban']}_*"))
            assert written == [f"{bank['iban']}_{year}.xml" for year in (*CLOSED_YEARS, UNTIL.year)]
            continue
        for year in (*CLOSED_YEARS, UNTIL.year):
            path = demo / code / "tesoreria" / f"{bank['iban']}_{year}.n43"
            lines = path.read_bytes().split(b"\r\n")[:-1]
            assert all(len(line) == 80 for line in lines)
            with path.open("rb") as fh:
                batch = read_batch(fh, context=Aeb43Context(strict=True))
            (account,) = batch.accounts
            assert (
                IBAN.generate(
                    "ES",
                    bank_code=account.bank_code,
                    branch_code=account.branch_code,
                    account_code=account.account_number,
                ).compact
                == bank["iban"]
            )
            opening = sum(
                r.debit - r.credit
                for r in rows
                if r.account == bank["cuenta"] and r.day.year == year and r.kind == "apertura"
            )
            moves = [
                r.debit - r.credit
                for r in rows
                if r.account == bank["cuenta"] and r.day.year == year and r.kind == "normal"
            ]
            amounts = [int(t.amount * 100) for t in account.transactions]
            assert int(account.initial_balance * 100) == opening
            assert amounts == moves
            assert int(account.summary.final_balance * 100) == opening + sum(moves)


# --- taxes ------------------------------------------------------------------------------------------------------------


def test_vat_returns_match_the_journal_except_one_documented_quarter(
    demo: Path, journals: dict[str, list[Row]]
) -> None:
    differences = []
    checked = 0
    for code in COMPANIES:
        boxes = defaultdict(dict)
        for b in read_table(demo / code / "impuestos" / "casillas.csv"):
            if b["modelo"] == "303":
                boxes[(int(b["ejercicio"]), b["periodo"])][b["casilla"]] = euros(b["importe"])
        for (year, period), box in boxes.items():
            quarter = int(period[0])

            def in_quarter(r: Row, year: int = year, quarter: int = quarter) -> bool:
                return r.kind == "normal" and r.day.year == year and (r.day.month - 1) // 3 + 1 == quarter

            output = sum(r.credit for r in journals[code] if r.account == "4770000" and in_quarter(r))
            deductible = sum(r.debit for r in journals[code] if r.account == "4720000" and in_quarter(r))
            checked += 1
            if (box["27"], box["45"]) != (output, deductible):
                differences.append((code, year, period, output - box["27"], deductible - box["45"]))
            assert box["46"] == box["27"] - box["45"]
    assert checked == 5 * 12
    assert [d[:3] for d in differences] == [("norte", 2024, "3T")]
    assert differences[0][3] > 0 and differences[0][4] == 0


@pytest.mark.parametrize("code", COMPANIES)
def test_presented_returns_have_receipts_and_boxes(demo: Path, code: str) -> None:
    folder = demo / code / "impuestos"
    filings = read_table(folder / "presentaciones.csv")
    boxes = read_table(folder / "casillas.csv")
    assert filings
    kinds = {"ingreso", "devolucion", "compensar", "sin_actividad", "domiciliacion", "informativa"}
    for f in filings:
        assert re.fullmatch(r"\d{13}", f["justificante"]) and f["justificante"].startswith(f["modelo"])
        assert re.fullmatch(r"[A-Z0-9]{16}", f["csv"])
        assert f["tipo_resultado"] in kinds
        assert datetime.strptime(f["fecha_presentacion"], "%d/%m/%Y").date() <= UNTIL
        assert (folder / "justificantes" / f"{f['justificante']}.pdf").read_bytes().startswith(b"%PDF")
    models = {f["modelo"] for f in filings}
    assert {"303", "111", "390", "190"} <= models
    assert ("130" in models) == (code == "mgarcia") and ("200" in models) == (code != "mgarcia")
    keys = {(f["modelo"], f["ejercicio"], f["periodo"]) for f in filings}
    assert {(b["modelo"], b["ejercicio"], b["periodo"]) for b in boxes} == keys
    withholding = {(f["ejercicio"], f["periodo"]): euros(f["importe"]) for f in filings if f["modelo"] == "111"}
    annual = {b["ejercicio"]: euros(b["importe"]) for b in boxes if b["modelo"] == "190" and b["casilla"] == "03"}
    for year, total in annual.items():
        assert total == sum(v for (y, _), v in withholding.items() if y == year)


# --- the firm's invoices, case files and documents ----------------------------------------------------------------


@pytest.mark.parametrize("code", COMPANIES)
def test_firm_invoices_add_up_and_are_booked_by_the_client(
    demo: Path, journals: dict[str, list[Row]], code: str
) -> None:
    folder = demo / code / "facturas"
    invoices = read_table(folder / "facturas.csv")
    lines = defaultdict(int)
    for line in read_table(folder / "lineas.csv"):
        assert int(line["cantidad"]) * euros(line["precio"]) == euros(line["importe"])
        lines[line["numero"]] += euros(line["importe"])
    booked = {(r.day, r.credit) for r in journals[code] if r.account == "4100001" and r.credit}
    for i in invoices:
        base, vat, irpf, total = (euros(i[k]) for k in ("base", "cuota_iva", "retencion_irpf", "total"))
        assert lines[i["numero"]] == base
        assert vat == (base * 21 + 50) // 100 and irpf == (base * 15 + 50) // 100
        assert total == base + vat - irpf
        assert (datetime.strptime(i["fecha"], "%d/%m/%Y").date(), total) in booked
        assert (folder / "pdf" / f"{i['numero']}.pdf").exists()
    assert len(invoices) == 38  # January 2023 to February 2026
    assert any(not i["fecha_cobro"] for i in invoices) or code != "labrasa"


def test_case_files_and_documents_are_consistent(demo: Path) -> None:
    for code in COMPANIES:
        cases = read_table(demo / code / "expedientes" / "expedientes.csv")
        milestones = read_table(demo / code / "expedientes" / "hitos.csv")
        codes = {c["codigo"] for c in cases}
        assert len(codes) == len(cases) and {m["expediente"] for m in milestones} == codes
        assert all(c["compartido"] in ("s", "n") for c in cases)
        assert all((c["estado"] == "cerrado") == bool(c["fecha_cierre"]) for c in cases)
        assert any(m["compartido"] == "n" for m in milestones)
        index = read_table(demo / code / "documentos" / "indice.csv")
        assert index
        for doc in index:
            assert doc["categoria"] in ("fiscal", "laboral", "contable", "societario", "otros")
            path = demo / code / "documentos" / doc["archivo"]
            assert path.read_bytes().startswith(b"%PDF")
            assert doc["archivo"].split("/")[1] == doc["fecha"][-4:]


# --- the very large company -----------------------------------------------------------------------------------------


def test_the_big_company_has_exactly_n_balanced_lines(demo: Path) -> None:
    folder = demo / "grancorp"
    with (folder / "diario.csv").open(encoding="utf-8", newline="") as fh:
        records = list(csv.reader(fh, delimiter=";"))
    assert records[0] == ["fecha", "asiento", "cuenta", "concepto", "debe", "haber", "tipo"]
    body = records[1:]
    assert len(body) == BIG_LINES
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    days: dict[tuple[str, str], set[str]] = defaultdict(set)
    for fecha, asiento, _account, _concept, debe, haber, tipo in body:
        key = (fecha[-4:], asiento)
        debit, credit = money_cents(debe, ","), money_cents(haber, ",")
        assert (debit == 0) != (credit == 0)
        sums[key][0] += debit
        sums[key][1] += credit
        days[key].add(fecha)
        assert tipo in ("normal", "apertura", "regularizacion", "cierre")
    assert all(d == c for d, c in sums.values())
    assert all(len(d) == 1 for d in days.values())
    accounts = {r[2] for r in body}
    assert len(accounts) > 250
    assert sum(r[6] == "cierre" for r in body) > 100
    chart = {r["cuenta"] for r in read_table(folder / "plan_cuentas.csv")}
    assert accounts <= chart
